// The OpenAPI 3.1 document: valid, served at /api/openapi.json, naming every row of CONTRACT §5
// with its status codes, and describing what the service really answers (live responses are
// validated against the document's own schemas).
import { createConfig, lintFromString } from "@redocly/openapi-core";
import { Validator } from "@seriousme/openapi-schema-validator";
import { openApiDocument } from "@cowork/api/rest";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPortal, type Portal } from "./support/portal";
import {
  type Answer,
  bearer,
  call,
  exchange,
  impersonationToken,
  jsonBody,
  signIn,
} from "./ops-helpers";

interface DocumentedHeader {
  required?: boolean;
  schema?: { const?: string };
}
interface DocumentedResponse {
  content?: Record<string, { schema: Record<string, unknown> }>;
  headers?: Record<string, DocumentedHeader>;
}
interface Operation {
  operationId: string;
  responses: Record<string, DocumentedResponse>;
  parameters?: { name: string; in: string; required: boolean; example?: unknown }[];
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
  // CONTRACT §8
  ["get", "/api/public/coworkers/notices", [200, 401, 403]],
  ["post", "/api/public/coworkers/notices/{id}/read", [204, 401, 403, 404]],
  ["get", "/api/sys/impersonations/{sessionId}/actions", [200, 401, 404]],
  ["get", "/api/health", [200]],
  ["get", "/api/ready", [200, 503]],
  ["get", "/api/metrics", [200]],
  ["get", "/api/openapi.json", [200]],
  // CONTRACT §8
  ["get", "/api/sys/policy", [200, 401]],
  ["put", "/api/sys/policy", [200, 400, 401]],
  ["get", "/api/public/coworkers/support-access", [200, 401, 403]],
  ["post", "/api/public/coworkers/support-access", [201, 400, 401, 403]],
  ["delete", "/api/public/coworkers/support-access/{grantId}", [204, 401, 403, 404]],
  ["post", "/api/public/coworkers/support-access/sessions/{sessionId}/end", [204, 401, 403, 404]],
  ["get", "/api/sys/impersonations", [200, 401]],
  ["post", "/api/sys/impersonations/{sessionId}/end", [204, 401, 404]],
  ["get", "/api/trpc/{procedure}", [200]],
  ["post", "/api/trpc/{procedure}", [200]],
  // CONTRACT §9
  ["get", "/api/sys/audit/checkpoints", [200, 401]],
  ["get", "/api/sys/audit/proof", [200, 400, 401]],
  ["get", "/api/sys/audit/export", [200, 400, 401]],
  ["get", "/api/sys/webhooks", [200, 401]],
  ["post", "/api/sys/webhooks", [201, 400, 401]],
  ["delete", "/api/sys/webhooks/{id}", [204, 401, 404]],
  ["get", "/api/sys/webhooks/{id}/deliveries", [200, 401, 404]],
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

  it("gives every required parameter an example (Dredd will not load it otherwise)", () => {
    const missing: string[] = [];
    for (const [path, operations] of Object.entries(document.paths))
      for (const [method, operation] of Object.entries(operations))
        for (const parameter of operation.parameters ?? [])
          if (parameter.required && parameter.example === undefined)
            missing.push(`${method} ${path} ${parameter.name}`);
    expect(missing).toEqual([]);
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
          ).toMatch(/#\/components\/schemas\/(Error|TokenError)"/);
        }
        const database =
          !["/api/health", "/api/ready", "/api/metrics", "/api/openapi.json"].includes(path) &&
          !path.startsWith("/api/trpc");
        if (database)
          expect(Object.keys(operation.responses), `${method} ${path}`).toContain("503");
      }
    }
    expect(document.paths["/api/token"]!.post!.responses["413"]).toBeDefined();
    // Every REST route reads (and bounds) a body for POST and PUT, and answers 405 to other methods.
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        if (["post", "put"].includes(method))
          expect(Object.keys(operation.responses), `${method} ${path}`).toContain("413");
        if (!path.startsWith("/api/trpc"))
          expect(Object.keys(operation.responses), `${method} ${path}`).toContain("405");
      }
    }
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
      "person",
      "type",
      "outcome",
      "from",
      "to",
    ]);
    expect(JSON.stringify(audit.parameters)).toContain('"maximum":200');
    // The list and the export document the same filters, from the same schema.
    const exported = document.paths["/api/sys/audit/export"]!.get!;
    const byName = (parameters: typeof audit.parameters) =>
      Object.fromEntries((parameters ?? []).map((parameter) => [parameter.name, parameter]));
    for (const name of ["person", "type", "outcome", "from", "to"]) {
      expect(byName(exported.parameters)[name], name).toEqual(byName(audit.parameters)[name]);
    }
    expect(byName(audit.parameters).outcome).toMatchObject({
      schema: { type: "string", enum: ["success", "refused"] },
    });
    expect(byName(audit.parameters).person).toMatchObject({
      schema: { type: "string", maxLength: 100 },
    });
  });
});

