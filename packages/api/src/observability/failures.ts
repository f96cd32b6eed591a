// Logs a failure that is ours (a bug, an outage) with the request id, and says what the caller
// gets. Failures that are the caller's (bad input, no session, refusals) are answers, not logs.
import { domainErrorOf, type DomainError } from "../errors";
import { requestLogger } from "./logger";

export function logFailure(
  error: unknown,
  requestId: string | null | undefined,
  where: Record<string, string | undefined> = {},
): DomainError {
  const domain = domainErrorOf(error);
  if (domain.code === "internal") {
    requestLogger(requestId).error({ ...where, err: error }, "unexpected error");
  } else if (domain.code === "unavailable") {
    requestLogger(requestId).warn({ ...where, err: error }, "service unavailable");
  }
  return domain;
}
