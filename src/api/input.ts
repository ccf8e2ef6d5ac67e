import { CONNECTION_FIELDS, type ConnectionInput } from "../connections/validate.js";
import { isUuid } from "../domain/ids.js";
import { validationError } from "../errors.js";
import type { AuditQuery } from "../store/audit.js";

/**
 * Shape checks for API input, done by hand rather than by Fastify's schema validation: its
 * default Ajv settings coerce types and drop unknown properties, and an API client that sends
 * `"domains": "acme.com"` or a misspelt property deserves a 400 naming the field instead.
 * The field contents (lengths, domain syntax) are checked by the connections service.
 */

export { isUuid } from "../domain/ids.js";

// The API body is the connection's fields plus its type.
const connectionFields: readonly string[] = ["type", ...CONNECTION_FIELDS];
const stringFields = ["name", "issuer", "clientId"] as const;

export function parseCreateConnectionBody(body: unknown): ConnectionInput {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw validationError(
      { body: "Send a JSON object with type, name, issuer, clientId, clientSecret and domains." },
      "The request body must be a JSON object.",
    );
  }
  const record = body as Record<string, unknown>;
  const fields: Record<string, string> = {};
  for (const key of Object.keys(record)) {
    if (!connectionFields.includes(key)) {
      fields[key] = `Unknown property. Allowed: ${connectionFields.join(", ")}.`;
    }
  }
  if (record.type === undefined) fields.type = 'Required: "oidc".';
  else if (record.type !== "oidc") fields.type = 'Must be "oidc", the only connection type so far.';
  for (const name of stringFields) {
    const value = record[name];
    if (value === undefined) fields[name] = "Required.";
    else if (typeof value !== "string") fields[name] = "Must be a string.";
  }
  // The one credential private_key_jwt does without.
  if (record.clientSecret === undefined) {
    if (record.tokenEndpointAuthMethod !== "private_key_jwt") fields.clientSecret = "Required.";
  } else if (typeof record.clientSecret !== "string") fields.clientSecret = "Must be a string.";
  for (const name of ["tokenEndpointAuthMethod", "emailClaim"] as const) {
    if (record[name] !== undefined && typeof record[name] !== "string") fields[name] = "Must be a string.";
  }
  const extraScopes = record.extraScopes;
  if (
    extraScopes !== undefined &&
    (!Array.isArray(extraScopes) || !extraScopes.every((s) => typeof s === "string"))
  ) {
    fields.extraScopes = 'Must be an array of scope names, such as ["groups"].';
  }
  const tenants = record.allowedTenants;
  if (tenants !== undefined && (!Array.isArray(tenants) || !tenants.every((t) => typeof t === "string")))
    fields.allowedTenants =
      'Must be an array of tenant ids, such as ["72f988bf-86f1-41af-91ab-2d7cd011db47"].';
  const skew = record.clockSkewSeconds;
  if (skew !== undefined && (typeof skew !== "number" || !Number.isInteger(skew)))
    fields.clockSkewSeconds = "Must be a whole number of seconds.";
  const domains = record.domains;
  if (domains === undefined) fields.domains = 'Required: an array of email domains, such as ["acme.com"].';
  else if (!Array.isArray(domains))
    fields.domains = 'Must be an array of email domains, such as ["acme.com"].';
  else if (!domains.every((d) => typeof d === "string")) fields.domains = "Every domain must be a string.";
  if (Object.keys(fields).length > 0) throw validationError(fields);

  return {
    name: record.name as string,
    issuer: record.issuer as string,
    clientId: record.clientId as string,
    clientSecret: (record.clientSecret as string | undefined) ?? "",
    domains: domains as string[],
    tokenEndpointAuthMethod: record.tokenEndpointAuthMethod as ConnectionInput["tokenEndpointAuthMethod"],
    extraScopes: extraScopes as string[] | undefined,
    emailClaim: record.emailClaim as string | undefined,
    clockSkewSeconds: skew as number | undefined,
    allowedTenants: tenants as string[] | undefined,
  };
}

export const EVENTS_DEFAULT_LIMIT = 50;
export const EVENTS_MAX_LIMIT = 200;
const eventParams = ["connection", "outcome", "type", "limit", "before", "beforeId"] as const;
const EVENT_TYPE = /^[a-z][a-z0-9_.]{0,63}$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/;

/** Reads the `/events` query string into an audit query for the caller's organization. */
export function parseEventsQuery(query: unknown, organizationId: string): AuditQuery {
  const params = (typeof query === "object" && query !== null ? query : {}) as Record<string, unknown>;
  const fields: Record<string, string> = {};
  const values: Partial<Record<(typeof eventParams)[number], string>> = {};
  for (const [key, value] of Object.entries(params)) {
    if (!(eventParams as readonly string[]).includes(key)) {
      fields[key] = `Unknown parameter. Allowed: ${eventParams.join(", ")}.`;
    } else if (typeof value !== "string") {
      fields[key] = "Give this parameter once.";
    } else {
      values[key as (typeof eventParams)[number]] = value;
    }
  }

  const result: AuditQuery = { organizationId, limit: EVENTS_DEFAULT_LIMIT };
  if (values.connection !== undefined) {
    if (isUuid(values.connection)) result.connectionId = values.connection.toLowerCase();
    else fields.connection = "Must be a connection id (a UUID).";
  }
  if (values.outcome !== undefined) {
    if (values.outcome === "success" || values.outcome === "failure") result.outcome = values.outcome;
    else fields.outcome = 'Must be "success" or "failure".';
  }
  if (values.type !== undefined) {
    if (EVENT_TYPE.test(values.type)) result.type = values.type;
    else fields.type = "Must be an event type, such as sign_in.sso or connection.created.";
  }
  if (values.limit !== undefined) {
    const limit = Number(values.limit);
    if (/^\d{1,3}$/.test(values.limit) && limit >= 1 && limit <= EVENTS_MAX_LIMIT) result.limit = limit;
    else fields.limit = `Must be a whole number from 1 to ${EVENTS_MAX_LIMIT}.`;
  }
  if (values.before !== undefined) {
    const time = ISO_TIME.test(values.before) ? Date.parse(values.before) : Number.NaN;
    if (Number.isFinite(time)) result.before = time;
    else fields.before = "Must be an ISO 8601 time with a time zone, such as 2025-01-31T12:00:00Z.";
  }
  if (values.beforeId !== undefined) {
    if (!isUuid(values.beforeId)) fields.beforeId = "Must be an event id (a UUID).";
    else if (values.before === undefined)
      fields.beforeId = "Give it with before: the time and id of the last event already shown.";
    else result.beforeId = values.beforeId.toLowerCase();
  }
  if (Object.keys(fields).length > 0) throw validationError(fields);
  return result;
}
