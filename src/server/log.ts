import pino, { type Logger } from "pino";

/**
 * Log redaction is a second line of defence: code must not log secrets in the first place,
 * but a header or body that slips into a log line is censored here.
 */
export const REDACT_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  'res.headers["set-cookie"]',
  "*.password",
  "*.clientSecret",
  "*.client_secret",
  "*.secret",
  "*.token",
  "*.idToken",
  "*.id_token",
  "*.accessToken",
  "*.access_token",
  "*.code",
  "*.state",
  "*.nonce",
];

interface LoggedRequest {
  method?: string;
  url?: string;
  ip?: string;
  id?: string;
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
      serializers: {
        req: (req: LoggedRequest) => ({
          id: req.id,
          method: req.method,
          path: pathOnly(req.url ?? ""),
          ip: req.ip,
        }),
        res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
      },
    },
    destination ?? pino.destination(1),
  );
}

/** Request lines carry the path only: query strings hold codes, states and emails. */
export function pathOnly(url: string): string {
  const q = url.indexOf("?");
  return q === -1 ? url : url.slice(0, q);
}
