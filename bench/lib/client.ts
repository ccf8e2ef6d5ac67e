import { Pool } from "undici";

/** One keep-alive pool per origin, as a browser farm behind one proxy would look to a server. */
export function keepAlivePool(origin: string, connections = 64): Pool {
  const url = new URL(origin);
  if (url.hostname !== "127.0.0.1") throw new Error(`the benchmark only talks to 127.0.0.1, not ${origin}`);
  return new Pool(url.origin, {
    connections,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    headersTimeout: 15_000,
    bodyTimeout: 15_000,
  });
}

export interface Answer {
  status: number;
  location: string | undefined;
  setCookies: string[];
  body: string | undefined;
}

/** A GET that reads the body only when asked (error pages), otherwise throws it away. */
export async function get(
  pool: Pool,
  path: string,
  headers: Record<string, string> = {},
  keepBody: (status: number) => boolean = () => false,
): Promise<Answer> {
  const response = await pool.request({ method: "GET", path, headers });
  const h = response.headers;
  const location = Array.isArray(h.location) ? h.location[0] : h.location;
  const raw = h["set-cookie"];
  const setCookies = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  let body: string | undefined;
  if (keepBody(response.statusCode)) body = await response.body.text();
  else await response.body.dump();
  return { status: response.statusCode, location, setCookies, body };
}

/** `name=value` of one cookie, as a browser would send it back. */
export function cookiePair(setCookies: readonly string[], name: string): string | undefined {
  for (const header of setCookies) {
    const pair = header.split(";", 1)[0] ?? "";
    if (pair.startsWith(`${name}=`)) return pair;
  }
  return undefined;
}

export class StepError extends Error {
  override readonly name = "StepError";
}

/** What went wrong, in a few words: the step, the status and the page's error code if any. */
export function describeFailure(step: string, answer: Answer): StepError {
  const code = answer.body ? /data-error-code="([A-Z_]+)"/.exec(answer.body)?.[1] : undefined;
  const json = answer.body?.startsWith("{") ? answer.body.slice(0, 200) : undefined;
  return new StepError(`${step}: HTTP ${answer.status}${code ? ` ${code}` : ""}${json ? ` ${json}` : ""}`);
}
