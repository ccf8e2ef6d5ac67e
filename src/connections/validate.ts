import { normalizeDomain } from "../domain/email.js";

/** What an admin or API client submits to create an OIDC connection. */
export interface ConnectionInput {
  name: string;
  issuer: string;
  clientId: string;
  clientSecret: string;
  domains: string[];
}

export type FieldErrors = Partial<Record<keyof ConnectionInput, string>>;

/** Field checks that need no I/O. Returns the cleaned input and any per-field messages. */
export function validateConnectionInput(input: ConnectionInput): {
  value: ConnectionInput;
  errors: FieldErrors;
} {
  const errors: FieldErrors = {};
  const name = input.name.trim();
  if (!name) errors.name = "Enter a name for this connection, such as Acme Okta.";
  else if (name.length > 100) errors.name = "Use at most 100 characters.";
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  else if (/[\u0000-\u001f\u007f]/.test(name))
    errors.name = "Use letters, digits, spaces and punctuation only.";

  const issuer = input.issuer.trim();
  if (!issuer)
    errors.issuer = "Enter the Issuer URL from your identity provider, such as https://acme.okta.com.";
  else if (issuer.length > 500) errors.issuer = "Use at most 500 characters.";

  const clientId = input.clientId.trim();
  if (!clientId) errors.clientId = "Enter the Client ID from your identity provider's application.";
  else if (clientId.length > 500) errors.clientId = "Use at most 500 characters.";

  const clientSecret = input.clientSecret.trim();
  if (!clientSecret)
    errors.clientSecret = "Enter the Client secret from your identity provider's application.";
  else if (clientSecret.length > 2000) errors.clientSecret = "Use at most 2000 characters.";

  const domains: string[] = [];
  const rawDomains = input.domains.map((d) => d.trim()).filter(Boolean);
  if (rawDomains.length === 0) errors.domains = "Enter your company's email domain, such as acme.com.";
  else if (rawDomains.length > 20) errors.domains = "Use at most 20 domains.";
  else {
    for (const raw of rawDomains) {
      const domain = normalizeDomain(raw.replace(/^@/, ""));
      if (!domain) {
        errors.domains = `"${raw.slice(0, 100)}" is not a domain name. Enter the part after the @ in your email addresses, such as acme.com.`;
        break;
      }
      if (!domains.includes(domain)) domains.push(domain);
    }
  }
  return { value: { name, issuer, clientId, clientSecret, domains }, errors };
}

/** The form field may hold several domains separated by commas, spaces or new lines. */
export function splitDomains(text: string): string[] {
  return text
    .split(/[\s,;]+/)
    .map((d) => d.trim())
    .filter(Boolean);
}
