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
        err: serializeError,
      },
    },
    destination ?? pino.destination(1),
  );
}

/**
 * pino's error serializer, plus the database's own code under a name redaction leaves alone:
 * `*.code` is redacted (it may be an authorization code), which hid PostgreSQL's SQLSTATE
 * (`23505`, `57P01`, ...) and SQLite's result code from the one log line that explains a 500.
 */
function serializeError(error: unknown): Record<string, unknown> {
  const serialized = pino.stdSerializers.err(error as Error) as unknown as Record<string, unknown>;
  const databaseCode = databaseErrorCode(error) ?? databaseErrorCode((error as { cause?: unknown })?.cause);
  if (databaseCode) serialized.sqlState = databaseCode;
  return serialized;
}

function databaseErrorCode(error: unknown): string | undefined {
  if (error === null || typeof error !== "object") return undefined;
  const { code, name } = error as { code?: unknown; name?: unknown };
  if (typeof code !== "string") return undefined;
  // PostgreSQL: a five-character SQLSTATE on a DatabaseError; SQLite: SQLITE_* on a SqliteError.
  if (name === "error" || name === "DatabaseError") return /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
  if (name === "SqliteError") return /^SQLITE_[A-Z_]+$/.test(code) ? code : undefined;
  return undefined;
}

/** Request lines carry the path only: query strings hold codes, states and emails. */
export function pathOnly(url: string): string {
  const q = url.indexOf("?");
  return q === -1 ? url : url.slice(0, q);
}
