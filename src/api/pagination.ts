import { validationError } from "../errors.js";
import { PAGE_DEFAULT_LIMIT } from "./schemas.js";

/**
 * Cursor pagination for every list: `limit` and `after` in, `data` and `next` out. A cursor is
 * the sort key of a page's last item, base64url-encoded JSON, opaque to clients: the next page
 * starts strictly after that key, so items added or removed meanwhile neither shift nor repeat
 * the pages (keyset pagination, read along an index rather than counted with OFFSET).
 */

export type CursorKey = readonly (string | number)[];

export interface PageRequest<K extends CursorKey> {
  limit: number;
  after: K | undefined;
}

/** The `after` of a list whose sort key has the given shape, checked field by field. */
export function readPage<K extends CursorKey>(
  query: { limit?: number | undefined; after?: string | undefined },
  shape: { readonly [I in keyof K]: K[I] extends number ? "number" : "string" },
): PageRequest<K> {
  const limit = query.limit ?? PAGE_DEFAULT_LIMIT;
  if (query.after === undefined) return { limit, after: undefined };
  const key = decodeCursor(query.after);
  if (
    !key ||
    key.length !== shape.length ||
    !key.every((part, i) => typeof part === shape[i] && (typeof part !== "number" || Number.isFinite(part)))
  ) {
    throw validationError({ after: "Must be the next value of a previous page of this list." });
  }
  return { limit, after: key as unknown as K };
}

export function encodeCursor(key: CursorKey): string {
  return Buffer.from(JSON.stringify(key)).toString("base64url");
}

export function decodeCursor(cursor: string): unknown[] | undefined {
  if (!/^[A-Za-z0-9_-]{1,500}$/.test(cursor)) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    return Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The answer for rows read with `limit + 1`: the extra row only tells that a next page exists,
 * whose cursor is the key of this page's last item.
 */
export function toPage<Row, Item>(
  rows: readonly Row[],
  limit: number,
  keyOf: (row: Row) => CursorKey,
  view: (row: Row) => Item,
): { data: Item[]; next: string | null } {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    data: page.map(view),
    next: rows.length > limit && last !== undefined ? encodeCursor(keyOf(last)) : null,
  };
}
