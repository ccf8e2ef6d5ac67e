import type { Pool } from "undici";
import { cookiePair } from "./client.js";

/**
 * The soak's virtual browsers and everything they saw. Each client loops: a complete SSO
 * sign-in in a fresh browser (start, the OP's authorize, callback), then a few `GET /api/v1/me`
 * with the session it got and with one it got earlier, so that sessions from before a fault
 * are checked after it. Every answer is recorded with its status, error code, reference code
 * and timing; the report judges them afterwards.
 */
export type Step = "start" | "authorize" | "callback" | "me";

export interface Answer {
  step: Step;
  client: number;
  /** ms on the soak's clock when the request was sent and when it was answered (or failed). */
  sentAt: number;
  at: number;
  /** 0 when there was no HTTP answer (connection refused, reset, closed). */
  status: number;
  /** `data-error-code` of an HTML page or `code` of a JSON answer. */
  code?: string;
  /** The reference code a person could hand to an admin. */
  traceId?: string;
  retryAfter?: string;
  /** A connection error, or what was wrong with an answer that looked fine. */
  error?: string;
  /** For `me`: the session checked (index into `Recorder.sessions`). */
  session?: number;
}

export interface Session {
  token: string;
  email: string;
  client: number;
  obtainedAt: number;
  checks: number;
  /** Set by the first 401 for this session. */
  lostAt?: number;
}

export interface SignIn {
  client: number;
  email: string;
  isNew: boolean;
  sentAt: number;
  at: number;
  ok: boolean;
  /** The step that failed and its answer (index into `Recorder.answers`). */
  failedStep?: Step;
  failedAnswer?: number;
  /** A session cookie set on a failed callback: the session should not exist. */
  cookieOnFailure?: string;
}

export class Recorder {
  readonly answers: Answer[] = [];
  readonly sessions: Session[] = [];
  readonly signIns: SignIn[] = [];
  /** Answers not yet in (sent, not answered), for the graceful-shutdown check. */
  readonly pending = new Set<Answer>();
  private readonly origin = performance.now();

  now(): number {
    return performance.now() - this.origin;
  }
}

export interface ClientOptions {
  gatehouse: Pool;
  op: Pool;
  /** The OP's origin; the authorize URL must point there. */
  opOrigin: string;
  returningEmails: readonly string[];
  /** Share of sign-ins by a user never seen before. */
  newShare: number;
  /** Share of those new users who sign in from two browsers at the same moment (two tabs). */
  twinShare: number;
  /** Session checks after each sign-in. */
  checksPerLoop: number;
  /** Pause after an answer that says "try again" (5xx) or no answer at all. */
  backoffMs: number;
  /** Upper bound on loops per client, whatever the time. */
  maxLoops: number;
  signal: AbortSignal;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Reply {
  answer: Answer;
  location: string | undefined;
  setCookies: string[];
  body: string | undefined;
}

async function send(
  recorder: Recorder,
  pool: Pool,
  step: Step,
  client: number,
  path: string,
  headers: Record<string, string>,
): Promise<Reply> {
  const answer: Answer = { step, client, sentAt: recorder.now(), at: 0, status: 0 };
  recorder.pending.add(answer);
  try {
    const response = await pool.request({ method: "GET", path, headers });
    const h = response.headers;
    const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);
    const raw = h["set-cookie"];
    const setCookies = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
    const status = response.statusCode;
    const redirect = status >= 300 && status < 400;
    let body: string | undefined;
    if (redirect) await response.body.dump();
    else body = await response.body.text();
    answer.status = status;
    answer.at = recorder.now();
    const retryAfter = first(h["retry-after"]);
    if (retryAfter !== undefined) answer.retryAfter = retryAfter;
    if (body !== undefined && status >= 400) describeError(answer, body);
    return { answer, location: first(h.location), setCookies, body };
  } catch (error) {
    answer.at = recorder.now();
    answer.status = 0;
    answer.error = connectionError(error);
    return { answer, location: undefined, setCookies: [], body: undefined };
  } finally {
    recorder.pending.delete(answer);
    recorder.answers.push(answer);
  }
}

