// The OpenAPI 3.1 document: valid, served at /api/openapi.json, naming every row of CONTRACT §5
// with its status codes, and describing what the service really answers (live responses are
// validated against the document's own schemas).
import { Validator } from "@seriousme/openapi-schema-validator";
import { openApiDocument } from "@cowork/api/rest";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPortal, type Portal } from "./support/portal";
import { bearer, call, exchange, impersonationToken, jsonBody, signIn } from "./ops-helpers";

interface Operation {
  operationId: string;
  responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }>;
  parameters?: { name: string; in: string; required: boolean }[];
  requestBody?: { content: Record<string, unknown> };
}
type Document = {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown> };
};

const document = openApiDocument() as unknown as Document;

/** CONTRACT §5: every row, its method and path, and the status codes it names. */
const CONTRACT: [method: string, path: string, statuses: number[]][] = [
  ["post", "/api/token", [200, 400, 429]],
  ["get", "/api/sys/users/impersonate", [200, 400, 401, 403, 404, 429]],
  ["get", "/api/public/coworkers/{coworkerId}/impersonate", [200, 400, 401, 403, 404, 429]],
  ["post", "/api/sys/users/exchange", [200, 400, 401]],
  ["get", "/api/public/coworkers/profiles", [200, 401]],
  ["put", "/api/public/coworkers/profiles/current", [200, 400, 401, 403, 404]],
  ["get", "/api/sys/users/me", [200, 401]],
  ["post", "/api/sys/users/stop-impersonating", [204, 401, 409]],
  ["post", "/api/sys/users/sign-out", [204, 401]],
  ["get", "/api/sys/audit", [200, 401]],
  ["get", "/.well-known/jwks.json", [200]],
  ["get", "/api/public/coworkers/access-history", [200, 401, 403]],
  ["get", "/api/health", [200]],
  ["get", "/api/ready", [200, 503]],
  ["get", "/api/metrics", [200]],
  ["get", "/api/openapi.json", [200]],
  ["get", "/api/trpc/{procedure}", [200]],
  ["post", "/api/trpc/{procedure}", [200]],
];

describe("the document", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    const validator = new Validator();
    const result = await validator.validate(document);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
    expect(document.openapi).toBe("3.1.0");
  });

  it.each(CONTRACT)("%s %s answers %j", (method, path, statuses) => {
    const operation = document.paths[path]?.[method];
    expect(operation, `${method} ${path}`).toBeDefined();
    for (const status of statuses)
      expect(Object.keys(operation!.responses)).toContain(String(status));
  });

  it("gives every REST failure the { error, message } body; every database-backed route its 503", () => {
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        for (const [status, response] of Object.entries(operation.responses)) {
          if (!/^[45]/.test(status) || path.startsWith("/api/trpc") || path === "/api/ready")
            continue;
          expect(
            JSON.stringify(response.content?.["application/json"]?.schema),
            `${method} ${path} ${status}`,
          ).toContain("#/components/schemas/Error");
        }
        const database =
          !["/api/health", "/api/ready", "/api/metrics", "/api/openapi.json"].includes(path) &&
          !path.startsWith("/api/trpc");
        if (database)
          expect(Object.keys(operation.responses), `${method} ${path}`).toContain("503");
      }
    }
    expect(document.paths["/api/token"]!.post!.responses["413"]).toBeDefined();
    expect(document.components.schemas.Error).toMatchObject({ required: ["error", "message"] });
  });

  it("takes its inputs from the validators' schemas", () => {
    const impersonate = document.paths["/api/sys/users/impersonate"]!.get!;
    expect(impersonate.parameters).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          name: "coworkerId",
          in: "query",
          required: true,
          schema: { type: "integer", minimum: 1, maximum: 2147483647 },
        }),
        expect.objectContaining({ name: "reason", schema: { type: "string", maxLength: 500 } }),
        expect.objectContaining({
          name: "mode",
          schema: { type: "string", enum: ["readonly", "full"] },
        }),
      ]),
    );
    const audit = document.paths["/api/sys/audit"]!.get!;
    expect(audit.parameters!.map((parameter) => parameter.name)).toEqual([
      "limit",
      "cursor",
      "actorUserId",
      "targetCoworkerId",
    ]);
    expect(JSON.stringify(audit.parameters)).toContain('"maximum":200');
  });
});

