// Logs a failure that is ours (a bug, an outage) with the request id, and says what the caller
// gets. Failures that are the caller's (bad input, no session, refusals) are answers, not logs.
import { TRPCError } from "@trpc/server";
import { DomainError, domainErrorOf } from "../errors";
import { requestLogger } from "./logger";

/**
 * The error that went wrong, under the wrappers the doors put around it (tRPC's error, the
 * DomainError that says what the caller gets): those carry no stack worth reading, and with a
 * few of them the serializer's depth limit would cut off the real cause and its own causes.
 */
export function causeOf(error: unknown): unknown {
  let current = error;
  for (let depth = 0; depth < 8; depth++) {
    const isWrapper = current instanceof TRPCError || current instanceof DomainError;
    const cause = (current as { cause?: unknown } | null)?.cause;
    if (!isWrapper || cause === undefined) return current;
    current = cause;
  }
  return current;
}

export function logFailure(
  error: unknown,
  requestId: string | null | undefined,
  where: Record<string, string | undefined> = {},
): DomainError {
  const domain = domainErrorOf(error);
  if (domain.code === "internal") {
    requestLogger(requestId).error({ ...where, err: causeOf(error) }, "unexpected error");
  } else if (domain.code === "unavailable") {
    requestLogger(requestId).warn({ ...where, err: causeOf(error) }, "service unavailable");
  }
  return domain;
}
