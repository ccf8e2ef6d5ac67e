import { GatehouseError } from "../errors.js";

/**
 * C0 controls other than tab, line feed and carriage return, and DEL. PostgreSQL cannot store
 * NUL in text at all ("invalid byte sequence"), SQLite stores it and cuts strings at it in some
 * functions; no field Gatehouse reads means anything with them.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL_CHARACTER = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Nesting past this in a JSON body is refused rather than walked. */
const MAX_DEPTH = 20;

/** True when the text is safe to store: no control characters and no lone surrogates. */
export function isStorableText(value: string): boolean {
  return !CONTROL_CHARACTER.test(value) && !LONE_SURROGATE.test(value);
}

/**
 * The first place in a parsed input (query, path parameters, form or JSON body) holding text
 * that cannot be stored, as a path such as `body.clientId`; undefined when all of it can.
 * Keys are checked as well as values.
 */
export function findUnstorableText(value: unknown, path: string, depth = 0): string | undefined {
  if (typeof value === "string") return isStorableText(value) ? undefined : path;
  if (value === null || typeof value !== "object") return undefined;
  if (depth >= MAX_DEPTH) return path;
  const entries = Array.isArray(value) ? value.entries() : Object.entries(value);
  for (const [key, item] of entries) {
    const at = `${path}.${String(key)}`;
    if (typeof key === "string" && !isStorableText(key)) return at;
    const found = findUnstorableText(item, at, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/** The 400 every route answers for such input, before any lookup or write. */
export function refuseUnstorableInput(input: { query: unknown; params: unknown; body: unknown }): void {
  const where =
    findUnstorableText(input.query, "query") ??
    findUnstorableText(input.params, "params") ??
    findUnstorableText(input.body, "body");
  if (where) {
    throw new GatehouseError("REQUEST_INVALID", "The request contains characters that are not allowed.", {
      detail: `control character or lone surrogate in ${where}`,
      fields: {
        [where.replace(/^(query|params|body)\.?/, "") || where]: "contains characters that are not allowed",
      },
    });
  }
}
