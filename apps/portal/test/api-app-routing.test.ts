// The one HTTP application's routing, in-process (Fastify's inject, no socket, no Next): every
// REST path of the table reaches its handler with its method, HEAD is GET without the body except
// where GET mints, any other method is 405 naming the allowed ones (OPTIONS: 204), operational
// paths refuse other methods the same way, and paths no API route declares are not API routes.
import { createServiceDeps, loadConfig } from "@cowork/api";
import { restContract } from "@cowork/api/rest";
import { createTestDatabase, type TestDatabase } from "@cowork/db/testing";
import { demoFixturePath, readFixtureFile, seedFixture } from "@cowork/db/seed";
import { type FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApiApp } from "../src/server/api-app";

let database: TestDatabase;
let app: FastifyInstance;

beforeAll(async () => {
  database = await createTestDatabase();
  await seedFixture(database.db, await readFixtureFile(demoFixturePath));
  const deps = await createServiceDeps(
    database.db,
    loadConfig({ AUTH_ISSUER: "http://portal.test" }),
  );
  // No pages: a path no API route declares answers Fastify's own 404.
  app = await buildApiApp({ deps });
});

afterAll(async () => {
  await app.close();
  await database.close();
});

const inject = (method: string, url: string) =>
  app.inject({ method: method as "GET", url, remoteAddress: "203.0.113.9" });

describe("the API application's routes", () => {
  it("reaches every declared REST route with its method (no session: 401, never 404 or 405)", async () => {
    for (const route of Object.values(restContract)) {
      const url = route.path.replace(/\{\w+\}/g, "42");
      const reply = await inject(route.method, url);
      expect({ url, status: reply.statusCode }).not.toMatchObject({ status: 404 });
      expect({ url, status: reply.statusCode }).not.toMatchObject({ status: 405 });
      expect(reply.headers["x-request-id"], url).toBeTruthy();
    }
  });

  it("binds a path parameter, percent-decoded", async () => {
    const reply = await inject("GET", "/api/public/coworkers/%34%32/impersonate");
    expect(reply.statusCode).toBe(401);
  });

  it("answers HEAD as GET without the body, except where GET mints a token", async () => {
    const get = await inject("GET", "/.well-known/jwks.json");
    const head = await inject("HEAD", "/.well-known/jwks.json");
    expect(head.statusCode).toBe(200);
    expect(head.body).toBe("");
    expect(head.headers["content-length"]).toBe(get.headers["content-length"]);
    for (const url of [
      "/api/sys/users/impersonate?coworkerId=42",
      "/api/public/coworkers/42/impersonate",
    ]) {
      const refused = await inject("HEAD", url);
      expect({ url, status: refused.statusCode }).toEqual({ url, status: 405 });
      expect(refused.headers.allow).toBe("GET, OPTIONS");
    }
  });

  it("answers any other method 405 naming the allowed ones, and OPTIONS 204", async () => {
    const post = await inject("POST", "/api/sys/users/me");
    expect(post.statusCode).toBe(405);
    expect(post.headers.allow).toBe("GET, HEAD, OPTIONS");
    expect(post.json()).toMatchObject({ error: "method_not_allowed" });
    const options = await inject("OPTIONS", "/api/sys/users/exchange");
    expect(options.statusCode).toBe(204);
    expect(options.headers.allow).toBe("OPTIONS, POST");
    // /api/token keeps OAuth's dialect on its refusals too.
    const token = await inject("GET", "/api/token");
    expect(token.statusCode).toBe(405);
    expect(token.headers.pragma).toBe("no-cache");
    expect(token.json()).toMatchObject({
      error: "method_not_allowed",
      error_description: expect.any(String) as string,
    });
    for (const url of ["/api/health", "/api/ready", "/api/metrics", "/api/openapi.json"]) {
      const refused = await inject("DELETE", url);
      expect({ url, status: refused.statusCode, allow: refused.headers.allow }).toEqual({
        url,
        status: 405,
        allow: "GET, HEAD, OPTIONS",
      });
    }
  });

  it("leaves every path no API route declares alone", async () => {
    for (const url of ["/", "/api/sys/users/me/x", "/API/sys/users/me", "/api/sys/users"]) {
      const reply = await inject("GET", url);
      expect({ url, status: reply.statusCode }).toEqual({ url, status: 404 });
    }
  });
});
