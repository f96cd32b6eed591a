// What another TypeScript service needs to talk to the portal: a typed tRPC client, the typed
// REST path builders, and a verifier for the portal's access tokens.
export { createPortalClient, type PortalClient, type PortalClientOptions } from "./trpc-client";
export {
  createTokenVerifier,
  type VerifiedAccessToken,
  type TokenVerifierOptions,
} from "./token-verifier";
export { endpoints } from "@cowork/api/endpoints";
export type { PortalRouter } from "#portal-router";
export {
  createDpopKey,
  createDpopProof,
  dpopFetch,
  dpopKeyFrom,
  requestToken,
  type DpopAlgorithm,
  type DpopKey,
  type IssuedToken,
  type TokenRequest,
} from "./dpop";
