// Input validation at the HTTP edge (security cases F1-F6): one spelling per id, no ambiguous
// parameters, bounded bodies and headers, and a property-based fuzz of the whole REST surface
// that must never produce a 5xx nor change anything with a 4xx.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Agent } from "node:http";
import postgres from "postgres";
import { auditAll, EMAIL, issue, login, me } from "./support/flows";
import { call, expectError, expectNoLeak, fields, type Reply } from "./support/http";
import { errorLinesSince, startPortal, type Portal } from "./support/portal";

/** F1: every spelling but plain decimal digits (as sent on the wire, already URL-encoded). */
const BAD_IDS: [string, string][] = [
  ["empty", ""],
  ["zero", "0"],
  ["negative", "-1"],
  ["fractional", "1.5"],
  ["trailing junk", "42abc"],
  ["exponent", "1e1"],
  ["infinite exponent", "1e309"],
  ["leading space", "%2042"],
  ["trailing space", "42%20"],
  ["plus sign", "%2B42"],
  ["form-encoded space", "+42"],
  ["leading zero", "042"],
  ["hexadecimal", "0x2A"],
  ["full-width digits", encodeURIComponent("４２")],
  ["NUL byte", "42%00"],
  ["SQL OR", encodeURIComponent("42 OR 1=1")],
  ["SQL comment", encodeURIComponent("42;--")],
  ["SQL quote", encodeURIComponent("42' OR '1'='1")],
  ["null", "null"],
  ["true", "true"],
  ["out of range", "2147483648"],
  ["ten thousand nines", "9".repeat(10_000)],
  ["eleven digits", "12345678901"],
  ["arabic-indic digits", encodeURIComponent("٤٢")],
  ["tab", "42%09"],
  ["newline", "42%0A"],
];

