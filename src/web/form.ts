import { GatehouseError } from "../errors.js";

/**
 * Reads one text field from a parsed form or query. Repeated fields and oversized values are
 * refused with a 400 rather than guessed at.
 */
export function textField(source: unknown, name: string, maxLength = 2000): string {
  if (source === null || typeof source !== "object") return "";
  const value = (source as Record<string, unknown>)[name];
  if (value === undefined) return "";
  if (typeof value !== "string") {
    throw new GatehouseError("REQUEST_INVALID", `The field "${name}" was sent more than once.`, {
      detail: `field ${name} repeated`,
    });
  }
  if (value.length > maxLength) {
    throw new GatehouseError("REQUEST_INVALID", `The field "${name}" is too long.`, {
      detail: `field ${name} is ${value.length} characters, limit ${maxLength}`,
    });
  }
  return value;
}
