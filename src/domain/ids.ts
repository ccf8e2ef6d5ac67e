const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Gatehouse's ids are UUIDs; anything else in a URL cannot name a row and is simply not found. */
export function isUuid(value: unknown): value is string {
  return typeof value === "string" && UUID.test(value);
}
