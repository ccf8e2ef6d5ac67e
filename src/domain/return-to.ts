/**
 * `return_to` is only ever a same-origin path. Anything else (absolute URLs, scheme-relative
 * `//evil`, backslash tricks, control characters) falls back to the home page.
 */
export function safeReturnTo(input: unknown, fallback = "/"): string {
  if (typeof input !== "string" || input.length === 0 || input.length > 2000) return fallback;
  if (!input.startsWith("/") || input.startsWith("//") || input.startsWith("/\\")) return fallback;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused
  if (/[\u0000-\u001f\u007f\\]/.test(input)) return fallback;
  try {
    const url = new URL(input, "http://gatehouse.invalid");
    if (url.origin !== "http://gatehouse.invalid") return fallback;
    // Dot segments collapse during parsing: "/.//evil" comes out as "//evil", scheme-relative again.
    if (url.pathname.startsWith("//")) return fallback;
    return url.pathname + url.search + url.hash;
  } catch {
    return fallback;
  }
}
