// Which handler serves which path and method of CONTRACT §5: the one table the portal's server
// dispatches from (outside Next's router: these paths are the hot ones, and none renders a page).
import { type RestAnswer } from "./http";
import { rest, type RestRequest } from "./routes";

type Handler = (input: RestRequest) => Promise<RestAnswer>;
type Method = "GET" | "POST" | "PUT";

export interface RestRoute {
  /** The path, a `[name]` segment matching one path segment (as in the portal's app folder). */
  pattern: string;
  methods: Partial<Record<Method, Handler>>;
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

export const restRoutes: readonly RestRoute[] = [
  { pattern: "/.well-known/jwks.json", methods: { GET: rest.jwks } },
  { pattern: "/api/token", methods: { POST: rest.token }, oauth: true },
  {
    pattern: "/api/sys/users/impersonate",
    methods: { GET: rest.impersonateCoworker },
    getMints: true,
  },
  { pattern: "/api/sys/users/exchange", methods: { POST: rest.exchange } },
  { pattern: "/api/sys/users/me", methods: { GET: rest.me } },
  { pattern: "/api/sys/users/stop-impersonating", methods: { POST: rest.stopImpersonating } },
  { pattern: "/api/sys/users/sign-out", methods: { POST: rest.signOut } },
  { pattern: "/api/sys/audit", methods: { GET: rest.audit } },
  {
    pattern: "/api/public/coworkers/[coworkerId]/impersonate",
    methods: { GET: rest.impersonateTeamMember },
    getMints: true,
  },
  { pattern: "/api/public/coworkers/profiles", methods: { GET: rest.profiles } },
  { pattern: "/api/public/coworkers/profiles/current", methods: { PUT: rest.setCurrentProfile } },
  { pattern: "/api/public/coworkers/access-history", methods: { GET: rest.accessHistory } },
];

export type RestMatch = (
  | { kind: "handler"; pattern: string; handler: Handler; params: Record<string, string> }
  /** The path is ours but not the method: 405 (OPTIONS: 204), naming the allowed ones. */
  | { kind: "method"; pattern: string; allow: string }
) & { oauth: boolean };

const compiled = restRoutes.map((route) => ({
  route,
  segments: route.pattern.split("/").slice(1),
  allow: [
    ...Object.keys(route.methods),
    ...("GET" in route.methods && !route.getMints ? ["HEAD"] : []),
    "OPTIONS",
  ]
    .sort()
    .join(", "),
}));

const decode = (segment: string) => {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
};

/** The route of a path (no query string) and method, or null when the path is not a REST path. */
export function matchRestRoute(method: string, path: string): RestMatch | null {
  const parts = path.split("/").slice(1);
  for (const { route, segments, allow } of compiled) {
    if (segments.length !== parts.length) continue;
    const params: Record<string, string> = {};
    const matches = segments.every((segment, index) => {
      const part = parts[index]!;
      const name = /^\[(\w+)\]$/.exec(segment)?.[1];
      if (!name) return segment === part;
      if (part === "") return false;
      params[name] = decode(part);
      return true;
    });
    if (!matches) continue;
    // HEAD is GET without the body, as HTTP asks (the server drops the body), except where GET
    // mints (getMints above).
    const handler =
      method === "HEAD" && route.getMints
        ? undefined
        : route.methods[(method === "HEAD" ? "GET" : method) as Method];
    const oauth = route.oauth === true;
    return handler
      ? { kind: "handler", pattern: route.pattern, handler, params, oauth }
      : { kind: "method", pattern: route.pattern, allow, oauth };
  }
  return null;
}
