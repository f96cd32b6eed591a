// Which handler serves which path and method of CONTRACT §5: the one table the portal's server
// dispatches from (outside Next's router: these paths are the hot ones, and none renders a page),
// built from the routes' declarations (contract.ts, declarations.ts).
import { type RestMethod } from "./contract";
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
