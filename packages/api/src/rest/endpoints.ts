// Typed URL builders for the REST paths of CONTRACT §5, shared by the portal and other services.
// Every path comes from the routes' declarations (contract.ts). Pure: no server code, safe to
// import in the browser.
import { opsPaths, routeUrl } from "./contract";

type Mode = {
  reason?: string;
  mode?: "readonly" | "full";
  reasonCategory?: string;
  ticket?: string;
};

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
        {
          coworkerId,
          reason: options.reason,
          mode: options.mode,
          reasonCategory: options.reasonCategory,
          ticket: options.ticket,
        },
      ),
    exchange: () => routeUrl("exchange", {}),
    me: () => routeUrl("me", {}),
    stopImpersonating: () => routeUrl("stopImpersonating", {}),
    signOut: () => routeUrl("signOut", {}),
    sessionActions: (sessionId: string) => routeUrl("sessionActions", { sessionId }),
    audit: (
      filter: {
        limit?: number;
        cursor?: number;
        actorUserId?: number;
        targetCoworkerId?: number;
        person?: string;
        type?: string;
        outcome?: string;
        from?: string;
        to?: string;
      } = {},
    ) => routeUrl("audit", {}, filter),
    /** GET (staff) and PUT (admins) the active location's policy. */
    policy: () => routeUrl("getPolicy", {}),
    liveImpersonations: () => routeUrl("liveImpersonations", {}),
    endImpersonation: (sessionId: string) => routeUrl("endImpersonation", { sessionId }),
    reauthenticate: () => routeUrl("reauthenticate", {}),
    enrolOtp: () => routeUrl("enrolOtp", {}),
    confirmOtp: () => routeUrl("confirmOtp", {}),
    removeOtp: () => routeUrl("removeOtp", {}),
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
        person?: string;
        outcome?: string;
      } = {},
    ) => routeUrl("auditExport", {}, { format, ...filter }),
    /** GET the location's webhooks; POST a new one. */
    webhooks: () => routeUrl("listWebhooks", {}),
    /** DELETE a webhook. */
    webhook: (id: number) => routeUrl("removeWebhook", { id }),
    webhookDeliveries: (id: number) => routeUrl("webhookDeliveries", { id }),
  },
  public: {
    impersonateTeamMember: (coworkerId: number, options: Mode = {}) =>
      routeUrl(
        "impersonateTeamMember",
        { coworkerId },
        {
          reason: options.reason,
          mode: options.mode,
          reasonCategory: options.reasonCategory,
          ticket: options.ticket,
        },
      ),
    profiles: () => routeUrl("profiles", {}),
    currentProfile: () => routeUrl("setCurrentProfile", {}),
    accessHistory: () => routeUrl("accessHistory", {}),
    /** GET the member's grants and live sessions; POST a new grant. */
    supportAccess: () => routeUrl("supportAccess", {}),
    supportAccessGrant: (grantId: number) => routeUrl("revokeSupportAccess", { grantId }),
    endSupportSession: (sessionId: string) => routeUrl("endSupportSession", { sessionId }),
    notices: () => routeUrl("listNotices", {}),
    markNoticeRead: (id: number) => routeUrl("markNoticeRead", { id }),
  },
} as const;