describe("against a started portal", () => {
  let portal: Portal;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  // Component references point into the document; resolve them inside the registered schema.
  const local = (schema: unknown) =>
    JSON.parse(
      JSON.stringify(schema).replaceAll("#/components/schemas/", "openapi#/$defs/"),
    ) as Record<string, unknown>;
  ajv.addSchema(local({ $id: "openapi", $defs: document.components.schemas }));

  /** Which operation answered which statuses live (every operation must be seen at least once). */
  const seen = new Map<string, Set<number>>();

  /**
   * A live answer must be one the document gives for that operation: its status (or status
   * range), exactly `application/json` (RFC 8259 defines no charset) with a body valid against
   * the schema, no body where none is documented, and the documented required headers.
   */
  function conforms(method: string, path: string, answer: Answer<unknown>): void {
    const where = `${method} ${path} ${answer.status}`;
    const operation = document.paths[path]![method]!;
    const status = answer.status;
    const response =
      operation.responses[String(status)] ?? operation.responses[`${String(status)[0]}XX`];
    expect(response, `${method} ${path} documents ${status}`).toBeDefined();
    const key = `${method} ${path}`;
    seen.set(key, (seen.get(key) ?? new Set()).add(status));
    for (const [name, header] of Object.entries(response!.headers ?? {})) {
      const value = answer.headers.get(name);
      if (header.required) expect(value, `${where} ${name}`).not.toBeNull();
      if (value !== null && header.schema?.const !== undefined)
        expect(value, `${where} ${name}`).toBe(header.schema.const);
    }
    const content = response!.content;
    if (!content) {
      expect(answer.text, `${where} has no body`).toBe("");
      return;
    }
    const contentType = answer.headers.get("content-type");
    if (!content["application/json"]) {
      expect(Object.keys(content).map((type) => contentType?.startsWith(type))).toContain(true);
      return;
    }
    expect(contentType, where).toBe("application/json");
    const body = answer.body;
    const schema = content["application/json"].schema;
    const validate = ajv.compile(local(schema));
    expect(validate(body) ? [] : validate.errors, where).toEqual([]);
  }

  beforeAll(async () => {
    portal = await startPortal();
  });
  afterAll(() => portal?.stop());

  it("serves the same document at /api/openapi.json", async () => {
    const answer = await call(portal, "/api/openapi.json");
    expect(answer.status).toBe(200);
    expect(answer.headers.get("content-type")).toBe("application/json");
    expect(answer.body).toEqual(JSON.parse(JSON.stringify(document)));
    conforms("get", "/api/openapi.json", answer);
  });

  it("lints clean under Redocly's recommended ruleset", async () => {
    const served = await call(portal, "/api/openapi.json");
    const problems = await lintFromString({
      source: served.text,
      absoluteRef: `${portal.url}/api/openapi.json`,
      config: await createConfig({ extends: ["recommended"] }),
    });
    const found = problems.map(
      (problem) =>
        `${problem.severity} ${problem.ruleId} ${problem.location[0]?.pointer ?? ""}: ${problem.message}`,
    );
    // The one warning kept, for the reason the README gives (the project has no license to name).
    const kept = [
      "warn info-license #/info: Info object should contain `license` field.",
      // CONTRACT §8 fixes both paths. They never collide: {coworkerId} is digits only, and the
      // router matches the literal support-access segment first.
      "warn no-ambiguous-paths #/paths/~1api~1public~1coworkers~1support-access~1{grantId}: Paths should resolve unambiguously. Found two ambiguous paths: `/api/public/coworkers/{coworkerId}/impersonate` and `/api/public/coworkers/support-access/{grantId}`.",
    ];
    expect(found.filter((line) => !kept.includes(line))).toEqual([]);
  });

  it("describes what the service answers", async () => {
    const post = (path: string, init: RequestInit) =>
      call(portal, path, { method: "POST", ...init });
    const signInAnswer = await call(
      portal,
      "/api/token",
      jsonBody({
        grant_type: "password",
        username: "ada.admin@demo.test",
        password: "demo-admin-pass",
      }),
    );
    conforms("post", "/api/token", signInAnswer);
    conforms(
      "post",
      "/api/token",
      await call(portal, "/api/token", jsonBody({ grant_type: "client_credentials" })),
    );
    conforms(
      "post",
      "/api/token",
      await post("/api/token", {
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "grant_type=password&username=ada.admin%40demo.test&password=wrong-password",
      }),
    );
    conforms(
      "post",
      "/api/token",
      await post("/api/token", { headers: { "content-type": "text/plain" }, body: "hello" }),
    );
    // HTTP Basic client authentication with a client this service does not know.
    conforms(
      "post",
      "/api/token",
      await post("/api/token", {
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          authorization: `Basic ${Buffer.from("no-such-client:secret").toString("base64")}`,
        },
        body: "grant_type=password&username=ada.admin%40demo.test&password=demo-admin-pass",
      }),
    );
    const tooLarge = "x".repeat(65 * 1024);
    conforms(
      "post",
      "/api/token",
      await post("/api/token", { headers: { "content-type": "application/json" }, body: tooLarge }),
    );
    conforms("post", "/api/token", await call(portal, "/api/token"));
    const ada = (signInAnswer.body as { access_token: string }).access_token;
    const [otto, tess] = [
      await signIn(portal, "otto.operator@demo.test"),
      await signIn(portal, "tess.teamadmin@demo.test"),
    ];

    const issued = await call(portal, "/api/sys/users/impersonate?coworkerId=42&reason=openapi", {
      headers: bearer(otto),
    });
    conforms("get", "/api/sys/users/impersonate", issued);
    conforms(
      "get",
      "/api/sys/users/impersonate",
      await call(portal, "/api/sys/users/impersonate?coworkerId=99", { headers: bearer(otto) }),
    );
    conforms(
      "get",
      "/api/sys/users/impersonate",
      await call(portal, "/api/sys/users/impersonate?coworkerId=42"),
    );
    conforms(
      "get",
      "/api/sys/users/impersonate",
      await call(portal, "/api/sys/users/impersonate?coworkerId=abc", { headers: bearer(otto) }),
    );
    conforms(
      "get",
      "/api/sys/users/impersonate",
      await call(portal, "/api/sys/users/impersonate?coworkerId=42", {
        method: "DELETE",
        headers: bearer(otto),
      }),
    );
    conforms(
      "get",
      "/api/public/coworkers/{coworkerId}/impersonate",
      await call(portal, "/api/public/coworkers/46/impersonate", { headers: bearer(tess) }),
    );
    const team = await call(portal, "/api/public/coworkers/43/impersonate", {
      headers: bearer(tess),
    });
    conforms("get", "/api/public/coworkers/{coworkerId}/impersonate", team);

    const exchanged = await call(
      portal,
      "/api/sys/users/exchange",
      jsonBody({ token: (issued.body as { token: string }).token }),
    );
    conforms("post", "/api/sys/users/exchange", exchanged);
    conforms(
      "post",
      "/api/sys/users/exchange",
      await call(
        portal,
        "/api/sys/users/exchange",
        jsonBody({ token: (issued.body as { token: string }).token }),
      ),
    );
    conforms(
      "post",
      "/api/sys/users/exchange",
      await post("/api/sys/users/exchange", {
        headers: { "content-type": "text/plain" },
        body: "token",
      }),
    );
    conforms(
      "post",
      "/api/sys/users/exchange",
      await post("/api/sys/users/exchange", {
        headers: { "content-type": "application/json" },
        body: tooLarge,
      }),
    );
    const session = (exchanged.body as { access_token: string }).access_token;

    conforms(
      "get",
      "/api/sys/users/me",
      await call(portal, "/api/sys/users/me", { headers: bearer(session) }),
    );
    conforms(
      "get",
      "/api/sys/users/me",
      await call(portal, "/api/sys/users/me", { headers: bearer(otto) }),
    );
    conforms("get", "/api/sys/users/me", await call(portal, "/api/sys/users/me"));
    conforms(
      "get",
      "/api/sys/users/me",
      await post("/api/sys/users/me", { headers: bearer(otto) }),
    );
    conforms(
      "get",
      "/api/public/coworkers/profiles",
      await call(portal, "/api/public/coworkers/profiles", { headers: bearer(otto) }),
    );
    conforms(
      "get",
      "/api/public/coworkers/profiles",
      await call(portal, "/api/public/coworkers/profiles"),
    );
    conforms(
      "get",
      "/api/public/coworkers/access-history",
      await call(portal, "/api/public/coworkers/access-history", { headers: bearer(session) }),
    );
    // What that impersonated session did, for the location's admin (CONTRACT §9).
    const actionsPath = (sid: string) => `/api/sys/impersonations/${sid}/actions`;
    const sessionActions = actionsPath(String(decodeJwt(session).sid));
    for (const [path, headers] of [
      [sessionActions, bearer(ada)],
      [sessionActions, bearer(otto)],
      [actionsPath("00000000-0000-4000-8000-000000000000"), bearer(ada)],
    ] as const) {
      conforms(
        "get",
        "/api/sys/impersonations/{sessionId}/actions",
        await call(portal, path, { headers }),
      );
    }
    // A body on a route that reads none is still bounded: 413 before the route runs.
    conforms(
      "post",
      "/api/sys/users/stop-impersonating",
      await post("/api/sys/users/stop-impersonating", {
        headers: { ...bearer(session), "content-type": "application/json" },
        body: tooLarge,
      }),
    );
    conforms(
      "post",
      "/api/sys/users/stop-impersonating",
      await post("/api/sys/users/stop-impersonating", { headers: bearer(session) }),
    );
    conforms(
      "post",
      "/api/sys/users/stop-impersonating",
      await post("/api/sys/users/stop-impersonating", { headers: bearer(otto) }),
    );
    conforms(
      "post",
      "/api/sys/users/stop-impersonating",
      await post("/api/sys/users/stop-impersonating", { headers: bearer(session) }),
    );

    const milo = await signIn(portal, "milo.member@demo.test");
    conforms(
      "get",
      "/api/public/coworkers/access-history",
      await call(portal, "/api/public/coworkers/access-history", { headers: bearer(milo) }),
    );
    const nora = await signIn(portal, "nora.nomad@demo.test");
    const put = (body: string, type = "application/json", token = nora) =>
      call(portal, "/api/public/coworkers/profiles/current", {
        method: "PUT",
        headers: { ...bearer(token), "content-type": type },
        body,
      });
    conforms(
      "put",
      "/api/public/coworkers/profiles/current",
      await put(JSON.stringify({ coworkerId: 50 })),
    );
    conforms(
      "put",
      "/api/public/coworkers/profiles/current",
      await put(JSON.stringify({ coworkerId: 42 })),
    );
    conforms(
      "put",
      "/api/public/coworkers/profiles/current",
      await put(JSON.stringify({ coworkerId: "fifty" })),
    );
    conforms(
      "put",
      "/api/public/coworkers/profiles/current",
      await put("coworkerId=50", "text/plain"),
    );
    conforms("put", "/api/public/coworkers/profiles/current", await put(tooLarge));

    // A second exchange to have both kinds and modes in the audit page.
    const asMilo = await exchange(
      portal,
      await impersonationToken(portal, tess, 42, { team: true, mode: "readonly" }),
    );

    // CONTRACT §8: Milo's account was entered (twice, above); his notices, and the refusals.
    const notices = await call<{ items: { id: number }[] }>(
      portal,
      "/api/public/coworkers/notices",
      { headers: bearer(milo) },
    );
    expect(notices.body.items.length).toBeGreaterThanOrEqual(2);
    conforms("get", "/api/public/coworkers/notices", notices);
    const noticesPath = "/api/public/coworkers/notices";
    conforms("get", noticesPath, await call(portal, noticesPath));
    conforms("get", noticesPath, await call(portal, noticesPath, { headers: bearer(asMilo) }));
    conforms("get", noticesPath, await post(noticesPath, { headers: bearer(milo) }));
    const readPath = "/api/public/coworkers/notices/{id}/read";
    const read = (id: number | string, init: RequestInit = {}) =>
      post(`/api/public/coworkers/notices/${id}/read`, init);
    const noticeId = notices.body.items[0]!.id;
    conforms("post", readPath, await read(noticeId, { headers: bearer(milo) }));
    conforms("post", readPath, await read(noticeId));
    conforms("post", readPath, await read(noticeId, { headers: bearer(asMilo) }));
    conforms("post", readPath, await read(noticeId, { headers: bearer(nora) }));
    conforms("post", readPath, await read("abc", { headers: bearer(milo) }));
    conforms(
      "post",
      readPath,
      await read(noticeId, {
        headers: { ...bearer(milo), "content-type": "application/json" },
        body: tooLarge,
      }),
    );
    const audit = await call<{ items: unknown[] }>(portal, "/api/sys/audit?limit=200", {
      headers: bearer(ada),
    });
    expect(audit.body.items.length).toBeGreaterThan(5);
    conforms("get", "/api/sys/audit", audit);
    conforms(
      "get",
      "/api/sys/audit",
      await call(portal, "/api/sys/audit", { headers: bearer(otto) }),
    );
    conforms(
      "get",
      "/api/sys/audit",
      await call(portal, "/api/sys/audit?limit=9999", { headers: bearer(ada) }),
    );
    // CONTRACT §8: policy, consent, live oversight.
    const policyPath = "/api/sys/policy";
    const putPolicy = (token: string, body: string, type = "application/json") =>
      call(portal, policyPath, {
        method: "PUT",
        headers: { ...bearer(token), "content-type": type },
        body,
      });
    conforms("get", policyPath, await call(portal, policyPath, { headers: bearer(otto) }));
    conforms("get", policyPath, await call(portal, policyPath, { headers: bearer(milo) }));
    conforms("put", policyPath, await putPolicy(ada, JSON.stringify({ maxSessionMinutes: 60 })));
    conforms("put", policyPath, await putPolicy(ada, JSON.stringify({ maxSessionMinutes: 0 })));
    conforms("put", policyPath, await putPolicy(otto, JSON.stringify({ notifyMember: true })));
    conforms("put", policyPath, await putPolicy(ada, "x", "text/plain"));
    conforms("put", policyPath, await putPolicy(ada, tooLarge));
    const supportPath = "/api/public/coworkers/support-access";
    const grantAs = (token: string | null, value: unknown) =>
      post(supportPath, {
        headers: { ...(token ? bearer(token) : {}), "content-type": "application/json" },
        body: JSON.stringify(value),
      });
    const granted = await grantAs(milo, { grantedTo: "staff", hours: 2, mode: "readonly" });
    conforms("post", supportPath, granted);
    const grantId = (granted.body as { id: number }).id;
    conforms(
      "post",
      supportPath,
      await grantAs(milo, { grantedTo: "staff", hours: 0, mode: "full" }),
    );
    conforms("post", supportPath, await grantAs(null, {}));
    const teamSession = await exchange(
      portal,
      await impersonationToken(portal, tess, 42, { team: true }),
    );
    conforms("get", supportPath, await call(portal, supportPath, { headers: bearer(milo) }));
    conforms("get", supportPath, await call(portal, supportPath, { headers: bearer(teamSession) }));
    conforms("get", supportPath, await call(portal, supportPath));
    const grantPath = "/api/public/coworkers/support-access/{grantId}";
    const revokeGrant = (id: number | string, token: string) =>
      call(portal, `${supportPath}/${id}`, { method: "DELETE", headers: bearer(token) });
    conforms("delete", grantPath, await revokeGrant(grantId, nora));
    conforms("delete", grantPath, await revokeGrant(grantId, milo));
    conforms("delete", grantPath, await revokeGrant("abc", milo));
    conforms("delete", grantPath, await revokeGrant(grantId, teamSession));
    const live = await call<{ items: { sessionId: string }[] }>(portal, "/api/sys/impersonations", {
      headers: bearer(ada),
    });
    expect(live.body.items.length).toBeGreaterThan(0);
    conforms("get", "/api/sys/impersonations", live);
    conforms(
      "get",
      "/api/sys/impersonations",
      await call(portal, "/api/sys/impersonations", { headers: bearer(otto) }),
    );
    const teamSid = JSON.parse(Buffer.from(teamSession.split(".")[1]!, "base64url").toString()) as {
      sid: string;
    };
    const memberEnd = "/api/public/coworkers/support-access/sessions/{sessionId}/end";
    const endByMember = (sid: string, token?: string) =>
      post(`${supportPath}/sessions/${sid}/end`, token ? { headers: bearer(token) } : {});
    conforms("post", memberEnd, await endByMember(teamSid.sid, nora));
    conforms("post", memberEnd, await endByMember("not-a-uuid", milo));
    conforms("post", memberEnd, await endByMember(teamSid.sid));
    conforms("post", memberEnd, await endByMember(teamSid.sid, teamSession));
    conforms("post", memberEnd, await endByMember(teamSid.sid, milo));
    const adminEnd = "/api/sys/impersonations/{sessionId}/end";
    const another = await exchange(portal, await impersonationToken(portal, otto, 43));
    const anotherSid = (
      JSON.parse(Buffer.from(another.split(".")[1]!, "base64url").toString()) as { sid: string }
    ).sid;
    const endByAdmin = (sid: string, token?: string) =>
      post(`/api/sys/impersonations/${sid}/end`, token ? { headers: bearer(token) } : {});
    conforms("post", adminEnd, await endByAdmin(anotherSid, otto));
    conforms("post", adminEnd, await endByAdmin("not-a-uuid", ada));
    conforms("post", adminEnd, await endByAdmin(anotherSid, ada));
    conforms("post", adminEnd, await endByAdmin(anotherSid, ada));

    // The Merkle log (CONTRACT §9): the portal's sealer signs a checkpoint within 10 s.
    let checkpoints = await call<{ items: { size: number }[] }>(
      portal,
      "/api/sys/audit/checkpoints",
      { headers: bearer(ada) },
    );
    for (let wait = 0; checkpoints.body.items.length === 0 && wait < 60; wait++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      checkpoints = await call(portal, "/api/sys/audit/checkpoints", { headers: bearer(ada) });
    }
    expect(checkpoints.body.items.length).toBeGreaterThan(0);
    conforms("get", "/api/sys/audit/checkpoints", checkpoints);
    conforms(
      "get",
      "/api/sys/audit/checkpoints",
      await call(portal, "/api/sys/audit/checkpoints", { headers: bearer(otto) }),
    );
    const size = checkpoints.body.items[0]!.size;
    for (const query of [`seq=1&size=${size}`, "seq=0&size=1", `seq=1&size=${size + 1}`])
      conforms(
        "get",
        "/api/sys/audit/proof",
        await call(portal, `/api/sys/audit/proof?${query}`, { headers: bearer(ada) }),
      );
    conforms(
      "get",
      "/api/sys/audit/proof",
      await call(portal, "/api/sys/audit/proof?seq=1&size=1", { headers: bearer(otto) }),
    );
    for (const query of ["format=csv", "format=ndjson&type=signin", "format=xml"])
      conforms(
        "get",
        "/api/sys/audit/export",
        await call(portal, `/api/sys/audit/export?${query}`, { headers: bearer(ada) }),
      );
    conforms(
      "get",
      "/api/sys/audit/export",
      await call(portal, "/api/sys/audit/export?format=csv", { headers: bearer(otto) }),
    );
    // Webhooks (CONTRACT §9): registered, listed, their deliveries, removed; refusals.
    const webhooks = "/api/sys/webhooks";
    const register = (token: string, body: unknown) =>
      post(webhooks, {
        headers: { ...bearer(token), "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const registered = await register(ada, {
      url: "https://hooks.example.com/audit",
      events: ["impersonation.exchanged"],
      format: "standard-webhooks",
    });
    expect(registered.status).toBe(201);
    conforms("post", webhooks, registered);
    conforms("post", webhooks, await register(ada, { url: "http://10.0.0.1/", events: ["*"] }));
    conforms("post", webhooks, await register(otto, { url: "https://hooks.example.com/x" }));
    conforms("get", webhooks, await call(portal, webhooks, { headers: bearer(ada) }));
    conforms("get", webhooks, await call(portal, webhooks, { headers: bearer(otto) }));
    const hookId = (registered.body as { id: number }).id;
    const deliveries = (id: number) => `${webhooks}/${id}/deliveries`;
    for (const [path, headers] of [
      [deliveries(hookId), bearer(ada)],
      [deliveries(hookId), bearer(otto)],
      [deliveries(999_999), bearer(ada)],
    ] as const)
      conforms("get", "/api/sys/webhooks/{id}/deliveries", await call(portal, path, { headers }));
    const remove = (id: number, token: string) =>
      call(portal, `${webhooks}/${id}`, { method: "DELETE", headers: bearer(token) });
    conforms("delete", "/api/sys/webhooks/{id}", await remove(hookId, otto));
    conforms("delete", "/api/sys/webhooks/{id}", await remove(hookId, ada));
    conforms("delete", "/api/sys/webhooks/{id}", await remove(hookId, ada));

    conforms("get", "/.well-known/jwks.json", await call(portal, "/.well-known/jwks.json"));
    conforms("get", "/.well-known/jwks.json", await post("/.well-known/jwks.json", {}));
    conforms("get", "/api/health", await call(portal, "/api/health"));
    conforms("get", "/api/health", await post("/api/health", {}));
    conforms("get", "/api/ready", await call(portal, "/api/ready"));
    conforms("get", "/api/ready", await call(portal, "/api/ready", { method: "DELETE" }));
    conforms("get", "/api/metrics", await call(portal, "/api/metrics"));
    conforms("get", "/api/openapi.json", await post("/api/openapi.json", {}));

    // tRPC: its own envelopes, and the `{ error, message }` body of the checks in front of it.
    const trpcQuery = "/api/trpc/{procedure}";
    conforms("get", trpcQuery, await call(portal, "/api/trpc/auth.me", { headers: bearer(ada) }));
    conforms("get", trpcQuery, await call(portal, "/api/trpc/auth.me"));
    conforms("get", trpcQuery, await call(portal, "/api/trpc/no.such", { headers: bearer(ada) }));
    conforms(
      "get",
      trpcQuery,
      await call(portal, "/api/trpc/auth.signOut", { headers: bearer(ada) }),
    );
    conforms(
      "get",
      trpcQuery,
      await call(portal, "/api/trpc/auth.me,auth.me?batch=1&input=%7B%7D", {
        headers: bearer(ada),
      }),
    );
    conforms(
      "post",
      trpcQuery,
      await post("/api/trpc/auth.signOut", {
        headers: { ...bearer(ada), "content-type": "application/json" },
        body: tooLarge,
      }),
    );
    conforms(
      "post",
      trpcQuery,
      await post("/api/trpc/auth.signOut", {
        headers: { ...bearer(ada), "content-type": "text/plain" },
        body: "{}",
      }),
    );
    conforms(
      "post",
      trpcQuery,
      await post("/api/trpc/auth.signOut", {
        headers: { "x-portal-client": "web", origin: "https://elsewhere.example" },
      }),
    );
    conforms(
      "post",
      trpcQuery,
      await post("/api/trpc/auth.signOut", {
        headers: { ...bearer(ada), "content-type": "application/json" },
      }),
    );
    // Ada's session is gone now: REST answers 401 to it.
    conforms(
      "post",
      "/api/sys/users/sign-out",
      await post("/api/sys/users/sign-out", { headers: bearer(ada) }),
    );
    conforms(
      "post",
      "/api/sys/users/sign-out",
      await post("/api/sys/users/sign-out", {
        headers: { ...bearer(milo), "content-type": "application/json" },
        body: tooLarge,
      }),
    );
    conforms(
      "post",
      "/api/sys/users/sign-out",
      await post("/api/sys/users/sign-out", { headers: bearer(milo) }),
    );

    // CONTRACT §10: step-up and one-time-code apps.
    const sam = await signIn(portal, "sam.second@demo.test");
    const asSam = (body?: unknown): RequestInit => ({
      headers: {
        ...bearer(sam),
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const reauthenticate = "/api/sys/users/reauthenticate";
    conforms(
      "post",
      reauthenticate,
      await post(reauthenticate, asSam({ password: "demo-member-pass" })),
    );
    conforms("post", reauthenticate, await post(reauthenticate, asSam({ password: "wrong" })));
    conforms("post", reauthenticate, await post(reauthenticate, asSam({ pass: "x" })));
    conforms("post", reauthenticate, await post(reauthenticate, {}));
    const enrolOtp = "/api/sys/users/otp/enroll";
    conforms("post", enrolOtp, await post(enrolOtp, asSam()));
    conforms("post", enrolOtp, await post(enrolOtp, {}));
    const confirmOtp = "/api/sys/users/otp/confirm";
    conforms("post", confirmOtp, await post(confirmOtp, asSam({ code: "not-a-code" })));
    conforms("post", confirmOtp, await post(confirmOtp, asSam({})));
    const removeOtp = "/api/sys/users/otp";
    // Nothing confirmed: no app to remove.
    conforms("delete", removeOtp, await call(portal, removeOtp, { method: "DELETE", ...asSam() }));
    conforms("delete", removeOtp, await call(portal, removeOtp, { method: "DELETE" }));

    // Last: ten failed sign-ins from this address throttle every further one here for 15 min.
    let throttled: Answer<unknown> | undefined;
    for (let attempt = 0; attempt < 12 && throttled?.status !== 429; attempt++) {
      throttled = await call(
        portal,
        "/api/token",
        jsonBody({ grant_type: "password", username: "nobody@demo.test", password: "wrong-pass" }),
      );
    }
    expect(throttled!.status).toBe(429);
    conforms("post", "/api/token", throttled!);
  });

  it("has seen every operation of the document answer", () => {
    const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method} ${path}`),
    );
    expect(operations.filter((operation) => !seen.has(operation))).toEqual([]);
    // Failures too, not only the happy path: at least these statuses were answered and checked.
    const statuses = new Set([...seen.values()].flatMap((set) => [...set]));
    for (const status of [200, 204, 400, 401, 403, 404, 405, 409, 413, 429])
      expect([...statuses]).toContain(status);
  });
});
