// Turns a failed call into words for people, keyed on the contract's error code (`data.error`).
import { type AppRouter } from "@cowork/api";
import { TRPCClientError } from "@trpc/client";

type ErrorData = NonNullable<TRPCClientError<AppRouter>["data"]>;

/** The contract's error code of a failed tRPC call, or null for anything else (network, bug). */
export function errorCode(error: unknown): ErrorData["error"] | null {
  return error instanceof TRPCClientError
    ? ((error as TRPCClientError<AppRouter>).data?.error ?? null)
    : null;
}

function retryAfter(error: unknown): number | null {
  return error instanceof TRPCClientError
    ? ((error as TRPCClientError<AppRouter>).data?.retryAfter ?? null)
    : null;
}

export function throttledText(seconds: number | null): string {
  if (seconds !== null && seconds > 90)
    return `Too many requests — try again in ${Math.ceil(seconds / 60)} minutes.`;
  return "Too many requests — try again in a minute.";
}

export function describeError(error: unknown): string {
  const code = errorCode(error);
  switch (code) {
    case null:
      return error instanceof TRPCClientError
        ? "Something went wrong. Please try again."
        : "Could not reach the portal. Check your connection and try again.";
    case "throttled":
      return throttledText(retryAfter(error));
    case "unauthorized":
      return "Your session has ended. Sign in again to continue.";
    case "invalid_grant":
      return "Wrong email or password.";
    case "invalid_request":
      return "Some of what you entered is not valid. Check it and try again.";
    case "unavailable":
      return "The service is temporarily unavailable. Please try again shortly.";
    case "internal":
      return "Something went wrong on our side. Please try again.";
    // These carry a message written for people (forbidden, not_found, read_only, …).
    default:
      return (error as Error).message || "That did not work. Please try again.";
  }
}
