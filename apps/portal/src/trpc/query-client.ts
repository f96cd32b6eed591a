// One QueryClient shape for the browser. Failed calls that say "unauthorized" are announced on
// the window, so the impersonation banner can check whether its session has just ended.
import { type AppRouter } from "@cowork/api";
import { MutationCache, QueryCache, QueryClient } from "@tanstack/react-query";
import { TRPCClientError } from "@trpc/client";

export const UNAUTHORIZED_EVENT = "portal:unauthorized";

function errorData(error: unknown): TRPCClientError<AppRouter>["data"] {
  return error instanceof TRPCClientError ? (error as TRPCClientError<AppRouter>).data : undefined;
}

function announce(error: unknown): void {
  if (typeof window !== "undefined" && errorData(error)?.error === "unauthorized") {
    window.dispatchEvent(new Event(UNAUTHORIZED_EVENT));
  }
}

/** Only failures that may go away on their own (network, outage) are worth a retry. */
function shouldRetry(count: number, error: unknown): boolean {
  const status = errorData(error)?.httpStatus;
  return count < 2 && (status === undefined || status >= 500);
}

export function makeQueryClient(): QueryClient {
  return new QueryClient({
    queryCache: new QueryCache({ onError: announce }),
    mutationCache: new MutationCache({ onError: announce }),
    defaultOptions: {
      queries: { staleTime: 10_000, retry: shouldRetry },
      mutations: { retry: false },
    },
  });
}
