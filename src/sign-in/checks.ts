import type { GatehouseError } from "../errors.js";
import type { CheckDescription, ClaimSet, SignInAttempt } from "./adapter.js";

/** The pipeline's own checks, around the adapter's: the transaction first, the policy and the account last. */
export const TRANSACTION_CHECK: CheckDescription = {
  check: "state",
  label: "State: a test started in this browser, used once, in time",
};
export const POLICY_CHECKS: readonly CheckDescription[] = [
  { check: "email_domain", label: "Email domain among the connection's verified domains" },
  { check: "account", label: "Account: signs in, is linked or is created in this organization" },
];

export interface CheckEntry {
  check: string;
  passed: boolean;
  expected?: string | undefined;
  received?: string | undefined;
  /** For a failure: the refusal's code and technical reason. */
  code?: string | undefined;
  detail?: string | undefined;
}

/**
 * What one sign-in attempt learns as it runs: who it is about (for the audit entry of a later
 * refusal) and, for a test sign-in, each check that passed with what was expected and received,
 * so the admin sees how far the provider got and why it stopped. A real sign-in records no checks.
 */
export class Attempt implements SignInAttempt {
  readonly entries: CheckEntry[] = [];
  subject: string | undefined;
  email: string | undefined;
  rawClaims: ClaimSet[] | undefined;

  constructor(readonly recording: boolean) {}

  received(sets: readonly ClaimSet[]): void {
    if (this.recording) this.rawClaims = sets.map((set) => ({ ...set }));
  }

  pass(check: string, expected?: unknown, received?: unknown): void {
    if (!this.recording) return;
    this.entries.push({ check, passed: true, expected: shown(expected), received: shown(received) });
  }

  identify(facts: { subject?: string | undefined; email?: string | undefined }): void {
    if (facts.subject !== undefined) this.subject = facts.subject;
    if (facts.email !== undefined) this.email = facts.email;
  }

  /**
   * Records the refusal that stopped the checks, under the check it names (`error.check`), or
   * the first of `order` not passed yet when it names none.
   */
  fail(error: GatehouseError, order: readonly CheckDescription[]): CheckEntry {
    const passed = new Set(this.entries.map((e) => e.check));
    const named = error.check?.check;
    const check =
      named && order.some((c) => c.check === named)
        ? named
        : (order.find((c) => !passed.has(c.check))?.check ?? named ?? "unknown");
    const entry: CheckEntry = {
      check,
      passed: false,
      expected: error.check?.expected,
      received: error.check?.received,
      code: error.code,
      detail: error.detail ?? error.message,
    };
    this.entries.push(entry);
    return entry;
  }
}

/** Claims and values as the result page shows them: strings, clipped. */
export function shown(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}
