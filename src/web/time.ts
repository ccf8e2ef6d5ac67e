import { html, type SafeHtml } from "./html.js";

/**
 * `2026-12-07 15:49 UTC`: the one way a page writes a time for a person. UTC, because admins
 * compare it with their identity provider's and DNS provider's logs; ISO order, because it reads
 * the same in every locale. In a table whose column heading says "(UTC)", `zone: false` leaves
 * the suffix out; `seconds` is for logs matched line by line.
 */
export function formatUtc(at: number | string, options: { seconds?: boolean; zone?: boolean } = {}): string {
  const iso = new Date(at).toISOString();
  const text = iso.slice(0, options.seconds ? 19 : 16).replace("T", " ");
  return options.zone === false ? text : `${text} UTC`;
}

/** {@link formatUtc} in a `<time>` element carrying the exact instant. */
export function utcTime(at: number | string, options: { seconds?: boolean; zone?: boolean } = {}): SafeHtml {
  return html`<time datetime="${new Date(at).toISOString()}">${formatUtc(at, options)}</time>`;
}
