import { randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import { type Connection, insertConnection, type OidcSettings } from "../../src/store/connections.js";
import { findDomainByName, insertDomain } from "../../src/store/domains.js";
import { insertMembership, insertOrganization, type Organization } from "../../src/store/organizations.js";
import type { Database, Role } from "../../src/store/schema.js";
import type { NewSession } from "../../src/store/sessions.js";
import { insertUser, type User } from "../../src/store/users.js";

/** The injected clock every storage test starts from. */
export const t0 = Date.UTC(2030, 0, 15, 9, 30);
export const minute = 60_000;
export const hour = 60 * minute;
export const day = 24 * hour;

export async function seedOrganization(db: Kysely<Database>, slug = "acme"): Promise<Organization> {
  return insertOrganization(db, { slug, name: `${slug[0]?.toUpperCase()}${slug.slice(1)} Inc.` }, t0);
}

export async function seedMember(
  db: Kysely<Database>,
  organization: Organization,
  email: string,
  role: Role = "member",
): Promise<User> {
  const user = await insertUser(db, { email, name: email.split("@")[0] ?? null }, t0);
  await insertMembership(db, { organizationId: organization.id, userId: user.id, role }, t0);
  return user;
}

/**
 * An enabled OIDC connection with its domains, inserted the way the service does it. Its domains
 * are verified for the organization by the operator first, unless `pending` (then they are added
 * pending, as the Setup form does).
 */
export async function seedConnection(
  db: Kysely<Database>,
  organization: Organization,
  input: { name?: string; domains: string[]; createdAt?: number; pending?: boolean },
): Promise<string> {
  const id = randomUUID();
  await db.transaction().execute(async (trx) => {
    if (!input.pending) {
      for (const domain of input.domains) {
        if (await findDomainByName(trx, organization.id, domain)) continue;
        await insertDomain(
          trx,
          { organizationId: organization.id, domain, verifiedBy: { by: "operator", userId: null } },
          input.createdAt ?? t0,
        );
      }
    }
    await insertConnection(
      trx,
      {
        id,
        organizationId: organization.id,
        name: input.name ?? `${organization.slug} ${id.slice(0, 8)}`,
        domains: input.domains,
        createdByUserId: null,
        protocol: "oidc",
        oidc: {
          issuer: "https://idp.example.test",
          clientId: "gatehouse",
          clientSecretSealed: "sealed:v1:opaque",
          tokenEndpointAuthMethod: "client_secret_basic",
          scopes: "openid email profile",
        },
      },
      input.createdAt ?? t0,
    );
  });
  return id;
}

/** The OpenID Connect settings of a connection a test made as one (fails otherwise). */
export function oidcOf(connection: Connection | undefined): OidcSettings {
  if (connection?.protocol !== "oidc") throw new Error(`not an OpenID Connect connection: ${connection?.id}`);
  return connection.oidc;
}

export function newSession(user: User, overrides: Partial<NewSession> = {}): NewSession {
  return {
    idHash: randomUUID(),
    userId: user.id,
    organizationId: null,
    method: "password",
    connectionId: null,
    idTokenSealed: null,
    idpSid: null,
    createdAt: t0,
    expiresAt: t0 + 8 * hour,
    ...overrides,
  };
}

/** A unique or primary-key violation, as each driver reports it. */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "23505" || code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY";
}