describe("input validation (F1-F6)", () => {
  let portal: Portal;
  let otto: string;
  let tess: string;
  let ada: string;
  let adaL2: string;
  let nora: string;

  /** Success events by type, across both locations: every change the service made. */
  const successCounts = async (): Promise<Record<string, number>> => {
    const counts: Record<string, number> = {};
    for (const admin of [ada, adaL2]) {
      for (const item of await auditAll(portal, admin)) {
        if (item.outcome === "success") counts[item.type] = (counts[item.type] ?? 0) + 1;
      }
    }
    return counts;
  };

  beforeAll(async () => {
    portal = await startPortal({
      env: { IMPERSONATE_LIMIT_PER_MINUTE: "100000", SIGNIN_LIMIT_PER_15_MINUTES: "100000" },
    });
    otto = await login(portal, EMAIL.otto);
    tess = await login(portal, EMAIL.tess);
    ada = await login(portal, EMAIL.ada);
    adaL2 = await login(portal, EMAIL.ada, 2);
    nora = await login(portal, EMAIL.nora);
  });

  afterAll(async () => {
    await portal?.stop();
  });

  it("F1/F2: the staff route accepts only ^[1-9][0-9]{0,9}$ up to 2147483647; anything else is 400 with nothing written", async () => {
    const before = await successCounts();
    for (const [name, value] of BAD_IDS) {
      const reply = await call(portal, "GET", `/api/sys/users/impersonate?coworkerId=${value}`, {
        token: otto,
      });
      expect({ name, status: reply.status }).toEqual({ name, status: 400 });
      expectError(reply, 400, "invalid_request");
      expect(reply.text).not.toContain('token":');
    }
    expectError(
      await call(portal, "GET", "/api/sys/users/impersonate", { token: otto }),
      400,
      "invalid_request",
    );
    expectError(
      await call(portal, "GET", "/api/sys/users/impersonate?coworkerId=2147483647", {
        token: otto,
      }),
      404,
      "not_found",
    );
    expectError(
      await call(portal, "GET", "/api/sys/users/impersonate?coworkerId=1", { token: otto }),
      404,
      "not_found",
    );
    expect(await successCounts()).toEqual(before);
  });

  it("F3: duplicated or structured parameters are ambiguous: 400, neither first nor last wins", async () => {
    for (const query of [
      "coworkerId=42&coworkerId=51",
      "coworkerId=51&coworkerId=42",
      "coworkerId=42&coworkerId=42",
      "coworkerId[]=42",
      "coworkerId%5B%5D=42",
      "coworkerId[0]=42",
      "coworkerId=42&reason=a&reason=b",
    ]) {
      const reply = await call(portal, "GET", `/api/sys/users/impersonate?${query}`, {
        token: otto,
      });
      expect({ query, status: reply.status }).toEqual({ query, status: 400 });
      expectError(reply, 400, "invalid_request");
    }
    for (const input of [
      { coworkerId: { gt: 0 } },
      { coworkerId: [42] },
      { coworkerId: "42" },
      [42],
    ]) {
      const reply = await call(portal, "POST", "/api/trpc/impersonation.impersonate", {
        token: otto,
        json: input,
      });
      expect(reply.status).toBe(400);
      expectNoLeak(reply);
    }
  });

  it("F4: the team route's path parameter follows the same grammar; routing tricks never reach a token", async () => {
    for (const [name, value] of BAD_IDS.filter(([, value]) => value !== "")) {
      const reply = await call(portal, "GET", `/api/public/coworkers/${value}/impersonate`, {
        token: tess,
      });
      expect({ name, status: reply.status }).toEqual({ name, status: 400 });
      expectError(reply, 400, "invalid_request");
    }
    for (const path of ["42%2F..%2F43", "..", "42;x", "%20", "42%2F", "%2e%2e", "%2e%2e%2f43"]) {
      const reply = await call(portal, "GET", `/api/public/coworkers/${path}/impersonate`, {
        token: tess,
      });
      expect({
        path,
        status: [400, 404].includes(reply.status) ? "400 or 404" : reply.status,
      }).toEqual({ path, status: "400 or 404" });
      expectNoLeak(reply);
      expect(reply.text).not.toMatch(/"token"/);
    }
    const slash = await call(portal, "GET", "/api/public/coworkers/42/impersonate/", {
      token: tess,
    });
    expect(slash.status === 200 || (slash.status >= 300 && slash.status < 500)).toBe(true);
    if (slash.status >= 300 && slash.status < 400)
      expect(slash.headers.location ?? "").not.toMatch(/ey[A-Za-z0-9_-]+\./);
    expectError(
      await call(portal, "GET", "/api/public/coworkers/2147483647/impersonate", { token: tess }),
      404,
      "not_found",
    );
  });

  it("F5: exchange bodies: 400 for anything but { token: string }, 413 beyond 64 KiB, extras never steer the grant", async () => {
    const cases: [string, Parameters<typeof call>[3]][] = [
      ["no body", {}],
      ["empty object", { json: {} }],
      ["number", { json: { token: 123 } }],
      ["null", { json: { token: null } }],
      ["array", { json: { token: ["x"] } }],
      ["object", { json: { token: { alg: "none" } } }],
      ["empty string", { json: { token: "" } }],
      ["form", { form: { token: "a.b.c" } }],
      ["text/plain", { body: '{"token":"a.b.c"}', headers: { "content-type": "text/plain" } }],
      ["no content type", { body: '{"token":"a.b.c"}' }],
      ["invalid JSON", { body: '{"token":', headers: { "content-type": "application/json" } }],
      ["JSON string", { json: "a.b.c" }],
      [
        "deep JSON",
        {
          body: `{"token":${"[".repeat(30_000)}${"]".repeat(30_000)}}`,
          headers: { "content-type": "application/json" },
        },
      ],
    ];
    for (const [name, options] of cases) {
      const reply = await call(portal, "POST", "/api/sys/users/exchange", options);
      expect({ name, status: reply.status }).toEqual({ name, status: 400 });
      expectError(reply, 400, "invalid_request");
    }
    const huge = await call(portal, "POST", "/api/sys/users/exchange", {
      json: { token: "a".repeat(1024 * 1024) },
    });
    expectError(huge, 413);
    const token = await issue(portal, otto, 42);
    const steered = await call(portal, "POST", "/api/sys/users/exchange", {
      json: { token, coworkerId: 43, act: { sub: "1" }, sub: "5" },
    });
    if (steered.status === 200) {
      const who = fields(await me(portal, fields(steered).access_token as string));
      expect(who).toMatchObject({
        userId: 4,
        profile: { coworkerId: 42 },
        impersonation: { actor: { userId: 2 } },
      });
    } else {
      expectError(steered, 400, "invalid_request");
    }
  });

  it("F6: a reason over 500 characters is 400; an injected one is stored verbatim as one field of one event", async () => {
    expectError(
      await call(
        portal,
        "GET",
        `/api/sys/users/impersonate?coworkerId=42&reason=${"r".repeat(5000)}`,
        { token: otto },
      ),
      400,
      "invalid_request",
    );
    expectError(
      await call(
        portal,
        "GET",
        `/api/sys/users/impersonate?coworkerId=42&reason=${"r".repeat(501)}`,
        { token: otto },
      ),
      400,
      "invalid_request",
    );
    const before = await successCounts();
    const reason = `inj-${Date.now()}\r\n{"type":"impersonation.issued","actor":1}<script>alert(1)</script>'; drop table audit_events;--`;
    const reply = await call(
      portal,
      "GET",
      `/api/sys/users/impersonate?coworkerId=42&reason=${encodeURIComponent(reason)}`,
      { token: otto },
    );
    expect(reply.status).toBe(200);
    const after = await successCounts();
    expect(after["impersonation.issued"]).toBe((before["impersonation.issued"] ?? 0) + 1);
    const events = (await auditAll(portal, ada, { actorUserId: 2 })).filter((event) =>
      event.reason?.startsWith("inj-"),
    );
    expect(events).toHaveLength(1);
    expect(events[0]!.reason).toBe(reason);
    expect(events[0]!.actor?.userId).toBe(2);
  });

  it("F6: profile bodies follow one grammar { coworkerId: positive integer }", async () => {
    const put = (body: Parameters<typeof call>[3]) =>
      call(portal, "PUT", "/api/public/coworkers/profiles/current", { token: nora, ...body });
    for (const body of [
      {},
      { coworkerId: "50" },
      { coworkerId: 50.5 },
      { coworkerId: -1 },
      { coworkerId: 2147483648 },
      { coworkerId: 1e300 },
      { coworkerId: true },
      { id: 50 },
    ]) {
      const reply = await put({ json: body });
      expect({ body, status: reply.status }).toEqual({ body, status: 400 });
      expectError(reply, 400, "invalid_request");
    }
    expectError(await put({ form: { coworkerId: "50" } }), 400, "invalid_request");
    expectError(
      await put({
        body: `{"coworkerId":${"{".repeat(20_000)}${"}".repeat(20_000)}}`,
        headers: { "content-type": "application/json" },
      }),
      400,
      "invalid_request",
    );
    // 50.0 is the integer 50 in JSON: one grammar, one value.
    expect(
      (await put({ body: '{"coworkerId":50.0}', headers: { "content-type": "application/json" } }))
        .status,
    ).toBe(200);
    expect((await put({ json: { coworkerId: 43 } })).status).toBe(200);
  });

  it("answers 413 to every body over 64 KiB, declared or chunked, and changes nothing", async () => {
    const big = "x".repeat(65 * 1024);
    const milo = await login(portal, EMAIL.milo);
    const before = await successCounts();
    const routes: [string, string, string | null][] = [
      ["POST", "/api/token", null],
      ["POST", "/api/sys/users/exchange", null],
      ["PUT", "/api/public/coworkers/profiles/current", nora],
      ["POST", "/api/sys/users/stop-impersonating", milo],
      ["POST", "/api/sys/users/sign-out", milo],
    ];
    for (const [method, path, token] of routes) {
      const declared = await call(portal, method, path, {
        token,
        body: JSON.stringify({ token: big, coworkerId: 50 }),
        headers: { "content-type": "application/json" },
      });
      expect.soft({ path, status: declared.status }).toEqual({ path, status: 413 });
      if (declared.status === 413) expectError(declared, 413);
      const chunked = await call(portal, method, path, {
        token,
        body: JSON.stringify({ grant_type: "password", username: EMAIL.milo, password: big }),
        headers: { "content-type": "application/json", "transfer-encoding": "chunked" },
      });
      expect.soft({ path, chunked: chunked.status }).toEqual({ path, chunked: 413 });
    }
    expect((await me(portal, milo)).status, "a refused body signed the session out").toBe(200);
    expect(await successCounts()).toEqual(before);
  });

  it("answers 431 from Node to oversized headers and URLs, never a 5xx; a big bearer is just a bad bearer", async () => {
    const header = await call(portal, "GET", "/api/sys/users/me", {
      headers: { "x-padding": "a".repeat(20_000) },
    });
    expect(header.status).toBe(431);
    const many = await call(portal, "GET", "/api/sys/users/me", {
      headers: Object.fromEntries(
        Array.from({ length: 600 }, (_, i) => [`x-h${i}`, "a".repeat(40)]),
      ),
    });
    expect(many.status).toBe(431);
    const url = await call(
      portal,
      "GET",
      `/api/sys/users/impersonate?coworkerId=42&reason=${"a".repeat(20_000)}`,
      { token: otto },
    );
    expect([414, 431]).toContain(url.status);
    expectError(
      await call(portal, "GET", "/api/sys/users/me", {
        token: `${"a".repeat(6000)}.${"b".repeat(6000)}.c`,
      }),
      401,
    );
    // The server is still fine afterwards.
    expect((await me(portal, otto)).status).toBe(200);
  });

  const errorLines = (since: number) => errorLinesSince(portal, since);

  /** A tRPC call: a query by GET (input in the URL) or a mutation by POST (JSON body). */
  const trpc = (
    method: "GET" | "POST",
    path: string,
    input: unknown,
    options: Parameters<typeof call>[3] = {},
  ) =>
    method === "GET"
      ? call(
          portal,
          "GET",
          `/api/trpc/${path}${input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(input))}`}`,
          options,
        )
      : call(portal, "POST", `/api/trpc/${path}`, { json: input ?? {}, ...options });

  /** The contract's error of a tRPC answer: its code and the message for people. */
  const trpcError = (reply: Reply) => {
    const error = (reply.json as { error?: { message?: string; data?: { error?: string } } })
      ?.error;
    return { status: reply.status, error: error?.data?.error, message: error?.message };
  };

  it("NUL and other control characters: 400 on both doors with the same message, never a 500 nor an error log line", async () => {
    const since = portal.logs().length;
    const before = await successCounts();
    // The reason: REST query and tRPC input, one schema, one answer.
    for (const control of ["\u0000", "\u0001", "\u001b", "\u007f"]) {
      const reason = `help${control}desk`;
      const rest = await call(
        portal,
        "GET",
        `/api/sys/users/impersonate?coworkerId=42&reason=${encodeURIComponent(reason)}`,
        { token: otto },
      );
      expectError(rest, 400, "invalid_request");
      expect(fields(rest).message).toBe("Invalid reason: must not contain control characters.");
      const team = await call(
        portal,
        "GET",
        `/api/public/coworkers/42/impersonate?reason=${encodeURIComponent(reason)}`,
        { token: tess },
      );
      expectError(team, 400, "invalid_request");
      for (const [path, token] of [
        ["impersonation.impersonate", otto],
        ["impersonation.impersonateTeamMember", tess],
      ] as const) {
        const reply = await trpc("POST", path, { coworkerId: 42, reason }, { token });
        expect(trpcError(reply), path).toEqual({
          status: 400,
          error: "invalid_request",
          message: fields(rest).message,
        });
        expectNoLeak(reply);
      }
    }
    // The return path (tRPC only; REST has none).
    expect(
      trpcError(
        await trpc(
          "POST",
          "impersonation.impersonate",
          { coworkerId: 42, returnPath: "/team\u0000" },
          { token: otto },
        ),
      ),
    ).toEqual({
      status: 400,
      error: "invalid_request",
      message: "Invalid returnPath: must not contain control characters.",
    });
    // The search query.
    expect(
      trpcError(
        await trpc("GET", "directory.searchCoworkers", { query: "no\u0000ra" }, { token: otto }),
      ),
    ).toMatchObject({ status: 400, error: "invalid_request" });
    // The username, as JSON and as a form, and at the tRPC sign-in.
    for (const options of [
      { json: { grant_type: "password", username: `${EMAIL.milo}\u0000`, password: "x" } },
      { form: { grant_type: "password", username: `milo\u0000@demo.test`, password: "x" } },
    ]) {
      expectError(await call(portal, "POST", "/api/token", options), 400, "invalid_request");
    }
    expect(
      trpcError(
        await trpc("POST", "auth.signIn", { email: "milo\u0000@demo.test", password: "x" }),
      ),
    ).toMatchObject({ status: 400, error: "invalid_request" });
    expect(await successCounts()).toEqual(before);
    expect(errorLines(since)).toEqual([]);
  });

  it("tRPC: a wrong method is 405 with Allow, a body that is not JSON is 415, a broken session cookie is 401; no error log line", async () => {
    const since = portal.logs().length;
    const before = await successCounts();
    // GET of a mutation: the mutation does not run.
    const getMutation = await trpc(
      "GET",
      "impersonation.impersonate",
      { coworkerId: 42 },
      { token: otto },
    );
    expect(trpcError(getMutation)).toMatchObject({ status: 405, error: "method_not_allowed" });
    expect(getMutation.headers.allow).toBe("POST");
    // POST of a query.
    const postQuery = await trpc("POST", "auth.me", {}, { token: otto });
    expect(trpcError(postQuery)).toMatchObject({ status: 405, error: "method_not_allowed" });
    expect(postQuery.headers.allow).toBe("GET");
    // A body in another media type, or none named.
    for (const headers of [{ "content-type": "text/plain" }, {}]) {
      const reply = await call(portal, "POST", "/api/trpc/auth.signIn", {
        body: JSON.stringify({ email: EMAIL.milo, password: "demo-member-pass" }),
        headers,
      });
      expect(trpcError(reply), JSON.stringify(headers)).toMatchObject({
        status: 415,
        error: "unsupported_media_type",
      });
    }
    // A session cookie that is not percent-encoding: no session.
    for (const cookie of ["portal_session=%zz", "portal_session=%E0%A4%A", "portal_actor=%"]) {
      const reply = await trpc("GET", "auth.me", undefined, {
        headers: { cookie, "x-portal-client": "web" },
      });
      expect(trpcError(reply), cookie).toMatchObject({ status: 401, error: "unauthorized" });
      // The pages read the same cookie.
      const page = await call(portal, "GET", "/", { headers: { cookie } });
      expect(page.status, `page with ${cookie}`).toBeLessThan(500);
    }
    expect(await successCounts()).toEqual(before);
    expect(errorLines(since)).toEqual([]);
  });

  it("tRPC answers a refused input with a message for people, as REST does, never the schema's issue list", async () => {
    const rest = await call(
      portal,
      "GET",
      "/api/sys/users/impersonate?coworkerId=42&reason=" + "r".repeat(501),
      {
        token: otto,
      },
    );
    expectError(rest, 400, "invalid_request");
    const reply = await trpc(
      "POST",
      "impersonation.impersonate",
      { coworkerId: 42, reason: "r".repeat(501) },
      { token: otto },
    );
    expect(trpcError(reply)).toEqual({
      status: 400,
      error: "invalid_request",
      message: fields(rest).message,
    });
    expect(fields(rest).message).toBe("Invalid reason: must be at most 500 characters.");
    for (const input of [{ coworkerId: "42" }, { coworkerId: 42, extra: true }, [42]]) {
      const refused = await trpc("POST", "impersonation.impersonate", input, { token: otto });
      const { message } = trpcError(refused);
      expect(refused.status).toBe(400);
      expect(message, JSON.stringify(input)).toMatch(/^Invalid [\w.]+: .+\.$/);
      expect(message).not.toMatch(/[[\]{}]|"code"|"path"/);
    }
  });

  it("HEAD on the issue routes mints nothing: 405 naming GET, no token, no grant, no audit event", async () => {
    const since = portal.logs().length;
    const before = await successCounts();
    const database = portal.databaseUrl
      ? postgres(portal.databaseUrl, { max: 1, onnotice: () => undefined })
      : null;
    const grants = async () =>
      database
        ? Number(
            (await database<{ n: string }[]>`select count(*) as n from impersonation_grants`)[0]!.n,
          )
        : null;
    const grantsBefore = await grants();
    const eventsBefore = (await auditAll(portal, ada)).length;
    for (const [path, token] of [
      ["/api/sys/users/impersonate?coworkerId=42&reason=head", otto],
      ["/api/public/coworkers/42/impersonate?reason=head", tess],
    ] as const) {
      const reply = await call(portal, "HEAD", path, { token });
      expect({ path, status: reply.status }).toEqual({ path, status: 405 });
      expect(reply.headers.allow).toBe("GET, OPTIONS");
      expect(reply.text).toBe("");
      // GET itself still issues (the routes are not broken, only HEAD is refused).
      expect((await call(portal, "GET", path, { token })).status).toBe(200);
    }
    const after = await successCounts();
    expect(after["impersonation.issued"]).toBe((before["impersonation.issued"] ?? 0) + 2);
    // The two GETs wrote one issued event each, and HEAD wrote nothing (not even a refusal).
    expect((await auditAll(portal, ada)).length).toBe(eventsBefore + 2);
    if (database) {
      expect(await grants()).toBe(grantsBefore! + 2);
      await database.end({ timeout: 2 });
    }
    // HEAD of a GET that changes nothing is still GET without the body.
    const meHead = await call(portal, "HEAD", "/api/sys/users/me", { token: otto });
    expect(meHead.status).toBe(200);
    expect(errorLines(since)).toEqual([]);
  });

  it("both doors refuse an unknown key, the same way and after the same checks", async () => {
    const before = await successCounts();
    // ?readOnly=true is the tRPC spelling: ignoring it would mint a full token.
    for (const query of [
      "coworkerId=42&readOnly=true",
      "coworkerId=42&extra=1",
      "coworkerId=42&returnPath=%2F",
      "coworkerId=42&__proto__=1",
    ]) {
      expectError(
        await call(portal, "GET", `/api/sys/users/impersonate?${query}`, { token: otto }),
        400,
        "invalid_request",
      );
    }
    expectError(
      await call(portal, "GET", "/api/public/coworkers/42/impersonate?extra=1", { token: tess }),
      400,
      "invalid_request",
    );
    const restAudit = await call(portal, "GET", "/api/sys/audit?limit=5&actorId=1", { token: ada });
    expectError(restAudit, 400, "invalid_request");
    expect(
      trpcError(await trpc("GET", "audit.listEvents", { limit: 5, actorId: 1 }, { token: ada })),
    ).toEqual({
      status: 400,
      error: "invalid_request",
      message: fields(restAudit).message,
    });
    // Bodies: the exchange and the profile switch.
    const token = await issue(portal, otto, 42);
    const restExchange = await call(portal, "POST", "/api/sys/users/exchange", {
      json: { token, coworkerId: 43 },
    });
    expectError(restExchange, 400, "invalid_request");
    expect(
      trpcError(await trpc("POST", "impersonation.exchange", { token, coworkerId: 43 })),
    ).toEqual({ status: 400, error: "invalid_request", message: fields(restExchange).message });
    // Refused before use: the token still exchanges once.
    expect(
      (await call(portal, "POST", "/api/sys/users/exchange", { json: { token } })).status,
    ).toBe(200);
    const restProfile = await call(portal, "PUT", "/api/public/coworkers/profiles/current", {
      token: nora,
      json: { coworkerId: 43, locationId: 2 },
    });
    expectError(restProfile, 400, "invalid_request");
    expect(
      trpcError(
        await trpc(
          "POST",
          "profiles.setCurrentProfile",
          { coworkerId: 43, locationId: 2 },
          { token: nora },
        ),
      ),
    ).toEqual({ status: 400, error: "invalid_request", message: fields(restProfile).message });
    // Without a session, both doors say 401 first, whatever the input.
    expectError(await call(portal, "GET", "/api/sys/users/impersonate?coworkerId=42&extra=1"), 401);
    expect(
      trpcError(await trpc("POST", "impersonation.impersonate", { coworkerId: 42, extra: 1 })),
    ).toMatchObject({
      status: 401,
    });
    const after = await successCounts();
    expect(after["impersonation.issued"]).toBe((before["impersonation.issued"] ?? 0) + 1);
    expect(after["impersonation.exchanged"]).toBe((before["impersonation.exchanged"] ?? 0) + 1);
  });

  it("two Authorization headers: 400 invalid_request on both doors, whichever credential is first", async () => {
    // Node's client sends an array as repeated header lines (the capitalised key is the one
    // node's types let carry several values).
    const since = portal.logs().length;
    for (const pair of [
      [`Bearer ${otto}`, `Bearer ${otto}`],
      [`Bearer ${otto}`, "Bearer not-a-token"],
      ["Bearer not-a-token", `Bearer ${otto}`],
      [`Bearer ${nora}`, `Bearer ${ada}`],
    ]) {
      const rest = await call(portal, "GET", "/api/sys/users/me", {
        headers: { Authorization: pair },
      });
      expectError(rest, 400, "invalid_request");
      const viaTrpc = await trpc("GET", "auth.me", undefined, { headers: { Authorization: pair } });
      expect(viaTrpc.status).toBe(400);
      expect(viaTrpc.json).toEqual(rest.json);
      expectError(
        await call(portal, "GET", "/api/sys/users/impersonate?coworkerId=42", {
          headers: { Authorization: pair },
        }),
        400,
        "invalid_request",
      );
    }
    // One header is still fine on both.
    expect((await trpc("GET", "auth.me", undefined, { token: otto })).status).toBe(200);
    expect((await me(portal, otto)).status).toBe(200);
    expect(errorLines(since)).toEqual([]);
  });

  it("fuzz: 10,000 generated requests across the REST surface, 16 in flight: no 5xx, and no change without a 2xx", async () => {
    const milo = await login(portal, EMAIL.milo);
    const asMilo = fields(
      await call(portal, "POST", "/api/sys/users/exchange", {
        json: { token: await issue(portal, otto, 42) },
      }),
    ).access_token as string;
    // Fresh impersonation tokens in the pool: some exchanges can succeed, each exactly once.
    const grants: string[] = [];
    for (let index = 0; index < 8; index++)
      grants.push(await issue(portal, otto, 42 + (index % 2)));
    const liveTokens = [otto, tess, ada, nora, milo, asMilo];
    const before = await successCounts();
    const database = portal.databaseUrl
      ? postgres(portal.databaseUrl, { max: 2, onnotice: () => undefined })
      : null;
    const snapshot = async () => {
      if (!database) return null;
      const [row] = await database<
        { sessions: string; revoked: string; grants: string; consumed: string }[]
      >`
        select (select count(*) from sessions) as sessions, (select count(*) from sessions where revoked_at is not null) as revoked,
               (select count(*) from impersonation_grants) as grants, (select count(*) from impersonation_grants where consumed_at is not null) as consumed`;
      return row!;
    };
    const dbBefore = await snapshot();

    const idText = fc.oneof(
      fc.integer({ min: 1, max: 60 }).map(String),
      fc.constantFrom(
        "0",
        "-1",
        "042",
        "1e1",
        "0x2A",
        "2147483647",
        "2147483648",
        "42abc",
        "%00",
        "%2042",
        "null",
        encodeURIComponent("４２"),
      ),
      fc.string({ maxLength: 12 }).map(encodeURIComponent),
      fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }).map(String),
    );
    const bearer = fc.oneof(
      fc.constant<string | null>(null),
      fc.constantFrom(...liveTokens),
      fc.string({ maxLength: 40 }),
      fc.constantFrom(
        `${otto}x`,
        otto.split(".").slice(0, 2).join("."),
        grants[0]!,
        "a.b.c",
        `${otto.split(".")[0]}.e30.`,
      ),
    );
    const anyJson = fc.jsonValue({ maxDepth: 4 });
    const body = fc.oneof(
      anyJson.map((value) => ({ json: value })),
      fc
        .record({
          token: fc.oneof(fc.constantFrom(...grants), fc.string({ maxLength: 60 }), anyJson),
        })
        .map((value) => ({ json: value })),
      fc
        .record({
          coworkerId: fc.oneof(
            fc.integer({ min: -5, max: 60 }),
            fc.double(),
            fc.string({ maxLength: 5 }),
          ),
        })
        .map((value) => ({ json: value })),
      fc
        .record(
          {
            grant_type: fc.constantFrom("password", "refresh_token", ""),
            username: fc.constantFrom(EMAIL.milo, EMAIL.otto, "x@y.z", ""),
            password: fc.string({ maxLength: 20 }),
            location_id: idText,
          },
          { requiredKeys: [] },
        )
        .map((value) => ({ form: value })),
      fc
        .string({ maxLength: 200 })
        .map((text) => ({ body: text, headers: { "content-type": "application/json" } })),
      fc
        .string({ maxLength: 200 })
        .map((text) => ({ body: text, headers: { "content-type": "text/plain" } })),
    );
    const reason = fc.option(fc.string({ maxLength: 520 }), { nil: undefined });
    const request = fc.oneof(
      fc.record({ op: fc.constant("staff"), id: idText, reason, dup: fc.boolean(), token: bearer }),
      fc.record({ op: fc.constant("team"), id: idText, reason, dup: fc.boolean(), token: bearer }),
      fc.record({ op: fc.constantFrom("token", "exchange", "setProfile"), body, token: bearer }),
      fc.record({
        op: fc.constantFrom("me", "profiles", "audit", "history", "jwks"),
        token: bearer,
        query: fc.string({ maxLength: 30 }).map(encodeURIComponent),
      }),
      // Ending sessions is tested elsewhere; here only with credentials that cannot end one.
      fc.record({
        op: fc.constantFrom("stop", "signOut"),
        token: fc.oneof(fc.constant<string | null>(null), fc.string({ maxLength: 40 })),
        body,
      }),
    );
    type Generated = {
      op: string;
      id?: string;
      reason?: string | undefined;
      dup?: boolean;
      token: string | null;
      body?: Parameters<typeof call>[3];
      query?: string;
    };

    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    const successes: Record<string, number> = {};
    let sent = 0;
    const statuses: Record<number, number> = {};
    const send = async (generated: Generated): Promise<Reply> => {
      const token = generated.token;
      const query = (id: string) =>
        `coworkerId=${id}${generated.dup ? `&coworkerId=${id}` : ""}${generated.reason === undefined ? "" : `&reason=${encodeURIComponent(generated.reason)}`}`;
      const reasonQuery = () =>
        generated.reason === undefined
          ? ""
          : `?reason=${encodeURIComponent(generated.reason)}${generated.dup ? "&reason=x" : ""}`;
      const options = { token, agent, ...generated.body };
      switch (generated.op) {
        case "staff":
          return call(portal, "GET", `/api/sys/users/impersonate?${query(generated.id!)}`, {
            token,
            agent,
          });
        case "team":
          return call(
            portal,
            "GET",
            `/api/public/coworkers/${generated.id || "%20"}/impersonate${reasonQuery()}`,
            { token, agent },
          );
        case "token":
          return call(portal, "POST", "/api/token", options);
        case "exchange":
          return call(portal, "POST", "/api/sys/users/exchange", options);
        case "setProfile":
          return call(portal, "PUT", "/api/public/coworkers/profiles/current", options);
        case "me":
          return call(portal, "GET", `/api/sys/users/me?${generated.query}`, { token, agent });
        case "profiles":
          return call(portal, "GET", `/api/public/coworkers/profiles?${generated.query}`, {
            token,
            agent,
          });
        case "audit":
          return call(portal, "GET", `/api/sys/audit?${generated.query}`, { token, agent });
        case "history":
          return call(portal, "GET", `/api/public/coworkers/access-history?${generated.query}`, {
            token,
            agent,
          });
        case "jwks":
          return call(portal, "GET", `/.well-known/jwks.json?${generated.query}`, { token, agent });
        case "stop":
          return call(portal, "POST", "/api/sys/users/stop-impersonating", options);
        default:
          return call(portal, "POST", "/api/sys/users/sign-out", options);
      }
    };
    /** The change a 2xx of this operation made, as an audit event type. */
    const changeOf: Record<string, string> = {
      staff: "impersonation.issued",
      team: "impersonation.issued",
      token: "signin",
      exchange: "impersonation.exchanged",
      setProfile: "profile.switched",
      stop: "impersonation.stopped",
      signOut: "session.signed_out",
    };

    await fc.assert(
      fc.asyncProperty(fc.array(request, { minLength: 16, maxLength: 16 }), async (batch) => {
        const replies = await Promise.all(batch.map((generated) => send(generated as Generated)));
        replies.forEach((reply, index) => {
          sent++;
          statuses[reply.status] = (statuses[reply.status] ?? 0) + 1;
          expect(reply.status, `${batch[index]!.op}: ${reply.text.slice(0, 200)}`).toBeLessThan(
            500,
          );
          if (reply.status >= 400 && reply.headers["content-type"]?.startsWith("application/json"))
            expectError(reply, reply.status);
          else if (reply.status >= 400) expect([404, 405, 431]).toContain(reply.status);
          const change = changeOf[batch[index]!.op];
          if (reply.status < 300 && change) successes[change] = (successes[change] ?? 0) + 1;
        });
      }),
      { numRuns: 625, seed: Number(process.env.FUZZ_SEED ?? 20_261_125), endOnFailure: true },
    );
    agent.destroy();
    expect(sent).toBeGreaterThanOrEqual(10_000);
    // Some of everything: the fuzz reached past validation on several routes.
    expect(Object.keys(statuses).length).toBeGreaterThan(4);

    const after = await successCounts();
    for (const type of new Set([
      ...Object.keys(before),
      ...Object.keys(after),
      ...Object.keys(successes),
    ])) {
      expect({ type, delta: (after[type] ?? 0) - (before[type] ?? 0) }).toEqual({
        type,
        delta: successes[type] ?? 0,
      });
    }
    if (database) {
      const dbAfter = (await snapshot())!;
      expect(Number(dbAfter.sessions) - Number(dbBefore!.sessions)).toBe(
        (successes.signin ?? 0) + (successes["impersonation.exchanged"] ?? 0),
      );
      expect(Number(dbAfter.grants) - Number(dbBefore!.grants)).toBe(
        successes["impersonation.issued"] ?? 0,
      );
      expect(Number(dbAfter.consumed) - Number(dbBefore!.consumed)).toBe(
        successes["impersonation.exchanged"] ?? 0,
      );
      expect(dbAfter.revoked).toBe(dbBefore!.revoked);
      await database.end({ timeout: 2 });
    }
    for (const token of liveTokens) expect((await me(portal, token)).status).toBe(200);
  });
});
