// Typed URL builders for the REST paths of CONTRACT §5, shared by the portal and other services.
// Every path comes from the routes' declarations (contract.ts). Pure: no server code, safe to
// import in the browser.
import { opsPaths, routeUrl } from "./contract";

type Mode = { reason?: string; mode?: "readonly" };

export const endpoints = {
  token: () => routeUrl("token", {}),
  jwks: () => routeUrl("jwks", {}),
  openapi: () => opsPaths.openapi,
  health: () => opsPaths.health,
  ready: () => opsPaths.ready,
  metrics: () => opsPaths.metrics,
  system: {
    getImpersonationToken: (coworkerId: number, options: Mode = {}) =>
      routeUrl(
        "impersonateCoworker",
        {},
        { coworkerId, reason: options.reason, mode: options.mode },
      ),
    exchange: () => routeUrl("exchange", {}),
    me: () => routeUrl("me", {}),
    stopImpersonating: () => routeUrl("stopImpersonating", {}),
    signOut: () => routeUrl("signOut", {}),
    audit: (
      filter: {
        limit?: number;
        cursor?: number;
        actorUserId?: number;
        targetCoworkerId?: number;
      } = {},
    ) => routeUrl("audit", {}, filter),
    auditCheckpoints: (page: { limit?: number; cursor?: number } = {}) =>
      routeUrl("auditCheckpoints", {}, page),
    auditProof: (seq: number, size: number) => routeUrl("auditProof", {}, { seq, size }),
    auditExport: (
      format: "csv" | "ndjson",
      filter: {
        actorUserId?: number;
        targetCoworkerId?: number;
        type?: string;
        from?: string;
        to?: string;
      } = {},
    ) => routeUrl("auditExport", {}, { format, ...filter }),
  },
  public: {
    impersonateTeamMember: (coworkerId: number, options: Mode = {}) =>
      routeUrl(
        "impersonateTeamMember",
        { coworkerId },
        { reason: options.reason, mode: options.mode },
      ),
    profiles: () => routeUrl("profiles", {}),
    currentProfile: () => routeUrl("setCurrentProfile", {}),
    accessHistory: () => routeUrl("accessHistory", {}),
  },
} as const;