/** The stable code and the reference code of an error answer, HTML page or JSON. */
function describeError(answer: Answer, body: string): void {
  if (body.startsWith("{")) {
    try {
      const json = JSON.parse(body) as { code?: unknown; traceId?: unknown };
      if (typeof json.code === "string") answer.code = json.code;
      if (typeof json.traceId === "string") answer.traceId = json.traceId;
    } catch {
      // Not JSON after all; no code.
    }
    if (!answer.code) answer.error = `JSON without a code: ${body.slice(0, 120)}`;
    return;
  }
  const code = /data-error-code="([A-Z_]+)"/.exec(body)?.[1];
  const trace = /class="trace-id">([^<]+)</.exec(body)?.[1];
  if (code) answer.code = code;
  if (trace) answer.traceId = trace;
  if (!code) answer.error = `no error code: ${body.slice(0, 120).replace(/\s+/g, " ")}`;
}

function connectionError(error: unknown): string {
  const e = error as { code?: unknown; message?: unknown; cause?: { code?: unknown } };
  const code = typeof e.code === "string" ? e.code : typeof e.cause?.code === "string" ? e.cause.code : "";
  const message = typeof e.message === "string" ? e.message : String(error);
  return `${code}${code ? ": " : ""}${message}`.slice(0, 160);
}

/** A session cookie's value, unless the header deletes the cookie. */
function sessionToken(setCookies: readonly string[]): string | undefined {
  const pair = cookiePair(setCookies, "gh_session");
  const value = pair?.slice("gh_session=".length);
  const deleting = setCookies.some(
    (c) => c.startsWith("gh_session=") && /max-age=0|expires=thu, 01 jan 1970/i.test(c),
  );
  return value && !deleting ? value : undefined;
}

/** One sign-in in a fresh browser; returns the session's index, or undefined if it failed. */
export async function signIn(
  recorder: Recorder,
  options: Pick<ClientOptions, "gatehouse" | "op" | "opOrigin">,
  client: number,
  email: string,
  isNew: boolean,
): Promise<number | undefined> {
  const attempt: SignIn = { client, email, isNew, sentAt: recorder.now(), at: 0, ok: false };
  const fail = (step: Step, reply: Reply, error?: string) => {
    if (error && !reply.answer.error) reply.answer.error = error;
    attempt.failedStep = step;
    attempt.failedAnswer = recorder.answers.lastIndexOf(reply.answer);
    attempt.at = recorder.now();
    recorder.signIns.push(attempt);
    return undefined;
  };

  const start = await send(
    recorder,
    options.gatehouse,
    "start",
    client,
    `/sso/start?email=${encodeURIComponent(email)}`,
    {},
  );
  const binding = cookiePair(start.setCookies, "gh_login");
  if (start.answer.status !== 302 || !start.location || !binding)
    return fail(
      "start",
      start,
      start.answer.status === 302 ? "302 without a location or gh_login cookie" : undefined,
    );
  const authorizeUrl = new URL(start.location);
  if (authorizeUrl.origin !== options.opOrigin)
    return fail("start", start, `redirect to ${authorizeUrl.origin}`);

  const authorize = await send(
    recorder,
    options.op,
    "authorize",
    client,
    authorizeUrl.pathname + authorizeUrl.search,
    {},
  );
  if (authorize.answer.status !== 302 || !authorize.location) return fail("authorize", authorize);

  const back = new URL(authorize.location);
  const callback = await send(recorder, options.gatehouse, "callback", client, back.pathname + back.search, {
    cookie: binding,
  });
  const token = sessionToken(callback.setCookies);
  if (callback.answer.status !== 303 || !token) {
    if (token) attempt.cookieOnFailure = token;
    return fail(
      "callback",
      callback,
      callback.answer.status === 303 ? "303 without a session cookie" : undefined,
    );
  }
  attempt.ok = true;
  attempt.at = recorder.now();
  recorder.signIns.push(attempt);
  recorder.sessions.push({ token, email, client, obtainedAt: attempt.at, checks: 0 });
  return recorder.sessions.length - 1;
}

