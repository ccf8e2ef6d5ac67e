import { createHash, timingSafeEqual } from "node:crypto";
import type { DevIdpUser } from "./server.js";

export interface DevAccount {
  readonly accountId: string;
  readonly email: string;
  readonly name: string;
  readonly emailVerified: boolean;
  readonly groups: readonly string[] | undefined;
  readonly groupsOverage: boolean;
}

interface StoredAccount extends DevAccount {
  email: string;
  readonly passwordDigest: Buffer;
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/**
 * The subject used when a user has no explicit `sub`. Derived from the email so it survives
 * restarts of the IdP: Gatehouse links identities by (issuer, sub), and a sub that changed on
 * every start would orphan the linked users in a developer's database.
 */
export function subjectForEmail(email: string): string {
  return `dev-${sha256(normalizeEmail(email)).toString("hex").slice(0, 24)}`;
}

export class AccountDirectory {
  readonly #byId = new Map<string, StoredAccount>();
  readonly #byEmail = new Map<string, StoredAccount>();

  constructor(users: readonly DevIdpUser[]) {
    for (const user of users) {
      const email = normalizeEmail(user.email);
      const account: StoredAccount = {
        accountId: user.sub ?? subjectForEmail(email),
        email: user.email.trim(),
        name: user.name,
        emailVerified: user.emailVerified ?? true,
        groups: user.groups,
        groupsOverage: user.groupsOverage ?? false,
        passwordDigest: sha256(user.password),
      };
      if (this.#byEmail.has(email)) throw new Error(`dev-idp: duplicate user email ${user.email}`);
      if (this.#byId.has(account.accountId))
        throw new Error(`dev-idp: duplicate user sub ${account.accountId}`);
      this.#byEmail.set(email, account);
      this.#byId.set(account.accountId, account);
    }
  }

  /** The person changed their address at the provider; their subject stays. */
  changeEmail(accountId: string, email: string): void {
    const account = this.#byId.get(accountId);
    if (!account) throw new Error(`dev-idp: no user with sub ${accountId}`);
    if (this.#byEmail.has(normalizeEmail(email))) throw new Error(`dev-idp: duplicate user email ${email}`);
    this.#byEmail.delete(normalizeEmail(account.email));
    account.email = email.trim();
    this.#byEmail.set(normalizeEmail(email), account);
  }

  findById(accountId: string): DevAccount | undefined {
    return this.#byId.get(accountId);
  }

  authenticate(email: string, password: string): DevAccount | undefined {
    const account = this.#byEmail.get(normalizeEmail(email));
    // Compare digests so the comparison is fixed-length and constant-time; hashing even for
    // unknown emails keeps the response time from revealing which emails exist.
    const presented = sha256(password);
    const expected = account?.passwordDigest ?? sha256(`unknown:${password}`);
    return timingSafeEqual(presented, expected) && account ? account : undefined;
  }
}
