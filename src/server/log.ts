import type { FastifyBaseLogger } from "fastify";
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

type LevelName = "fatal" | "error" | "warn" | "info" | "debug" | "trace";
type ChildOptions = pino.ChildLoggerOptions;

/**
 * Fastify gives every request a child logger bound to its id. Most requests write only the line
 * of `registerRequestLog`, which names the id itself, so the child is made when a handler first
 * logs through `request.log` rather than on every request.
 */
export function lazyRequestLogger(parent: FastifyBaseLogger, bindings: pino.Bindings, options: ChildOptions) {
  return new LazyChildLogger(parent, bindings, options);
}

class LazyChildLogger implements FastifyBaseLogger {
  readonly #parent: FastifyBaseLogger;
  readonly #bindings: pino.Bindings;
  readonly #options: ChildOptions;
  #child: FastifyBaseLogger | undefined;

  constructor(parent: FastifyBaseLogger, bindings: pino.Bindings, options: ChildOptions) {
    this.#parent = parent;
    this.#bindings = bindings;
    this.#options = options;
  }

  #logger(): FastifyBaseLogger {
    this.#child ??= this.#parent.child(this.#bindings, this.#options);
    return this.#child;
  }

  get level(): pino.LevelWithSilentOrString {
    return this.#child?.level ?? this.#options.level ?? this.#parent.level;
  }

  set level(level: pino.LevelWithSilentOrString) {
    this.#logger().level = level;
  }

  fatal(...args: unknown[]): void {
    this.#write("fatal", args);
  }
  error(...args: unknown[]): void {
    this.#write("error", args);
  }
  warn(...args: unknown[]): void {
    this.#write("warn", args);
  }
  info(...args: unknown[]): void {
    this.#write("info", args);
  }
  debug(...args: unknown[]): void {
    this.#write("debug", args);
  }
  trace(...args: unknown[]): void {
    this.#write("trace", args);
  }
  silent(): void {}

  child(bindings: pino.Bindings, options?: ChildOptions): FastifyBaseLogger {
    return this.#logger().child(bindings, options);
  }

  #write(level: LevelName, args: unknown[]): void {
    const logger = this.#logger();
    (logger[level] as (...a: unknown[]) => void).apply(logger, args);
  }
}