/** `GET /api/v1/me` with a session: 200 for the right user, or a lost (401) or mixed-up session. */
export async function checkSession(
  recorder: Recorder,
  gatehouse: Pool,
  client: number,
  index: number,
): Promise<Answer> {
  const session = recorder.sessions[index]!;
  const reply = await send(recorder, gatehouse, "me", client, "/api/v1/me", {
    cookie: `gh_session=${session.token}`,
  });
  reply.answer.session = index;
  session.checks++;
  if (reply.answer.status === 200) {
    let email: unknown;
    try {
      email = (JSON.parse(reply.body ?? "") as { user?: { email?: unknown } }).user?.email;
    } catch {
      email = undefined;
    }
    if (email !== session.email)
      reply.answer.error = `session of ${session.email} answered as ${String(email)}`;
  } else if (reply.answer.status === 401 && session.lostAt === undefined) {
    session.lostAt = reply.answer.at;
  }
  return reply.answer;
}

const failed = (answer: Answer) => answer.status === 0 || answer.status >= 500;

/**
 * `count` clients looping until the signal is aborted or each has done `maxLoops` loops. A
 * sign-in by a returning user picks one of `returningEmails`; a new user gets an address never
 * used before (`new-<tag>-<client>-<n>`), so that two clients never create the same user, unless
 * `twinShare` makes one client sign a new user in twice at once.
 */
export async function runClients(
  recorder: Recorder,
  options: ClientOptions,
  count: number,
  tag: string,
  firstClient = 0,
): Promise<void> {
  const loop = async (client: number) => {
    const own: number[] = [];
    for (let i = 0; i < options.maxLoops && !options.signal.aborted; i++) {
      const isNew = Math.random() < options.newShare;
      const email = isNew
        ? `new-${tag}-${client}-${i}@acme.test`
        : options.returningEmails[Math.floor(Math.random() * options.returningEmails.length)]!;
      let index: number | undefined;
      if (isNew && Math.random() < options.twinShare) {
        const [first, second] = await Promise.all([
          signIn(recorder, options, client, email, isNew),
          signIn(recorder, options, client, email, isNew),
        ]);
        if (second !== undefined) own.push(second);
        index = first;
      } else {
        index = await signIn(recorder, options, client, email, isNew);
      }
      // A person reads the error page before trying again; a client does not hammer either.
      let trouble = index === undefined;
      if (index !== undefined) own.push(index);
      for (let c = 0; c < options.checksPerLoop && own.length > 0 && !options.signal.aborted; c++) {
        // The new session first; the last check goes to an earlier one.
        const pick =
          index !== undefined && c < options.checksPerLoop - 1
            ? index
            : own[Math.floor(Math.random() * own.length)]!;
        if (failed(await checkSession(recorder, options.gatehouse, client, pick))) trouble = true;
      }
      if (trouble) await sleep(options.backoffMs);
    }
  };
  await Promise.all(Array.from({ length: count }, (_, i) => loop(firstClient + i)));
}

/** Checks every session in `indexes` once, `concurrency` at a time, until done or `deadline`. */
export async function sweepSessions(
  recorder: Recorder,
  gatehouse: Pool,
  indexes: readonly number[],
  concurrency: number,
  deadline: number,
): Promise<{ checked: number; answers: Answer[] }> {
  const answers: Answer[] = [];
  let next = 0;
  const worker = async (client: number) => {
    while (next < indexes.length && recorder.now() < deadline) {
      const index = indexes[next++]!;
      answers.push(await checkSession(recorder, gatehouse, client, index));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, i) => worker(1000 + i)));
  return { checked: answers.length, answers };
}
