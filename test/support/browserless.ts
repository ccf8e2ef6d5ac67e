/**
 * A minimal browser for HTTP-level tests: a cookie jar (per host, like a browser: ports share
 * cookies), manual redirects, and form helpers.
 */
import { request as plainRequest } from "undici";

export interface Answer {
  status: number;
  url: string;
  location: string | undefined;
  body: string;
  headers: Headers;
}

export class Browser {
  readonly jar = new Map<string, Map<string, string>>();

  cookies(host = "localhost"): Map<string, string> {
    let cookies = this.jar.get(host);
    if (!cookies) {
      cookies = new Map();
      this.jar.set(host, cookies);
    }
    return cookies;
  }

  async request(
    url: string,
    init: {
      method?: string;
      form?: Record<string, string>;
      headers?: Record<string, string>;
      /** Sent as a top-level navigation (GET), as a browser sends a typed URL or a followed link. */
      navigation?: boolean;
    } = {},
  ): Promise<Answer> {
    const target = new URL(url);
    const cookies = this.cookies(target.hostname);
    const headers: Record<string, string> = { ...init.headers };
    if (cookies.size > 0) headers.cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    let body: string | undefined;
    if (init.form) {
      body = new URLSearchParams(init.form).toString();
      headers["content-type"] = "application/x-www-form-urlencoded";
    }
    const response = init.navigation
      ? await navigate(target, headers)
      : await fetch(target, {
          method: init.method ?? (body ? "POST" : "GET"),
          headers,
          redirect: "manual",
          ...(body === undefined ? {} : { body }),
        });
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(";");
      const eq = pair?.indexOf("=") ?? -1;
      if (!pair || eq < 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some(
        (a) => /^\s*max-age=0\b/i.test(a) || /^\s*expires=Thu, 01 Jan 1970/i.test(a),
      );
      if (expired || value === "") cookies.delete(name);
      else cookies.set(name, value);
    }
    const location = response.headers.get("location") ?? undefined;
    return {
      status: response.status,
      url: target.toString(),
      location: location ? new URL(location, target).toString() : undefined,
      body: await response.text(),
      headers: response.headers,
    };
  }

  get(url: string, headers?: Record<string, string>): Promise<Answer> {
    return this.request(url, headers ? { headers } : {});
  }

  /** A GET that the server sees as a browser's top-level navigation. */
  navigate(url: string): Promise<Answer> {
    return this.request(url, { navigation: true });
  }

  post(url: string, form: Record<string, string>): Promise<Answer> {
    return this.request(url, { method: "POST", form });
  }

  /** Follows redirects from an answer until a non-redirect, or until `stopAt` matches a location. */
  async follow(answer: Answer, stopAt?: (url: string) => boolean, limit = 15): Promise<Answer> {
    let current = answer;
    for (let i = 0; i < limit && current.location && current.status >= 300 && current.status < 400; i++) {
      if (stopAt?.(current.location)) return current;
      current = await this.get(current.location);
    }
    return current;
  }
}

/**
 * fetch() always sends `Sec-Fetch-Mode: cors`, which servers that tell navigations from API calls
 * (mod_auth_openidc among them) answer with 401 instead of a redirect to sign in; undici's plain
 * client sends the headers as given.
 */
async function navigate(
  target: URL,
  headers: Record<string, string>,
): Promise<Pick<Response, "status" | "headers" | "text">> {
  const answer = await plainRequest(target, {
    method: "GET",
    headers: {
      accept: "text/html,application/xhtml+xml",
      "sec-fetch-mode": "navigate",
      "sec-fetch-dest": "document",
      ...headers,
    },
  });
  const responseHeaders = new Headers();
  for (const [name, value] of Object.entries(answer.headers)) {
    for (const one of [value].flat()) if (one !== undefined) responseHeaders.append(name, one);
  }
  const text = await answer.body.text();
  return { status: answer.statusCode, headers: responseHeaders, text: async () => text };
}

export function csrfToken(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match?.[1]) throw new Error("no CSRF token in the page");
  return match[1];
}

export function errorCode(html: string): string | undefined {
  return /data-error-code="([A-Z_]+)"/.exec(html)?.[1];
}

/** What an error page tells the person: `retry`, or `administrator` when trying again cannot help. */
export function errorRemedy(html: string): string | undefined {
  return /data-error-code="[A-Z_]+" data-remedy="([a-z]+)"/.exec(html)?.[1];
}

/** The heading of the names' column in a test sign-in's table of claims or attributes. */
export function nameHeading(html: string, testId: string): string | undefined {
  const section = html.split(`data-testid="${testId}"`)[1]?.split("</section>")[0];
  return section ? /<th scope="col">([^<]+)<\/th>/.exec(section)?.[1] : undefined;
}

/** Signs in through the two-step password form; returns the final answer. */
export async function passwordSignIn(
  browser: Browser,
  base: string,
  email: string,
  password: string,
): Promise<Answer> {
  const loginPage = await browser.get(`${base}/login`);
  const step = await browser.post(`${base}/login`, { _csrf: csrfToken(loginPage.body), email });
  if (step.status !== 200) return step;
  return browser.post(`${base}/login/password`, { _csrf: csrfToken(step.body), email, password });
}
