// The typed REST builders spell the contract's paths, and every path they build is served: by
// the REST table (which the portal's server answers itself) or by a route file of the portal.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { endpoints } from "./endpoints";
import { matchRestRoute, restRoutes } from "./table";

const appDir = fileURLToPath(new URL("../../../../apps/portal/src/app", import.meta.url));

/** The route file that serves a path (a numeric segment may be a [param] folder). */
function routeFileFor(path: string): string | null {
  const segments = new URL(path, "http://x").pathname.split("/").filter(Boolean);
  const walk = (dir: string, rest: string[]): string | null => {
    if (rest.length === 0) return existsSync(`${dir}/route.ts`) ? `${dir}/route.ts` : null;
    const [head, ...tail] = rest as [string, ...string[]];
    if (existsSync(`${dir}/${head}`)) {
      const found = walk(`${dir}/${head}`, tail);
      if (found) return found;
    }
    return /^[0-9]+$/.test(head) && existsSync(`${dir}/[coworkerId]`)
      ? walk(`${dir}/[coworkerId]`, tail)
      : null;
  };
  return walk(appDir, segments);
}

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
      endpoints.public.impersonateTeamMember(42),
      endpoints.public.profiles(),
      endpoints.public.currentProfile(),
      endpoints.public.accessHistory(),
    ];
    const served = (path: string) =>
      matchRestRoute("GET", new URL(path, "http://x").pathname) !== null ||
      routeFileFor(path) !== null;
    expect(built.filter((path) => !served(path))).toEqual([]);
  });

  it("serves each REST path from one place only: the table, or a route file", () => {
    const both = restRoutes
      .map((route) => route.pattern.replace("[coworkerId]", "42"))
      .filter((path) => routeFileFor(path) !== null);
    expect(both).toEqual([]);
  });
});
