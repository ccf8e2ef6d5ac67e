import type { FastifySchemaCompiler } from "fastify";
import type { TSchema } from "typebox";
import { Compile } from "typebox/compile";
import Format from "typebox/format";
import { type GatehouseError, validationError } from "../errors.js";

/**
 * Request validation from the route schemas, with Gatehouse's error shape: a 400
 * VALIDATION_FAILED whose `fields` name each property or parameter at fault.
 *
 * Bodies are checked as sent: no type coercion and no silent removal of unknown properties (an
 * API client that sends `"domains": "acme.com"` or a misspelt property deserves a 400 naming the
 * field). Query strings and path parameters are text, so a number or boolean there is read from
 * its exact decimal or `true`/`false` spelling, never rounded or guessed.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/i;
Format.Set("uuid", (value) => UUID.test(value));
Format.Set("date-time", (value) => DATE_TIME.test(value) && Number.isFinite(Date.parse(value)));
Format.Set("uri", (value) => URL.canParse(value));
Format.Set("email", (value) => /^[^\s@]+@[^\s@]+$/.test(value));

/** Marks a body schema a request may leave out (see `optionalBody`). */
export const OPTIONAL_BODY = "x-optional-body";

/** A body the request may leave out; when sent, it must match. */
export function optionalBody<T extends TSchema>(schema: T): T {
  return { ...schema, [OPTIONAL_BODY]: true };
}

type Part = "body" | "querystring" | "params" | "headers";

interface SchemaError {
  keyword: string;
  schemaPath: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
}

export const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const part = (httpPart ?? "body") as Part;
  const optional = (schema as { [OPTIONAL_BODY]?: boolean })[OPTIONAL_BODY] === true;
  const validate = discriminated(schema) ?? compiled(schema, part);
  return (value: unknown) => {
    if ((value === undefined || value === null) && optional) return { value };
    return validate(value);
  };
};

type Validate = (value: unknown) => { value: unknown } | { error: GatehouseError };

function compiled(schema: TSchema, part: Part): Validate {
  const check = Compile(schema);
  return (value) => {
    const input = part === "body" ? value : fromText(schema, value);
    if (check.Check(input)) return { value: input };
    return { error: toValidationError(schema, part, check.Errors(input) as SchemaError[], input) };
  };
}

/**
 * A body that is one of several objects told apart by a property (OpenAPI's `discriminator`,
 * e.g. a connection's `type`): checked against the one branch its tag names, so the errors are
 * that branch's per-field messages rather than "matches none of the alternatives".
 */
function discriminated(schema: TSchema): Validate | undefined {
  const { anyOf, discriminator } = schema as {
    anyOf?: TSchema[];
    discriminator?: { propertyName?: string };
  };
  const tag = discriminator?.propertyName;
  if (!anyOf || !tag) return undefined;
  const branches = new Map<unknown, Validate>();
  for (const branch of anyOf) {
    const constant = (branch as { properties?: Record<string, { const?: unknown }> }).properties?.[tag]
      ?.const;
    branches.set(constant, compiled(branch, "body"));
  }
  const allowed = [...branches.keys()].map((k) => JSON.stringify(k)).join(", ");
  return (value) => {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      return {
        error: validationError({ body: "Send a JSON object." }, "The request body must be a JSON object."),
      };
    }
    const branch = branches.get((value as Record<string, unknown>)[tag]);
    if (branch) return branch(value);
    return { error: validationError({ [tag]: `Must be one of ${allowed}.` }) };
  };
}

/** Query and path values arrive as text: reads numbers and booleans where the schema wants them. */
function fromText(schema: TSchema, value: unknown): unknown {
  const properties = (schema as { properties?: Record<string, { type?: unknown }> }).properties;
  if (!properties || typeof value !== "object" || value === null) return value;
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const [name, property] of Object.entries(properties)) {
    const raw = out[name];
    if (typeof raw !== "string") continue;
    if (
      (property.type === "integer" || property.type === "number") &&
      /^-?\d{1,15}(\.\d{1,15})?$/.test(raw)
    ) {
      out[name] = Number(raw);
    } else if (property.type === "boolean" && (raw === "true" || raw === "false")) {
      out[name] = raw === "true";
    }
  }
  return out;
}

const WHOLE: Record<Part, string> = {
  body: "body",
  querystring: "query",
  params: "path",
  headers: "headers",
};

