import { emailDomain } from "../domain/email.js";
import { type SignInNow, signInMethodsNow } from "../domain/sso-policy.js";
import type { AppContext } from "../server/context.js";
import { findEnabledConnectionForDomain } from "../store/connections.js";
import type { OrganizationUser } from "../store/users.js";

export interface RequiredConnection {
  id: string;
  name: string;
  /** Whether it is the viewing organization's own connection (another's name is not shown). */
  own: boolean;
}

export type PersonSignIn = OrganizationUser & {
  signInNow: Omit<SignInNow, "ssoRequiredBy"> & { ssoRequiredBy: RequiredConnection | undefined };
};

/**
 * Each person's sign-in methods as the sign-in pages would treat them now: the enforcement
 * lookup the password and LinkedIn steps make (an enabled connection on a verified domain),
 * once per distinct domain on the page, then the pure policy.
 */
export async function withSignInNow(
  ctx: AppContext,
  organizationId: string,
  users: readonly OrganizationUser[],
): Promise<PersonSignIn[]> {
  const now = ctx.now();
  const domains = [...new Set(users.map((u) => emailDomain(u.email)))];
  const enforcing = new Map(
    await Promise.all(
      domains.map(async (d) => [d, await findEnabledConnectionForDomain(ctx.store.db, d, now)] as const),
    ),
  );
  return users.map((user) => {
    const connection = enforcing.get(emailDomain(user.email));
    const { ssoRequiredBy, ...methods } = signInMethodsNow(user.signInMethods, connection);
    return {
      ...user,
      signInNow: {
        ...methods,
        ssoRequiredBy:
          ssoRequiredBy && connection
            ? {
                id: ssoRequiredBy.id,
                name: ssoRequiredBy.name,
                own: connection.organizationId === organizationId,
              }
            : undefined,
      },
    };
  });
}
