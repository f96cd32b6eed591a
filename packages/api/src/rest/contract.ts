// The REST routes of CONTRACT §5, each declared once: method, path, the parameters and body it
// reads, and how the server treats it. Pure (no server code, no schemas): the typed path builders
// that the browser bundles read it, and so do the server's dispatch table and the OpenAPI
// document, which bind each route's handler and documentation to its name (declarations.ts).

export type RestMethod = "GET" | "POST" | "PUT" | "DELETE";

export interface RestRouteContract {
  method: RestMethod;
  /** The path as OpenAPI spells it: a `{name}` segment is a parameter matching one segment. */
  path: string;
  /** The query parameters the route reads; the procedure's schema refuses any other. */
  query?: readonly string[];
  /** The media types of the body the route reads, when it reads one. */
  body?: readonly string[];
  /**
   * GET here changes state (it mints a single-use token and writes a grant and an audit event),
   * so HEAD is refused with 405 instead of being GET without the body: answering HEAD with the
   * GET answer's headers would need the procedure to run (its status is the grant's outcome),
   * and a HEAD must change nothing (RFC 9110 §9.2.1, §9.3.2).
   */
  getMints?: true;
  /** RFC 6749 §5.1-5.2 answers: Pragma beside Cache-Control, error_description beside message. */
  oauth?: true;
}

const JSON_BODY = ["application/json"] as const;

/** Every REST route, by name (the name of its handler in routes.ts), in the document's order. */
export const restContract = {
  token: {
    method: "POST",
    path: "/api/token",
    body: ["application/json", "application/x-www-form-urlencoded"],
    oauth: true,
  },
  impersonateCoworker: {
    method: "GET",
    path: "/api/sys/users/impersonate",
    query: ["coworkerId", "reason", "mode", "reasonCategory", "ticket"],
    getMints: true,
  },
  impersonateTeamMember: {
    method: "GET",
    path: "/api/public/coworkers/{coworkerId}/impersonate",
    query: ["reason", "mode", "reasonCategory", "ticket"],
    getMints: true,
  },
  exchange: { method: "POST", path: "/api/sys/users/exchange", body: JSON_BODY },
  profiles: { method: "GET", path: "/api/public/coworkers/profiles" },
  setCurrentProfile: {
    method: "PUT",
    path: "/api/public/coworkers/profiles/current",
    body: JSON_BODY,
  },
  me: { method: "GET", path: "/api/sys/users/me" },
  stopImpersonating: { method: "POST", path: "/api/sys/users/stop-impersonating" },
  signOut: { method: "POST", path: "/api/sys/users/sign-out" },
  audit: {
    method: "GET",
    path: "/api/sys/audit",
    query: [
      "limit",
      "cursor",
      "actorUserId",
      "targetCoworkerId",
      "person",
      "type",
      "outcome",
      "from",
      "to",
    ],
  },
  accessHistory: { method: "GET", path: "/api/public/coworkers/access-history" },
  jwks: { method: "GET", path: "/.well-known/jwks.json" },
  // CONTRACT §8: location policy, member consent, live oversight.
  getPolicy: { method: "GET", path: "/api/sys/policy" },
  updatePolicy: { method: "PUT", path: "/api/sys/policy", body: JSON_BODY },
  supportAccess: { method: "GET", path: "/api/public/coworkers/support-access" },
  grantSupportAccess: {
    method: "POST",
    path: "/api/public/coworkers/support-access",
    body: JSON_BODY,
  },
  revokeSupportAccess: {
    method: "DELETE",
    path: "/api/public/coworkers/support-access/{grantId}",
  },
  endSupportSession: {
    method: "POST",
    path: "/api/public/coworkers/support-access/sessions/{sessionId}/end",
  },
  liveImpersonations: { method: "GET", path: "/api/sys/impersonations" },
  endImpersonation: { method: "POST", path: "/api/sys/impersonations/{sessionId}/end" },
  listNotices: { method: "GET", path: "/api/public/coworkers/notices" },
  markNoticeRead: { method: "POST", path: "/api/public/coworkers/notices/{id}/read" },
  reauthenticate: { method: "POST", path: "/api/sys/users/reauthenticate", body: JSON_BODY },
  enrolOtp: { method: "POST", path: "/api/sys/users/otp/enroll" },
  confirmOtp: { method: "POST", path: "/api/sys/users/otp/confirm", body: JSON_BODY },
  removeOtp: { method: "DELETE", path: "/api/sys/users/otp" },
  sessionActions: { method: "GET", path: "/api/sys/impersonations/{sessionId}/actions" },
  auditCheckpoints: {
    method: "GET",
    path: "/api/sys/audit/checkpoints",
    query: ["limit", "cursor"],
  },
  auditProof: { method: "GET", path: "/api/sys/audit/proof", query: ["seq", "size"] },
  auditExport: {
    method: "GET",
    path: "/api/sys/audit/export",
    query: ["format", "actorUserId", "targetCoworkerId", "type", "from", "to", "person", "outcome"],
  },
  // CONTRACT §9: webhooks.
  listWebhooks: { method: "GET", path: "/api/sys/webhooks" },
  registerWebhook: { method: "POST", path: "/api/sys/webhooks", body: JSON_BODY },
  removeWebhook: { method: "DELETE", path: "/api/sys/webhooks/{id}" },
  webhookDeliveries: { method: "GET", path: "/api/sys/webhooks/{id}/deliveries" },
} as const satisfies Record<string, RestRouteContract>;

export type RestRouteName = keyof typeof restContract;

/**
 * The operational paths (health, readiness, metrics, the OpenAPI document): the portal's server
 * answers them itself, outside the REST table, so they have no declaration here, only a path.
 */
export const opsPaths = {
  openapi: "/api/openapi.json",
  health: "/api/health",
  ready: "/api/ready",
  metrics: "/api/metrics",
} as const;

/** The names of a path's `{name}` segments. */
export type PathParams<Path extends string> = Path extends `${string}{${infer Name}}${infer Rest}`
  ? Name | PathParams<Rest>
  : never;

/** The `{name}` segments of a path, in order. */
export const pathParams = (path: string): string[] =>
  [...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]!);

/** The names of a route's query parameters. */
export type QueryOf<Name extends RestRouteName> = (typeof restContract)[Name] extends {
  query: readonly (infer Q extends string)[];
}
  ? Q
  : never;

type QueryValue = string | number | boolean | null | undefined;

/**
 * A route's URL: its path with the parameters filled in, and a query string of the values that
 * are set (in the order given; empty ones are left out).
 */
export function routeUrl<Name extends RestRouteName>(
  name: Name,
  params: Record<PathParams<(typeof restContract)[Name]["path"]>, string | number>,
  query: Partial<Record<QueryOf<Name>, QueryValue>> = {},
): string {
  const path = restContract[name].path.replace(/\{(\w+)\}/g, (_, param: string) =>
    String((params as Record<string, string | number>)[param]),
  );
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries<QueryValue>(query)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `${path}?${text}` : path;
}

/**
 * The methods a path answers, as the Allow header names them: its own, HEAD beside GET (except
 * where GET mints), and OPTIONS.
 */
export const allowedMethods = (methods: readonly string[], getMints: boolean): string =>
  [...methods, ...(methods.includes("GET") && !getMints ? ["HEAD"] : []), "OPTIONS"]
    .sort()
    .join(", ");
