// Domain errors and the one mapping from them to tRPC codes and to the REST contract.
import { TRPCError } from "@trpc/server";

export const ERROR_STATUS = {
  invalid_request: 400,
  unsupported_grant_type: 400,
  invalid_grant: 400,
  unauthorized: 401,
  invalid_token: 401,
  forbidden: 403,
  impersonation_disabled: 403,
  read_only: 403,
  not_found: 404,
  method_not_allowed: 405,
  not_impersonating: 409,
  payload_too_large: 413,
  throttled: 429,
  internal: 500,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

const TRPC_CODE = {
  400: "BAD_REQUEST",
  401: "UNAUTHORIZED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  405: "METHOD_NOT_SUPPORTED",
  409: "CONFLICT",
  413: "PAYLOAD_TOO_LARGE",
  429: "TOO_MANY_REQUESTS",
  500: "INTERNAL_SERVER_ERROR",
  503: "SERVICE_UNAVAILABLE",
} as const;

export class DomainError extends Error {
  override name = "DomainError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Seconds until a throttled caller may try again. */
    readonly retryAfterS?: number,
  ) {
    super(message);
  }
  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

export function toTRPCError(error: DomainError): TRPCError {
  return new TRPCError({
    code: TRPC_CODE[error.status as keyof typeof TRPC_CODE],
    message: error.message,
    cause: error,
  });
}

const UNAVAILABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "57P01",
  "57P02",
  "57P03",
  "53300",
]);

/** True when an error (or anything in its cause chain) says the database cannot be reached. */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 8; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && (UNAVAILABLE_CODES.has(code) || code.startsWith("08")))
      return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** The domain error behind anything a procedure threw: a DomainError, an outage, or a bug. */
export function domainErrorOf(error: unknown): DomainError {
  for (let current = error, depth = 0; current && depth < 8; depth++) {
    if (current instanceof DomainError) return current;
    current = (current as { cause?: unknown }).cause;
  }
  if (isDatabaseUnavailable(error)) {
    return new DomainError(
      "unavailable",
      "The service is temporarily unavailable. Please try again shortly.",
    );
  }
  if (error instanceof TRPCError) {
    if (error.code === "BAD_REQUEST" || error.code === "PARSE_ERROR") {
      return new DomainError("invalid_request", "The request is not valid.");
    }
    if (error.code === "PAYLOAD_TOO_LARGE")
      return new DomainError("payload_too_large", "The request body is too large.");
    if (error.code === "UNAUTHORIZED") return new DomainError("unauthorized", "Sign in first.");
    if (error.code === "NOT_FOUND") return new DomainError("not_found", "Not found.");
  }
  return new DomainError("internal", "Something went wrong on our side.");
}
