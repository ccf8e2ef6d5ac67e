import { type Static, type TSchema, Type } from "typebox";

/**
 * The JSON API's shapes, written once: Fastify validates requests and serializes answers with
 * them, and @fastify/swagger turns them into the OpenAPI document. A schema with a `title` is a
 * named component of that document (see openapi.ts); answers carry only the properties their
 * schema lists, so a field added to a row never reaches a client by accident.
 */

export const Uuid = Type.String({ format: "uuid" });
export const IsoTime = Type.String({ format: "date-time" });
/** A string from a fixed list (an `enum`, which serializes as a plain string). */
export const StringEnum = <T extends string>(values: readonly T[], options: Record<string, unknown> = {}) =>
  Type.Unsafe<T>({ type: "string", enum: [...values], ...options });
/**
 * The schema's values or null. A schema of one type becomes `type: [<type>, "null"]`, which
 * fast-json-stringify serializes after a `typeof` check; an `anyOf` makes it run Ajv on the
 * value first, for every such field of every answer. A named component (`title`) stays an
 * `anyOf`, so that the OpenAPI document still refers to it by name.
 */
export const Nullable = <T extends TSchema>(schema: T) => {
  const { type, title, enum: values } = schema as { type?: unknown; title?: unknown; enum?: unknown };
  if (typeof type !== "string" || title !== undefined) return Type.Union([schema, Type.Null()]);
  return Type.Unsafe<Static<T> | null>({
    ...schema,
    type: [type, "null"],
    ...(Array.isArray(values) ? { enum: [...values, null] } : {}),
  });
};

export const ErrorBody = Type.Object(
  {
    code: Type.String({ description: "Stable, machine-readable", examples: ["VALIDATION_FAILED"] }),
    message: Type.String({ description: "For people; may change" }),
    fields: Type.Optional(
      Type.Record(Type.String(), Type.String(), {
        description: "A message per invalid field or parameter",
      }),
    ),
    retryable: Type.Optional(
      Type.Boolean({
        description:
          "On single sign-on refusals and transient failures: false when trying again will be refused the same way until an administrator fixes the connection or its identity provider",
      }),
    ),
    traceId: Type.Optional(Type.String({ description: "Present on server errors, for the logs" })),
  },
  { title: "Error" },
);

/** Error answers of a route, by status, each described by the codes it can carry. */
export function errors(descriptions: Record<number, string>): Record<number, TSchema> {
  const out: Record<number, TSchema> = {
    401: Type.Object(ErrorBody.properties, {
      title: "Error",
      description: "AUTH_UNAUTHENTICATED: no credentials, or a malformed, unknown or revoked API key",
    }),
    403: Type.Object(ErrorBody.properties, {
      title: "Error",
      description:
        "AUTH_FORBIDDEN (a caller this route does not admit) or CSRF_INVALID (a session's change without a valid x-csrf-token)",
    }),
  };
  for (const [status, description] of Object.entries(descriptions)) {
    out[Number(status)] = Type.Object(ErrorBody.properties, { title: "Error", description });
  }
  return out;
}

// --- Pagination -------------------------------------------------------------------------------

export const PAGE_DEFAULT_LIMIT = 50;
export const PAGE_MAX_LIMIT = 200;

/** `limit` and `after`, the query parameters every list takes. */
export const PageQuery = {
  limit: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: PAGE_MAX_LIMIT,
      default: PAGE_DEFAULT_LIMIT,
      description: "How many items at most",
      errorMessage: `Must be a whole number from 1 to ${PAGE_MAX_LIMIT}.`,
    }),
  ),
  after: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 500,
      description: "The `next` of the previous page; omit for the first page",
      errorMessage: "Must be the next value of a previous page.",
    }),
  ),
};

/** A page of a list: the items and the cursor of the next page, null on the last one. */
export function Page<T extends TSchema>(item: T, description: string) {
  return Type.Object(
    {
      data: Type.Array(item),
      next: Nullable(
        Type.String({ description: "Pass as `after` to get the next page; null when this page is the last" }),
      ),
    },
    { description },
  );
}

// --- Shared resources -------------------------------------------------------------------------

export const Organization = Type.Object(
  { id: Uuid, slug: Type.String(), name: Type.String() },
  { title: "Organization" },
);

export const IdParams = Type.Object({
  id: Type.String({ description: "A UUID", maxLength: 200 }),
});

export const IdempotencyHeaders = Type.Object(
  {
    "idempotency-key": Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 255,
        pattern: "^[\\x21-\\x7e]+$",
        description:
          "Makes a retried create safe: the same key with the same body within 24 hours answers the first answer again; with another body, 422.",
        errorMessage: "Must be 1-255 visible ASCII characters, such as a UUID.",
      }),
    ),
    "x-csrf-token": Type.Optional(
      Type.String({ description: "Required with a session cookie, ignored with an API key." }),
    ),
  },
  { additionalProperties: true },
);

export const CsrfHeaders = Type.Object(
  {
    "x-csrf-token": Type.Optional(
      Type.String({ description: "Required with a session cookie, ignored with an API key." }),
    ),
  },
  { additionalProperties: true },
);

export const NoContent = Type.Null({ description: "Done; no body" });
