// A typed tRPC client for other TypeScript services: the same procedures as the portal, over
// HTTP, authorized by a bearer token (never a cookie).
import type { PortalRouter } from "#portal-router";
import { createTRPCClient, httpBatchLink } from "@trpc/client";
import { type DpopKey, dpopFetch } from "./dpop";

export interface PortalClientOptions {
  /** The portal's origin, e.g. https://portal.example.com */
  baseUrl: string;
  /** The access token to send; a function is asked on every request (for rotation). */
  token?: string | (() => string | null | undefined) | null;
  /**
   * The key a DPoP-bound token (RFC 9449) is bound to: the token goes as `Authorization: DPoP`,
   * with a fresh proof of this key on every request. Without it, the token goes as Bearer.
   */
  dpop?: DpopKey;
  fetch?: typeof fetch;
}

export function createPortalClient(options: PortalClientOptions) {
  const { token: given } = options;
  const tokenOf: () => string | null | undefined =
    typeof given === "function" ? given : () => given;
  return createTRPCClient<PortalRouter>({
    links: [
      httpBatchLink({
        url: new URL("/api/trpc", options.baseUrl).toString(),
        headers: () => {
          const token = tokenOf();
          if (!token) return {};
          return { authorization: `${options.dpop ? "DPoP" : "Bearer"} ${token}` };
        },
        ...(options.dpop
          ? { fetch: dpopFetch(options.dpop, options.fetch) }
          : options.fetch
            ? { fetch: options.fetch }
            : {}),
      }),
    ],
  });
}

export type PortalClient = ReturnType<typeof createPortalClient>;
