// The REST table's matching: exact paths, one-segment parameters, methods (HEAD as GET, 405 with
// Allow for the others), and nothing for paths that are not REST paths.
import { describe, expect, it } from "vitest";
import { rest } from "./routes";
import { matchRestRoute } from "./table";

describe("matchRestRoute", () => {
  it("finds the handler of a path and method", () => {
    expect(matchRestRoute("GET", "/api/sys/users/me")).toMatchObject({
      kind: "handler",
      pattern: "/api/sys/users/me",
      handler: rest.me,
    });
    expect(matchRestRoute("PUT", "/api/public/coworkers/profiles/current")).toMatchObject({
      handler: rest.setCurrentProfile,
    });
  });

  it("binds a [param] segment, decoded, and prefers no static path over it", () => {
    expect(matchRestRoute("GET", "/api/public/coworkers/%34%32/impersonate")).toMatchObject({
      handler: rest.impersonateTeamMember,
      params: { coworkerId: "42" },
    });
    expect(matchRestRoute("GET", "/api/public/coworkers//impersonate")).toBeNull();
    // A broken escape is handed on as it is (the handler refuses it as a bad id).
    expect(matchRestRoute("GET", "/api/public/coworkers/%E0%A4%A/impersonate")).toMatchObject({
      params: { coworkerId: "%E0%A4%A" },
    });
  });

  it("answers HEAD with the GET handler, and names the allowed methods for any other", () => {
    expect(matchRestRoute("HEAD", "/api/sys/users/me")).toMatchObject({ handler: rest.me });
    expect(matchRestRoute("POST", "/api/sys/users/me")).toEqual({
      kind: "method",
      pattern: "/api/sys/users/me",
      allow: "GET, HEAD, OPTIONS",
      oauth: false,
    });
    expect(matchRestRoute("GET", "/api/sys/users/exchange")).toMatchObject({
      kind: "method",
      allow: "OPTIONS, POST",
    });
  });

  it("refuses HEAD where GET mints a token: 405 naming GET, and no handler to run", () => {
    for (const path of ["/api/sys/users/impersonate", "/api/public/coworkers/42/impersonate"]) {
      expect(matchRestRoute("HEAD", path), path).toEqual({
        kind: "method",
        pattern: expect.stringMatching(/impersonate$/) as string,
        allow: "GET, OPTIONS",
        oauth: false,
      });
      expect(matchRestRoute("GET", path), path).toMatchObject({ kind: "handler" });
    }
  });

  it("marks /api/token, and only it, as an OAuth answer", () => {
    expect(matchRestRoute("POST", "/api/token")).toMatchObject({ kind: "handler", oauth: true });
    expect(matchRestRoute("GET", "/api/token")).toMatchObject({ kind: "method", oauth: true });
    expect(matchRestRoute("POST", "/api/sys/users/exchange")).toMatchObject({ oauth: false });
  });

  it("leaves every other path alone", () => {
    for (const path of [
      "/",
      "/api/trpc/auth.me",
      "/api/health",
      "/api/sys/users/me/",
      "/api/sys/users/me/x",
      "/API/sys/users/me",
      "/api/sys/users",
    ]) {
      expect(matchRestRoute("GET", path), path).toBeNull();
    }
  });
});
