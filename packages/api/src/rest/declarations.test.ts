// One declaration per REST route: every path of CONTRACT §5 is declared exactly once, and the
// three things built from the declarations (the server's dispatch table, the OpenAPI document's
// paths, the typed path builders) each name exactly the declared set.
import { auditListInput } from "@cowork/validators";
import { describe, expect, it } from "vitest";
import { opsPaths, pathParams, restContract, type RestRouteName } from "./contract";
import { restDeclarations } from "./declarations";
import { endpoints } from "./endpoints";
import { openApiDocument } from "./openapi";
import { rest } from "./routes";
import { restRoutes } from "./table";

/** The table's route whose pattern a concrete path fits (one `[name]` = one segment), or null. */
const routeOf = (path: string) =>
  restRoutes.find((route) =>
    new RegExp(`^${route.pattern.replace(/\[\w+\]/g, "[^/]+")}$`).test(path),
  ) ?? null;

/** CONTRACT §5's and §8's REST paths, each with its method (a path may take several). */
const CONTRACT_PATHS: [method: string, path: string][] = [
  ["POST", "/api/token"],
  ["GET", "/api/sys/users/impersonate"],
  ["GET", "/api/public/coworkers/{coworkerId}/impersonate"],
  ["POST", "/api/sys/users/exchange"],
  ["GET", "/api/public/coworkers/profiles"],
  ["PUT", "/api/public/coworkers/profiles/current"],
  ["GET", "/api/sys/users/me"],
  ["POST", "/api/sys/users/stop-impersonating"],
  ["POST", "/api/sys/users/sign-out"],
  ["GET", "/api/sys/audit"],
  ["GET", "/.well-known/jwks.json"],
  ["GET", "/api/public/coworkers/access-history"],
  ["GET", "/api/sys/policy"],
  ["PUT", "/api/sys/policy"],
  ["GET", "/api/public/coworkers/support-access"],
  ["POST", "/api/public/coworkers/support-access"],
  ["DELETE", "/api/public/coworkers/support-access/{grantId}"],
  ["POST", "/api/public/coworkers/support-access/sessions/{sessionId}/end"],
  ["GET", "/api/sys/impersonations"],
  ["POST", "/api/sys/impersonations/{sessionId}/end"],
  // CONTRACT §8
  ["GET", "/api/public/coworkers/notices"],
  ["POST", "/api/public/coworkers/notices/{id}/read"],
  // CONTRACT §10
  ["POST", "/api/sys/users/reauthenticate"],
  ["POST", "/api/sys/users/otp/enroll"],
  ["POST", "/api/sys/users/otp/confirm"],
  ["DELETE", "/api/sys/users/otp"],
  ["GET", "/api/sys/impersonations/{sessionId}/actions"],
  // CONTRACT §9
  ["GET", "/api/sys/audit/checkpoints"],
  ["GET", "/api/sys/audit/proof"],
  ["GET", "/api/sys/audit/export"],
  ["GET", "/api/sys/webhooks"],
  ["POST", "/api/sys/webhooks"],
  ["DELETE", "/api/sys/webhooks/{id}"],
  ["GET", "/api/sys/webhooks/{id}/deliveries"],
];

const names = Object.keys(restContract) as RestRouteName[];
const declared = names.map((name) => restContract[name]);
const sorted = (paths: Iterable<string>) => [...paths].sort();
const contractPaths = sorted(new Set(CONTRACT_PATHS.map(([, path]) => path)));
/** The methods the contract gives a path. */
const methodsOf = (path: string) =>
  sorted(CONTRACT_PATHS.filter(([, other]) => other === path).map(([method]) => method));
/** A table pattern (`[name]` segments) as the declarations spell it (`{name}`). */
const fromPattern = (pattern: string) => pattern.replace(/\[(\w+)\]/g, "{$1}");

interface Operation {
  parameters?: { name: string; in: string }[];
}
const documentPaths = (openApiDocument() as { paths: Record<string, Record<string, Operation>> })
  .paths;

/** Every builder of `endpoints`, called with a coworker id where it takes one. */
function builtPaths(node: object = endpoints): string[] {
  return Object.values(node).flatMap((value: unknown) =>
    typeof value === "function"
      ? [new URL((value as (id: number) => string)(42), "http://x").pathname]
      : builtPaths(value as object),
  );
}

describe("the REST routes' declarations", () => {
  it("declare every contract path exactly once, with its method, and nothing else", () => {
    for (const [method, path] of CONTRACT_PATHS) {
      const routes = declared.filter((route) => route.path === path && route.method === method);
      expect(routes, `${method} ${path}`).toHaveLength(1);
    }
    expect(declared).toHaveLength(CONTRACT_PATHS.length);
    expect(sorted(new Set(declared.map((route) => route.path)))).toEqual(contractPaths);
  });

  it("bind each route to its handler and its documentation, and nothing else", () => {
    expect(sorted(Object.keys(restDeclarations))).toEqual(sorted(names));
    for (const name of names) expect(restDeclarations[name].handler, name).toBe(rest[name]);
  });

  it("are what the dispatch table serves: each declared path once, its method's handler", () => {
    const patterns = restRoutes.map((route) => fromPattern(route.pattern));
    expect(sorted(patterns)).toEqual(contractPaths);
    expect(new Set(patterns).size).toBe(patterns.length);
    for (const name of names) {
      const { method, path } = restContract[name];
      const concrete = path.replace(/\{\w+\}/g, "42");
      const route = routeOf(concrete);
      expect(route?.pattern, path).toBe(path.replace(/\{(\w+)\}/g, "[$1]"));
      expect(route?.methods[method], path).toBe(restDeclarations[name].handler);
    }
  });

  it("are the document's REST paths: each with its method and the parameters it reads", () => {
    const others = [...Object.values(opsPaths), "/api/trpc/{procedure}"];
    expect(sorted(Object.keys(documentPaths).filter((path) => !others.includes(path)))).toEqual(
      contractPaths,
    );
    for (const route of declared) {
      const operations = documentPaths[route.path]!;
      expect(sorted(Object.keys(operations)), route.path).toEqual(
        methodsOf(route.path).map((method) => method.toLowerCase()),
      );
      const parameters = operations[route.method.toLowerCase()]!.parameters ?? [];
      expect(
        parameters.map(({ name, in: place }) => `${place}:${name}`),
        route.path,
      ).toEqual([
        ...pathParams(route.path).map((name) => `path:${name}`),
        ...("query" in route ? route.query : []).map((name) => `query:${name}`),
      ]);
    }
  });

  it("name the audit filter the procedure's schema reads, no more and no fewer", () => {
    expect(restContract.audit.query).toEqual(Object.keys(auditListInput.shape));
  });

  it("are what the path builders build (besides the operational paths), each exactly once", () => {
    const built = builtPaths();
    // One builder per path: a path of several methods (policy, support access) has one.
    expect(new Set(built).size).toBe(built.length);
    const rest = built.filter((path) => !(Object.values(opsPaths) as string[]).includes(path));
    const asDeclared = rest.map((path) => {
      const route = routeOf(new URL(path, "http://x").pathname);
      return route ? fromPattern(route.pattern) : path;
    });
    expect(sorted(asDeclared)).toEqual(contractPaths);
    expect(sorted(built.filter((path) => !rest.includes(path)))).toEqual(
      sorted(Object.values(opsPaths)),
    );
  });
});
