import type { Kysely } from "kysely";
import type { Database } from "../../store/schema.js";
import { listMembersAtDomains, type MemberAtDomains } from "../../store/users.js";
import { html, type SafeHtml } from "../../web/html.js";

/** Who a connection leaves behind when it stops signing people in (Disable, Delete). */
export interface PeopleLeft {
  /** Members at the connection's domains. */
  total: number;
  /** Of them, those with a password or LinkedIn: they sign in with it instead. */
  withPasswordOrLinkedIn: number;
  /** Of them, those with neither (single sign-on created their account): no way in. */
  withNeither: number;
  /** Whether the admin looking is one of those with neither. */
  youHaveNeither: boolean;
}

export function countPeopleLeft(members: readonly MemberAtDomains[], viewerUserId?: string): PeopleLeft {
  const withPasswordOrLinkedIn = members.filter((m) => m.hasPasswordOrLinkedIn).length;
  return {
    total: members.length,
    withPasswordOrLinkedIn,
    withNeither: members.length - withPasswordOrLinkedIn,
    youHaveNeither: members.some((m) => m.userId === viewerUserId && !m.hasPasswordOrLinkedIn),
  };
}

/** The people a connection at `domains` leaves behind, as the admin `viewerUserId` reads it. */
export async function findPeopleLeft(
  db: Kysely<Database>,
  organizationId: string,
  domains: readonly string[],
  viewerUserId?: string,
): Promise<PeopleLeft> {
  return countPeopleLeft(await listMembersAtDomains(db, organizationId, domains), viewerUserId);
}

/** Where a deleted connection's domains send people again. */
export const untilRecreated = (domains: readonly string[]) =>
  `until a connection for ${domains.join(", ")} exists again`;

const people = (n: number) => `${n} ${n === 1 ? "person" : "people"}`;

/**
 * What becomes of the people at `domains` once the connection signs no one in, in numbers:
 * who can use a password or LinkedIn instead, and who has neither and will not be able to sign
 * in `until` the connection is back. Gatehouse offers those no other way in (an invitation is
 * only for an address without an account), so this says so plainly before the click.
 */
export function peopleLeftText(p: PeopleLeft, domains: readonly string[], until: string): SafeHtml {
  const at = domains.join(", ");
  if (p.total === 0) return html`No one in your organization has an address at ${at} yet.`;
  if (p.withNeither === 0)
    return html`${p.total === 1 ? "The 1 person" : `All ${p.total} people`} at ${at} can sign in with a password or LinkedIn instead.`;
  const stranded = html`<strong data-testid="people-without-other-sign-in">${
    p.withPasswordOrLinkedIn === 0
      ? `None of the ${people(p.total)} at ${at} has a password or LinkedIn`
      : `${p.withNeither} ${p.withNeither === 1 ? "has" : "have"} neither`
  }${p.youHaveNeither ? " (you among them)" : ""}: they will not be able to sign in ${until}.</strong>`;
  const lead =
    p.withPasswordOrLinkedIn === 0
      ? html``
      : html`Of the ${people(p.total)} at ${at}, ${p.withPasswordOrLinkedIn} can sign in with a password or LinkedIn instead; `;
  return html`${lead}${stranded} Accounts that single sign-on created have no password, and Gatehouse cannot send them a setup link: invitations are only for addresses without an account.`;
}
