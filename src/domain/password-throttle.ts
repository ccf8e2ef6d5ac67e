/**
 * How often an account may be tried with a password after it has failed. Pure: no I/O.
 *
 * Up to `freeFailures` failures cost nothing. After that each further attempt waits a delay
 * that doubles with every failure, from `baseDelayMs` up to `maxDelayMs`, counted from the
 * last failure: a person who mistyped can always try again soon, while guessing slows to a
 * crawl. There is no hard lockout that a stranger could keep an owner in, and a browser that
 * signed in to the account before is not delayed at all (see known-browser.ts).
 */
export interface ThrottlePolicy {
  freeFailures: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface FailureRecord {
  /** Failures since the record was last cleared (a success) or went stale. */
  count: number;
  /** When the last failure happened (epoch ms). */
  lastAt: number;
}

export type ThrottleDecision = { allowed: true } | { allowed: false; retryAfterMs: number };

export function delayAfter(failures: number, policy: ThrottlePolicy): number {
  const excess = failures - policy.freeFailures;
  if (excess < 0) return 0;
  // 2^excess overflows nothing: it is capped long before 2^53.
  return Math.min(policy.baseDelayMs * 2 ** Math.min(excess, 40), policy.maxDelayMs);
}

export function decidePasswordAttempt(
  failures: FailureRecord | undefined,
  policy: ThrottlePolicy,
  now: number,
): ThrottleDecision {
  if (!failures) return { allowed: true };
  const allowedAt = failures.lastAt + delayAfter(failures.count, policy);
  return now >= allowedAt ? { allowed: true } : { allowed: false, retryAfterMs: allowedAt - now };
}
