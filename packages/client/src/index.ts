// What another TypeScript service needs to talk to the portal: a typed tRPC client, the typed
// REST path builders, a verifier for the portal's access tokens, and one for its audit log.
export { createPortalClient, type PortalClient, type PortalClientOptions } from "./trpc-client";
export {
  createTokenVerifier,
  type VerifiedAccessToken,
  type TokenVerifierOptions,
} from "./token-verifier";
export {
  auditLeafHash,
  auditNodeHash,
  auditRootFromProof,
  createCheckpointVerifier,
  type AuditCheckpoint,
  type AuditInclusionProof,
  type CheckpointVerifierOptions,
} from "./audit-verifier";
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