describe("against a started portal", () => {
  let portal: Portal;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ $id: "openapi", $defs: document.components.schemas });

  /** The live answer must match the document's schema for that operation and status. */
  function conforms(method: string, path: string, status: number, body: unknown): void {
    const operation = document.paths[path]![method]!;
    const response = operation.responses[String(status)];
    expect(response, `${method} ${path} documents ${status}`).toBeDefined();
    const schema = response!.content?.["application/json"]?.schema;
    if (!schema) return;
    // Component references point into the document; resolve them inside the registered schema.
    const local = JSON.parse(
      JSON.stringify(schema).replaceAll("#/components/schemas/", "openapi#/$defs/"),
    ) as Record<string, unknown>;
    const validate = ajv.compile(local);
    expect(validate(body) ? [] : validate.errors, `${method} ${path} ${status}`).toEqual([]);
  }

  beforeAll(async () => {
    portal = await startPortal();
  });
  afterAll(() => portal?.stop());

  it("serves the same document at /api/openapi.json", async () => {
    const answer = await call(portal, "/api/openapi.json");
    expect(answer.status).toBe(200);
    expect(answer.headers.get("content-type")).toMatch(/^application\/json/);
    expect(answer.body).toEqual(JSON.parse(JSON.stringify(document)));
  });

  it("describes what the service answers", async () => {
    const signInAnswer = await call(
      portal,
      "/api/token",
      jsonBody({
        grant_type: "password",
        username: "ada.admin@demo.test",
        password: "demo-admin-pass",
      }),
    );
    conforms("post", "/api/token", 200, signInAnswer.body);
    conforms(
      "post",
      "/api/token",
      400,
      (await call(portal, "/api/token", jsonBody({ grant_type: "client_credentials" }))).body,
    );
    const ada = (signInAnswer.body as { access_token: string }).access_token;
    const [otto, tess] = [
      await signIn(portal, "otto.operator@demo.test"),
      await signIn(portal, "tess.teamadmin@demo.test"),
    ];

    const issued = await call(portal, "/api/sys/users/impersonate?coworkerId=42&reason=openapi", {
      headers: bearer(otto),
    });
    conforms("get", "/api/sys/users/impersonate", 200, issued.body);
    conforms(
      "get",
      "/api/sys/users/impersonate",
      404,
      (await call(portal, "/api/sys/users/impersonate?coworkerId=99", { headers: bearer(otto) }))
        .body,
    );
    conforms(
      "get",
      "/api/sys/users/impersonate",
      401,
      (await call(portal, "/api/sys/users/impersonate?coworkerId=42")).body,
    );
    conforms(
      "get",
      "/api/public/coworkers/{coworkerId}/impersonate",
      403,
      (await call(portal, "/api/public/coworkers/46/impersonate", { headers: bearer(tess) })).body,
    );
    const team = await call(portal, "/api/public/coworkers/43/impersonate", {
      headers: bearer(tess),
    });
    conforms("get", "/api/public/coworkers/{coworkerId}/impersonate", 200, team.body);

    const exchanged = await call(
      portal,
      "/api/sys/users/exchange",
      jsonBody({ token: (issued.body as { token: string }).token }),
    );
    conforms("post", "/api/sys/users/exchange", 200, exchanged.body);
    conforms(
      "post",
      "/api/sys/users/exchange",
      401,
      (
        await call(
          portal,
          "/api/sys/users/exchange",
          jsonBody({ token: (issued.body as { token: string }).token }),
        )
      ).body,
    );
    const session = (exchanged.body as { access_token: string }).access_token;

    conforms(
      "get",
      "/api/sys/users/me",
      200,
      (await call(portal, "/api/sys/users/me", { headers: bearer(session) })).body,
    );
    conforms(
      "get",
      "/api/sys/users/me",
      200,
      (await call(portal, "/api/sys/users/me", { headers: bearer(otto) })).body,
    );
    conforms(
      "get",
      "/api/public/coworkers/profiles",
      200,
      (await call(portal, "/api/public/coworkers/profiles", { headers: bearer(otto) })).body,
    );
    conforms(
      "get",
      "/api/public/coworkers/access-history",
      403,
      (await call(portal, "/api/public/coworkers/access-history", { headers: bearer(session) }))
        .body,
    );
    conforms("post", "/api/sys/users/stop-impersonating", 204, null);
    expect(
      (
        await call(portal, "/api/sys/users/stop-impersonating", {
          method: "POST",
          headers: bearer(session),
        })
      ).status,
    ).toBe(204);
    conforms(
      "post",
      "/api/sys/users/stop-impersonating",
      409,
      (
        await call(portal, "/api/sys/users/stop-impersonating", {
          method: "POST",
          headers: bearer(otto),
        })
      ).body,
    );

    const milo = await signIn(portal, "milo.member@demo.test");
    conforms(
      "get",
      "/api/public/coworkers/access-history",
      200,
      (await call(portal, "/api/public/coworkers/access-history", { headers: bearer(milo) })).body,
    );
    const nora = await signIn(portal, "nora.nomad@demo.test");
    const switched = await call(portal, "/api/public/coworkers/profiles/current", {
      method: "PUT",
      headers: { ...bearer(nora), "content-type": "application/json" },
      body: JSON.stringify({ coworkerId: 50 }),
    });
    conforms("put", "/api/public/coworkers/profiles/current", 200, switched.body);
    conforms(
      "put",
      "/api/public/coworkers/profiles/current",
      404,
      (
        await call(portal, "/api/public/coworkers/profiles/current", {
          method: "PUT",
          headers: { ...bearer(nora), "content-type": "application/json" },
          body: JSON.stringify({ coworkerId: 42 }),
        })
      ).body,
    );

    // A second exchange to have both kinds and modes in the audit page.
    await exchange(
      portal,
      await impersonationToken(portal, tess, 42, { team: true, mode: "readonly" }),
    );
    const audit = await call<{ items: unknown[] }>(portal, "/api/sys/audit?limit=200", {
      headers: bearer(ada),
    });
    expect(audit.body.items.length).toBeGreaterThan(5);
    conforms("get", "/api/sys/audit", 200, audit.body);
    conforms(
      "get",
      "/api/sys/audit",
      401,
      (await call(portal, "/api/sys/audit", { headers: bearer(otto) })).body,
    );
    conforms(
      "get",
      "/.well-known/jwks.json",
      200,
      (await call(portal, "/.well-known/jwks.json")).body,
    );
    conforms("get", "/api/health", 200, (await call(portal, "/api/health")).body);
    conforms("get", "/api/ready", 200, (await call(portal, "/api/ready")).body);
  });
});
