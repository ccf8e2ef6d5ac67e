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

/**
 * Reads a field a form may send several times (a list of checkboxes): none, one, or many
 * values. Too many values, or one too long, are refused with a 400.
 */
export function textFields(source: unknown, name: string, maxCount = 50, maxLength = 2000): string[] {
  if (source === null || typeof source !== "object") return [];
  const value = (source as Record<string, unknown>)[name];
  if (value === undefined) return [];
  const values = Array.isArray(value) ? value : [value];
  if (values.length > maxCount || values.some((v) => typeof v !== "string" || v.length > maxLength)) {
    throw new GatehouseError("REQUEST_INVALID", `The field "${name}" holds too many or too long values.`, {
      detail: `field ${name}: ${values.length} values, limit ${maxCount} of ${maxLength} characters`,
    });
  }
  return values as string[];
}
