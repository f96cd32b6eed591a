// The typed REST builders spell the contract's paths, and every path they build is served: by
// the REST table or by the operational routes the portal's server registers from `opsPaths`
// (apps/portal/src/server/api-app.ts; the portal's tests call each one over HTTP).
import { describe, expect, it } from "vitest";
import { opsPaths } from "./contract";
import { endpoints } from "./endpoints";
import { restRoutes } from "./table";

/** The table's route whose pattern a concrete path fits (one `[name]` = one segment), or null. */
const routeOf = (path: string) =>
  restRoutes.find((route) =>
    new RegExp(`^${route.pattern.replace(/\[\w+\]/g, "[^/]+")}$`).test(path),
  ) ?? null;

const opsRoute = (path: string) => (Object.values(opsPaths) as string[]).includes(path);

describe("endpoints", () => {
  it("builds the contract's paths", () => {
    expect(endpoints.system.getImpersonationToken(42)).toBe(
      "/api/sys/users/impersonate?coworkerId=42",
    );
    expect(
      endpoints.system.getImpersonationToken(42, { reason: "ticket 1&2", mode: "readonly" }),
    ).toBe("/api/sys/users/impersonate?coworkerId=42&reason=ticket+1%262&mode=readonly");
    expect(endpoints.public.impersonateTeamMember(43)).toBe("/api/public/coworkers/43/impersonate");
    expect(endpoints.system.audit({ limit: 20, actorUserId: 2 })).toBe(
      "/api/sys/audit?limit=20&actorUserId=2",
    );
    expect(endpoints.system.audit()).toBe("/api/sys/audit");
    expect(
      endpoints.system.audit({ person: "Milo M", outcome: "refused", from: "2026-05-01T00:00:00Z" }),
    ).toBe("/api/sys/audit?person=Milo+M&outcome=refused&from=2026-05-01T00%3A00%3A00Z");
    expect(endpoints.public.notices()).toBe("/api/public/coworkers/notices");
    expect(endpoints.public.markNoticeRead(7)).toBe("/api/public/coworkers/notices/7/read");
  });

  it("builds only paths the portal serves", () => {
    const built = [
      endpoints.token(),
      endpoints.jwks(),
      endpoints.openapi(),
      endpoints.health(),
      endpoints.ready(),
      endpoints.metrics(),
      endpoints.system.getImpersonationToken(42),
      endpoints.system.exchange(),
      endpoints.system.me(),
      endpoints.system.stopImpersonating(),
      endpoints.system.signOut(),
      endpoints.system.audit(),
      endpoints.system.auditCheckpoints(),
      endpoints.system.auditProof(1, 2),
      endpoints.system.auditExport("csv"),
      endpoints.public.impersonateTeamMember(42),
      endpoints.public.profiles(),
      endpoints.public.currentProfile(),
      endpoints.public.accessHistory(),
      endpoints.public.notices(),
      endpoints.public.markNoticeRead(7),
    ];
    const served = (path: string) =>
      routeOf(new URL(path, "http://x").pathname) !== null ||
      opsRoute(new URL(path, "http://x").pathname);
    expect(built.filter((path) => !served(path))).toEqual([]);
  });

  it("serves each path from one place only: a REST path is never an operational path too", () => {
    const both = restRoutes
      .map((route) => route.pattern.replace(/\[(\w+)\]/g, ":$1"))
      .filter((path) => opsRoute(path));
    expect(both).toEqual([]);
  });
});
