/**
 * Email and domain rules. Pure functions: no I/O, unit-tested with tables of cases.
 */

// Deliberately narrower than RFC 5321: one @, a dot-atom local part, a DNS host name.
const LOCAL_PART = /^[a-z0-9.!#$%&'*+/=?^_`{|}~-]+$/;

/** Printable ASCII only: checked before lower-casing, which folds e.g. the Kelvin sign (U+212A) to "k". */
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

export function normalizeEmail(input: string): string | undefined {
  const trimmed = input.trim();
  if (!PRINTABLE_ASCII.test(trimmed)) return undefined;
  const email = trimmed.toLowerCase();
  if (email.length > 254) return undefined;
  const at = email.lastIndexOf("@");
  if (at <= 0 || at !== email.indexOf("@")) return undefined;
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  if (
    local.length > 64 ||
    !LOCAL_PART.test(local) ||
    local.startsWith(".") ||
    local.endsWith(".") ||
    local.includes("..")
  ) {
    return undefined;
  }
  if (normalizeDomain(domain) !== domain) return undefined;
  return email;
}

export function emailDomain(email: string): string {
  return email.slice(email.lastIndexOf("@") + 1).toLowerCase();
}

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * A DNS name a company can own: at least two labels, letters/digits/hyphens, a non-numeric
 * top-level label. Returns the lower-cased name, or undefined when it is not one.
 */
export function normalizeDomain(input: string): string | undefined {
  const trimmed = input.trim();
  if (!PRINTABLE_ASCII.test(trimmed)) return undefined;
  let domain = trimmed.toLowerCase();
  if (domain.endsWith(".")) domain = domain.slice(0, -1);
  if (domain.length === 0 || domain.length > 253) return undefined;
  const labels = domain.split(".");
  if (labels.length < 2) return undefined;
  if (!labels.every((l) => LABEL.test(l))) return undefined;
  if (/^[0-9]+$/.test(labels[labels.length - 1] ?? "")) return undefined;
  return domain;
}
