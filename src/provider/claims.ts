import type { Account, FindAccountToken, ProviderContext } from "oidc-provider";
import type { AppContext } from "../server/context.js";
import { findApplicationSignIn } from "../store/application-sign-ins.js";
import type { SignInMethod } from "../store/schema.js";

/**
 * The claims Gatehouse releases, by scope (what the discovery document's `claims_supported` lists).
 * `sid` is released in ID tokens only (see findAccount); `auth_time` is added by oidc-provider.
 */
export const claimsByScope = {
  openid: ["sub", "sid", "amr", "org_id", "org_slug", "org_role", "auth_method", "idp"],
  email: ["email", "email_verified"],
  profile: ["name", "given_name", "family_name"],
} as const;

/** RFC 8176 has no value for "signed in at another identity provider"; `fed` is the common one. */
export const amrByMethod: Record<SignInMethod, string[]> = {
  password: ["pwd"],
  sso: ["fed"],
  linkedin: ["fed"],
};

/** Splits a display name when the account has no structured one: "Ada Lovelace" → Ada / Lovelace. */
function nameParts(name: string | null): { given_name?: string; family_name?: string } {
  const parts = name?.trim().split(/\s+/) ?? [];
  if (parts.length < 2) return {};
  return { given_name: parts.slice(0, -1).join(" "), family_name: parts.at(-1) ?? "" };
}

/**
 * oidc-provider's findAccount: `sub` is Gatehouse's user id, never the upstream IdP's subject.
 * The organization and how the person signed in come from the Gatehouse session this
 * application sign-in came from, so an application only ever learns the person's own
 * organization, whatever it asked for.
 */
export function findAccount(app: AppContext) {
  return async (
    ctx: ProviderContext,
    sub: string,
    token?: FindAccountToken,
  ): Promise<Account | undefined> => {
    const user = await app.store.db
      .selectFrom("users")
      .select(["id", "email", "name"])
      .where("id", "=", sub)
      .executeTakeFirst();
    if (!user) return undefined;
    const sessionUid = token?.sessionUid ?? ctx.oidc.session?.uid;
    const clientId = token?.clientId ?? ctx.oidc.client?.clientId;
    const signIn =
      sessionUid && clientId ? await findApplicationSignIn(app.store.db, sessionUid, clientId) : undefined;
    const membership =
      signIn?.organizationId && signIn.userId === user.id
        ? await app.store.db
            .selectFrom("memberships")
            .innerJoin("organizations", "organizations.id", "memberships.organization_id")
            .select(["organizations.id as id", "organizations.slug as slug", "memberships.role as role"])
            .where("memberships.user_id", "=", user.id)
            .where("memberships.organization_id", "=", signIn.organizationId)
            .executeTakeFirst()
        : undefined;
    return {
      accountId: user.id,
      claims: async (use: string) => ({
        sub: user.id,
        email: user.email,
        // Gatehouse checks an email only when an identity provider asserts it (and only for its
        // connection's domains); a password account's address was typed in, not proven.
        email_verified: signIn !== undefined && signIn.method !== "password",
        ...(user.name ? { name: user.name, ...nameParts(user.name) } : {}),
        ...(membership
          ? { org_id: membership.id, org_slug: membership.slug, org_role: membership.role }
          : {}),
        ...(signIn ? { auth_method: signIn.method, amr: amrByMethod[signIn.method] } : {}),
        // Back-Channel Logout 1.0 2.4: the sid that logout tokens name, in every ID token, so an
        // application can tie its session to Gatehouse's whether or not it registered a
        // back-channel URI (oidc-provider adds sid itself only for those that did, with the same
        // value: the provider session's sid for this application, recorded with the sign-in).
        ...(use === "id_token" && signIn ? { sid: signIn.sid } : {}),
        ...(signIn?.connectionId ? { idp: signIn.connectionId } : {}),
      }),
    };
  };
}
