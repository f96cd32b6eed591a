// Typed URL builders for the REST paths of CONTRACT §5, shared by the portal and other services.
// Pure: no server code, safe to import in the browser.

const query = (params: Record<string, string | number | boolean | null | undefined>) => {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
};

export const endpoints = {
  token: () => "/api/token",
  jwks: () => "/.well-known/jwks.json",
  openapi: () => "/api/openapi.json",
  health: () => "/api/health",
  ready: () => "/api/ready",
  metrics: () => "/api/metrics",
  system: {
    getImpersonationToken: (
      coworkerId: number,
      options: { reason?: string; mode?: "readonly" } = {},
    ) =>
      `/api/sys/users/impersonate${query({ coworkerId, reason: options.reason, mode: options.mode })}`,
    exchange: () => "/api/sys/users/exchange",
    me: () => "/api/sys/users/me",
    stopImpersonating: () => "/api/sys/users/stop-impersonating",
    signOut: () => "/api/sys/users/sign-out",
    audit: (
      filter: {
        limit?: number;
        cursor?: number;
        actorUserId?: number;
        targetCoworkerId?: number;
      } = {},
    ) => `/api/sys/audit${query(filter)}`,
  },
  public: {
    impersonateTeamMember: (
      coworkerId: number,
      options: { reason?: string; mode?: "readonly" } = {},
    ) =>
      `/api/public/coworkers/${coworkerId}/impersonate${query({ reason: options.reason, mode: options.mode })}`,
    profiles: () => "/api/public/coworkers/profiles",
    currentProfile: () => "/api/public/coworkers/profiles/current",
    accessHistory: () => "/api/public/coworkers/access-history",
  },
} as const;
