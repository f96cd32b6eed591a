// Structured JSON logs (pino) for the whole service. Request-scoped lines carry the request id;
// tokens, passwords and cookies never reach the output: sensitive keys are redacted and error
// texts are scrubbed of anything token-shaped before they are written.
import { pino, type DestinationStream, type Logger } from "pino";

export type { Logger } from "pino";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const REDACTED = "[redacted]";

/** Keys whose values are never written, at the top level and one or two levels down. */
const SECRET_KEYS = [
  "authorization",
  "cookie",
  "set-cookie",
  "password",
  "token",
  "access_token",
  "accessToken",
  "sessionToken",
  "actorToken",
];
const REDACT_PATHS = SECRET_KEYS.map((key) =>
  /^\w+$/.test(key) ? `.${key}` : `["${key}"]`,
).flatMap((key) => [key.replace(/^\./, ""), `*${key}`, `*.*${key}`]);

const JWT_SHAPE = /eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*(\.[A-Za-z0-9_-]*)?/g;
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi;
// Drizzle puts a failed query's parameters in its message; they may hold personal data.
const QUERY_PARAMS = /\nparams: [\s\S]*$/;

/** Removes anything that could be a credential from a text bound for the logs. */
export function scrub(text: string): string {
  return text
    .replace(QUERY_PARAMS, "\nparams: [redacted]")
    .replace(BEARER, `$1 ${REDACTED}`)
    .replace(JWT_SHAPE, REDACTED);
}

interface SerializedError {
  type: string;
  message: string;
  code?: string;
  stack?: string;
  cause?: SerializedError;
}

/** An error for the logs: its kind, code, scrubbed message and stack, and its causes; nothing else. */
export function serializeError(error: unknown, depth = 0): SerializedError {
  if (!(error instanceof Error)) return { type: typeof error, message: scrub(String(error)) };
  const code = (error as { code?: unknown }).code;
  return {
    type: error.name,
    message: scrub(error.message),
    ...(typeof code === "string" || typeof code === "number" ? { code: String(code) } : {}),
    ...(error.stack ? { stack: scrub(error.stack) } : {}),
    ...(error.cause !== undefined && depth < 4
      ? { cause: serializeError(error.cause, depth + 1) }
      : {}),
  };
}

/**
 * Standard output, written asynchronously and in batches: lines gather until 4 KiB are waiting
 * or 100 ms have passed, then leave in one write, instead of one system call per line on the
 * request path (each asynchronous write is a hand-off to libuv's thread pool, which on a busy
 * two-core machine cost the main thread more than the write: BENCHMARKS.md). A quiet process
 * still shows a line within 100 ms; whatever is pending is written at exit.
 */
const stdout = () =>
  pino.destination({ dest: 1, sync: false, minLength: 4096, periodicFlush: 100 });

export function createLogger(
  destination: DestinationStream = stdout(),
  level: LogLevel = "info",
  { redact = true }: { redact?: boolean } = {},
): Logger {
  return pino(
    {
      level,
      base: { service: "cowork-portal", pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      messageKey: "msg",
      errorKey: "err",
      serializers: { err: serializeError, error: serializeError },
      ...(redact ? { redact: { paths: REDACT_PATHS, censor: REDACTED } } : {}),
    },
    destination,
  );
}

const processOutput = stdout();

// The process's loggers exist from the first import of this module, before the process has read
// its configuration; they log at `info` until the process applies its configured level with
// `setLogLevel` (apps/portal/server.ts does, right after loadConfig). This module reads no
// environment variable: LOG_LEVEL is checked and parsed with the rest of the configuration.

/** The process's logger. Lines about one request come from `requestLogger`. */
export const logger: Logger = createLogger(processOutput);

/**
 * The access log, one line per request: fixed fields only (request id, method, a scrubbed path,
 * route pattern, status, duration), so it skips the redaction pass, a fifth of a `me` request's
 * logging cost. Anything else goes through `logger`.
 */
export const accessLogger: Logger = createLogger(processOutput, undefined, { redact: false });

/**
 * Applies the configured level (ServiceConfig.logLevel) to the process's loggers; request loggers
 * made afterwards inherit it.
 */
export function setLogLevel(level: LogLevel): void {
  logger.level = level;
  accessLogger.level = level;
}

/** A logger whose every line names the request (the x-request-id the portal server assigned). */
export function requestLogger(
  requestId: string | null | undefined,
  parent: Logger = logger,
): Logger {
  return parent.child({ requestId: requestId ?? null });
}
