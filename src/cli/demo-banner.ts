import type { DevIdpClient, DevIdpUser } from "../dev-idp/server.js";
import { SAMPLE_APP_NAME } from "./sample-app.js";

export interface DemoBannerModel {
  /** Gatehouse's base URL, ending in "/". */
  base: string;
  idpIssuer: string;
  databaseUrl: string;
  seeded: boolean;
  admin: { email: string; password: string };
  okta: Pick<DevIdpClient, "clientId" | "clientSecret"> | undefined;
  users: readonly Account[];
  sampleUrl: string;
}

type Account = Pick<DevIdpUser, "email" | "password">;

/**
 * Email and password columns, each padded to the widest entry of every list (`all`), so the
 * notes after them and the lists under one another line up.
 */
function accountLines(users: readonly Account[], all: readonly Account[], note = ""): string {
  const emailWidth = Math.max(0, ...all.map((u) => u.email.length));
  const passwordWidth = Math.max(0, ...all.map((u) => u.password.length));
  return users
    .map((u) =>
      note
        ? `       ${u.email.padEnd(emailWidth)}  ${u.password.padEnd(passwordWidth)}  ${note}`
        : `       ${u.email.padEnd(emailWidth)}  ${u.password}`,
    )
    .join("\n");
}

/** What `gatehouse demo` prints once everything listens: where things are and what to paste. */
export function demoBanner(m: DemoBannerModel): string {
  const line = "─".repeat(72);
  const acme = m.users.filter((u) => u.email.endsWith("@acme.test"));
  const others = m.users.filter((u) => !u.email.endsWith("@acme.test"));
  return `
${line}
  Gatehouse demo is running                        (Ctrl+C to stop)
${line}
  Gatehouse          ${m.base}
  Development IdP    ${m.idpIssuer}   (stands in for Okta and LinkedIn)
  Database           ${m.databaseUrl}${m.seeded ? "   (seeded just now)" : "   (existing data kept)"}

  1. Sign in as the organization's admin
       ${m.base}login
       email     ${m.admin.email}
       password  ${m.admin.password}

  2. Open Administration > Enterprise Authentication > Open ID Connect
       ${m.base}admin/enterprise-authentication/oidc
     and paste:
       Connection name           Acme Okta
       Issuer URL                ${m.idpIssuer}
       Client ID                 ${m.okta?.clientId}
       Client secret             ${m.okta?.clientSecret}
       Identity provider domain  tick acme.test
     (the IdP already knows the Callback URL ${m.base}sso/oidc/callback
      and the sign-out redirect ${m.base}; acme.test is pre-verified by the
      operator, so SSO works at once — a real domain is proven with a DNS TXT
      record, see docs/domains.md)

  3. Sign out, then sign in as a member of Acme through SSO:
${accountLines(acme, m.users, "(at the IdP)")}

  4. "Continue with LinkedIn" signs in people outside Acme:
${accountLines(others, m.users)}
     and is refused for @acme.test addresses while the connection is enabled.

  5. Your application signs in through Gatehouse (OpenID Connect):
       ${m.sampleUrl}   (examples/saas-app: Sign in → Gatehouse → the IdP → back, signed in)
     Registered as "${SAMPLE_APP_NAME}"; see docs/integrate-your-application.md
${line}
`;
}
