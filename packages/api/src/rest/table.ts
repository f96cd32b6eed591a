// Which handler serves which path and method of CONTRACT §5: the one table the portal's server
// dispatches from (outside Next's router: these paths are the hot ones, and none renders a page),
// built from the routes' declarations (contract.ts, declarations.ts).
import { allowedMethods, type RestMethod } from "./contract";
import { type RestHandler as Handler, restRouteDeclarations } from "./declarations";

type Method = RestMethod;

export interface RestRoute {
  /** The path, a `[name]` segment matching one path segment (as in the portal's app folder). */
  pattern: string;
  methods: Partial<Record<Method, Handler>>;
  /** A GET here mints: HEAD is refused (RestRouteContract.getMints). */
  getMints?: true;
  /** RFC 6749 §5.1-5.2 answers: Pragma beside Cache-Control, error_description beside message. */
  oauth?: true;
}

/** The declared routes grouped by path, each path once, with the handler of each method. */
export const restRoutes: readonly RestRoute[] = restRouteDeclarations.reduce<RestRoute[]>(
  (routes, route) => {
    const pattern = route.path.replace(/\{(\w+)\}/g, "[$1]");
    let entry = routes.find((other) => other.pattern === pattern);
    if (!entry) routes.push((entry = { pattern, methods: {} }));
    if (entry.methods[route.method])
      throw new Error(`${route.method} ${route.path} is declared twice`);
    entry.methods[route.method] = route.handler;
    if ("getMints" in route) entry.getMints = true;
    if ("oauth" in route) entry.oauth = true;
    return routes;
  },
  [],
);

export type RestMatch = (
  | { kind: "handler"; pattern: string; handler: Handler; params: Record<string, string> }
  /** The path is ours but not the method: 405 (OPTIONS: 204), naming the allowed ones. */
  | { kind: "method"; pattern: string; allow: string }
) & { oauth: boolean };

const compiled = restRoutes.map((route) => ({
  route,
  segments: route.pattern.split("/").slice(1),
  allow: allowedMethods(Object.keys(route.methods), route.getMints === true),
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