/** One message per field at fault, the first error found for it. */
export function toValidationError(
  schema: TSchema,
  part: Part,
  errors: readonly SchemaError[],
  input: unknown,
): GatehouseError {
  const fields: Record<string, string> = {};
  const put = (field: string, message: string) => {
    if (!(field in fields)) fields[field] = message;
  };
  for (const error of errors) {
    const path = error.instancePath.split("/").slice(1).map(decodePointer);
    const subject = path.length === 0 ? undefined : path.join(".");
    if (error.keyword === "boolean" && error.schemaPath.endsWith("/additionalProperties")) continue;
    if (error.keyword === "required") {
      for (const name of (error.params.requiredProperties as string[] | undefined) ?? []) {
        put(
          subject ? `${subject}.${name}` : name,
          messageOf(propertySchema(schema, [...path, name]), "Required."),
        );
      }
      continue;
    }
    if (error.keyword === "additionalProperties") {
      const allowed = Object.keys(
        (resolve(schema, error.schemaPath) as { properties?: object } | undefined)?.properties ?? {},
      );
      for (const name of (error.params.additionalProperties as string[] | undefined) ?? []) {
        put(
          subject ? `${subject}.${name}` : name,
          `Unknown ${part === "body" ? "property" : "parameter"}. Allowed: ${allowed.join(", ")}.`,
        );
      }
      continue;
    }
    // A property's own message, if its schema has one, else one from the keyword.
    const field = path[0] === undefined ? WHOLE[part] : path[0];
    if (part !== "body" && Array.isArray((input as Record<string, unknown> | null)?.[field])) {
      put(field, "Give this parameter once.");
      continue;
    }
    const own = propertySchema(schema, path.slice(0, 1));
    put(field, messageOf(own, describe(error, part, path.length === 0)));
  }
  if (Object.keys(fields).length === 0) put(WHOLE[part], "Invalid.");
  const message =
    part === "body" && "body" in fields && Object.keys(fields).length === 1
      ? "The request body must be a JSON object."
      : "Some fields need attention.";
  return validationError(fields, message);
}

function messageOf(schema: unknown, fallback: string): string {
  const own = (schema as { errorMessage?: unknown } | undefined)?.errorMessage;
  return typeof own === "string" ? own : fallback;
}

function describe(error: SchemaError, part: Part, whole: boolean): string {
  if (whole) return part === "body" ? "Send a JSON object." : "Invalid.";
  switch (error.keyword) {
    case "type":
      return `Must be ${article(String(error.params.type))}.`;
    case "const":
    case "enum":
    case "anyOf":
      return "Not one of the allowed values.";
    case "minLength":
      return "Must not be empty.";
    case "maxLength":
      return `At most ${String(error.params.limit)} characters.`;
    case "minItems":
      return `At least ${String(error.params.limit)}.`;
    case "maxItems":
      return `At most ${String(error.params.limit)}.`;
    case "minimum":
    case "maximum":
      return "Out of range.";
    case "format":
      return `Must be ${article(String(error.params.format))}.`;
    default:
      return error.message ? `${error.message[0]?.toUpperCase()}${error.message.slice(1)}.` : "Invalid.";
  }
}

function article(type: string): string {
  const words: Record<string, string> = {
    string: "a string",
    integer: "a whole number",
    number: "a number",
    boolean: "true or false",
    array: "an array",
    object: "an object",
    null: "null",
    uuid: "a UUID",
    "date-time": "an ISO 8601 time with a time zone, such as 2025-01-31T12:00:00Z",
    uri: "an absolute URL",
    email: "an email address",
  };
  return words[type] ?? type;
}

function decodePointer(segment: string): string {
  return segment.replaceAll("~1", "/").replaceAll("~0", "~");
}

/** The schema of a property path, through objects' properties and arrays' items. */
function propertySchema(schema: unknown, path: readonly string[]): unknown {
  let node = schema as Record<string, unknown> | undefined;
  for (const segment of path) {
    if (!node) return undefined;
    const properties = node.properties as Record<string, Record<string, unknown>> | undefined;
    if (properties?.[segment]) node = properties[segment];
    else if (node.items && /^\d+$/.test(segment)) node = node.items as Record<string, unknown>;
    else return undefined;
  }
  return node;
}

/** The subschema a JSON pointer such as `#/properties/name` designates. */
function resolve(schema: unknown, pointer: string): unknown {
  let node = schema as Record<string, unknown> | undefined;
  for (const segment of pointer.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodePointer)) {
    if (node === undefined) return undefined;
    node = node[segment] as Record<string, unknown> | undefined;
  }
  return node;
}
