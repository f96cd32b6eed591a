// Domain errors and the one mapping from them to tRPC codes and to the REST contract.
import { TRPCError } from "@trpc/server";

export const ERROR_STATUS = {
  invalid_request: 400,
  unsupported_grant_type: 400,
  invalid_grant: 400,
  unauthorized: 401,
  invalid_token: 401,
  /** /api/token: client authentication failed (RFC 6749 §5.2); no client is registered here. */
  invalid_client: 401,
  forbidden: 403,
  impersonation_disabled: 403,
  read_only: 403,
  not_found: 404,
  method_not_allowed: 405,
  not_impersonating: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  throttled: 429,
  internal: 500,
  unavailable: 503,
  justification_required: 400,
  full_mode_not_allowed: 403,
  consent_required: 403,
  /** RFC 9470: the session must prove its password (and code) again before this. */
  step_up_required: 401,
  /** RFC 9449: a DPoP proof that does not hold (400 at the token endpoints, 401 elsewhere). */
  invalid_dpop_proof: 401,
  /** A one-time-code app is enrolled already. */
  already_enrolled: 409,
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
  415: "UNSUPPORTED_MEDIA_TYPE",
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
    /**
     * `cause`: what went wrong inside, for the log of an `internal` or `unavailable` error.
     * `challenge`: the WWW-Authenticate value of a 401 that names its scheme and error (RFC 9470,
     * RFC 9449); `status`: where one code answers with another status than its usual one.
     */
    readonly options?: { cause?: unknown; challenge?: string; status?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
  }
  get status(): number {
    return this.options?.status ?? ERROR_STATUS[this.code];
  }
  get challenge(): string | undefined {
    return this.options?.challenge;
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
  // query_canceled: a statement past its request's deadline (before_deadline) or cancelled by
  // statement_timeout. Either way it changed nothing, and the request is a 503.
  "57014",
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

interface InputIssue {
  path?: PropertyKey[];
  message?: string;
}

/**
 * A schema's refusal in words for people, the same on both doors: the first offending field and
 * what is wrong with it (never the issue list itself, which is the library's, not the caller's).
 */
export function describeInputError(error: unknown): string {
  const issues = (error as { cause?: { issues?: InputIssue[] } } | undefined)?.cause?.issues;
  const first = Array.isArray(issues) ? issues[0] : undefined;
  if (!first) return "The request is not valid.";
  const field = first.path?.map(String).join(".") || "input";
  return `Invalid ${field}: ${(first.message ?? "not valid").replace(/\.$/, "")}.`;
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
      undefined,
      { cause: error },
    );
  }
  if (error instanceof TRPCError) {
    // tRPC's own refusals of a request (before or at the procedure's input) are the caller's.
    switch (error.code) {
      case "BAD_REQUEST":
        // A schema's issues, or tRPC's own sentence about the request (a batch's form or size).
        return new DomainError(
          "invalid_request",
          error.cause === undefined ? error.message : describeInputError(error),
        );
      case "PARSE_ERROR":
        return new DomainError("invalid_request", "The input is not valid JSON.");
      case "PAYLOAD_TOO_LARGE":
        return new DomainError("payload_too_large", "The request body is too large.");
      case "UNAUTHORIZED":
        return new DomainError("unauthorized", "Sign in first.");
      case "NOT_FOUND":
        return new DomainError("not_found", "Not found.");
      case "METHOD_NOT_SUPPORTED":
        return new DomainError(
          "method_not_allowed",
          "This procedure is not called with this method: queries take GET, mutations POST.",
        );
      case "UNSUPPORTED_MEDIA_TYPE":
        return new DomainError(
          "unsupported_media_type",
          "Send the input as JSON (Content-Type: application/json).",
        );
    }
  }
  return new DomainError("internal", "Something went wrong on our side.", undefined, {
    cause: error,
  });
}
