// Structured logs: one JSON line per request with its request id, failures logged with the
// request id, and never a token, a password or a cookie — checked on the whole output of a
// portal that signed people in, impersonated, exchanged, stopped and refused sign-ins.
import { createLogger, DomainError, logFailure, logger, requestLogger } from "@cowork/api";
import { answer } from "@cowork/api/rest";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { portalDir, startPortal, type Portal } from "./support/portal";
import {
  anyNumber,
  anyString,
  bearer,
  browserCall,
  browserSignIn,
  call,
  cookiesOf,
  DEMO_PASSWORDS,
  exchange,
  impersonationToken,
  jsonBody,
  signIn,
} from "./ops-helpers";

const JWT = /eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]*)?/;
const FAKE_JWT = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJl";

type Line = Record<string, unknown>;

function memoryLog() {
  const lines: Line[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString().split("\n").filter(Boolean))
        lines.push(JSON.parse(text) as Line);
      done();
    },
  });
  return { lines, logger: createLogger(stream, "info") };
}

describe("the logger", () => {
  it("redacts credentials by key and scrubs token-shaped text from errors", () => {
    const { lines, logger } = memoryLog();
    requestLogger("req-1", logger).info(
      {
        headers: {
          authorization: `Bearer ${FAKE_JWT}`,
          cookie: "portal_session=abc",
          "set-cookie": ["portal_session=abc"],
        },
        password: "demo-member-pass",
        token: FAKE_JWT,
      },
      "a line",
    );
    logger.error(
      {
        err: new Error(`bad token ${FAKE_JWT}`, {
          cause: new Error("Failed query: select 1\nparams: milo@demo.test,demo-member-pass"),
        }),
      },
      "failed",
    );
    const text = JSON.stringify(lines);
    expect(lines[0]).toMatchObject({
      level: "info",
      requestId: "req-1",
      msg: "a line",
      password: "[redacted]",
      token: "[redacted]",
    });
    expect(lines[0]!.headers).toEqual({
      authorization: "[redacted]",
      cookie: "[redacted]",
      "set-cookie": "[redacted]",
    });
    expect(text).not.toMatch(JWT);
    expect(text).not.toContain("demo-member-pass");
    expect(text).not.toContain("milo@demo.test");
    expect(lines[1]).toMatchObject({
      level: "error",
      err: {
        type: "Error",
        message: "bad token [redacted]",
        cause: { message: "Failed query: select 1\nparams: [redacted]" },
      },
    });
  });
});

describe("standard output", () => {
  // Lines leave asynchronously (BENCHMARKS.md); a quiet process must still show its lines, and
  // a process that exits right after logging must not lose them.
  const firstLine = (mode: "idle" | "exit") =>
    new Promise<Line | null>((resolve, reject) => {
      const child = spawn(
        join(portalDir, "node_modules/.bin/tsx"),
        [join(portalDir, "test/support/log-then-wait.ts"), mode],
        {
          cwd: portalDir,
          env: { ...process.env, LOG_LEVEL: "info" },
          stdio: ["ignore", "pipe", "inherit"],
        },
      );
      let output = "";
      // An idle child that never shows its line is stopped, and the line counts as missing.
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      child.on("error", reject);
      child.stdout.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        if (!output.includes("\n")) return;
        child.kill("SIGKILL");
        resolve(JSON.parse(output.split("\n")[0]!) as Line);
      });
      child.on("close", () => {
        clearTimeout(timer);
        resolve(null);
      });
    });

  it("a line logged by a process that then idles reaches standard output", async () => {
    // The child never exits on its own: the line must come out while it idles.
    await expect(firstLine("idle")).resolves.toMatchObject({
      level: "info",
      msg: "first line",
      mode: "idle",
    });
  }, 20_000);

  it("a line logged just before process.exit is written", async () => {
    await expect(firstLine("exit")).resolves.toMatchObject({
      level: "info",
      msg: "first line",
      mode: "exit",
    });
  }, 20_000);
});

describe("failures", () => {
  const captured: string[] = [];
  beforeAll(() => {
    // What the process's logger hands to its standard-output stream.
    const destination = (logger as unknown as Record<symbol, { write(line: string): boolean }>)[
      pino.symbols.streamSym
    ]!;
    vi.spyOn(destination, "write").mockImplementation((chunk: string) => {
      captured.push(String(chunk));
      return true;
    });
  });
  afterAll(() => vi.restoreAllMocks());
  const linesWith = (requestId: string) =>
    captured
      .flatMap((chunk) => chunk.split("\n"))
      .filter((line) => line.includes(requestId))
      .map((line) => JSON.parse(line) as Line);

  it("a bug in a REST handler: 500 with a generic body, logged once with the request id, no token", async () => {
    const response = await answer(
      () => Promise.reject(new Error(`kaboom with ${FAKE_JWT}`)),
      "req-bug-1",
    );
    expect(response.status).toBe(500);
    expect(JSON.parse(response.body!)).toEqual({
      error: "internal",
      message: "Something went wrong on our side.",
    });
    const lines = linesWith("req-bug-1");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: "error",
      requestId: "req-bug-1",
      door: "rest",
      msg: "unexpected error",
      err: { message: "kaboom with [redacted]" },
    });
  });

  it("an outage (tRPC door): a warning with the request id; a caller's mistake: nothing", () => {
    const outage = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), {
      code: "ECONNREFUSED",
    });
    expect(logFailure(outage, "req-outage-1", { door: "trpc", path: "auth.me" }).code).toBe(
      "unavailable",
    );
    expect(linesWith("req-outage-1")).toMatchObject([
      { level: "warn", requestId: "req-outage-1", door: "trpc", path: "auth.me" },
    ]);
    logFailure(new DomainError("forbidden", "Not yours."), "req-caller-1");
    logFailure(new DomainError("invalid_token", "Expired."), "req-caller-2");
    expect([...linesWith("req-caller-1"), ...linesWith("req-caller-2")]).toEqual([]);
  });
});

describe("a whole portal run", () => {
  let portal: Portal;
  let output = "";
  let stopped = false;
  const secrets = new Set<string>(DEMO_PASSWORDS);
  const keep = (...values: (string | undefined)[]) =>
    values.forEach((value) => value && secrets.add(value));

  beforeAll(async () => {
    portal = await startPortal({ env: { SIGNIN_LIMIT_PER_15_MINUTES: "3" } });
    // REST: sign in, impersonate (staff and team, full and read-only), exchange, use, stop.
    const [otto, tess, ada] = [
      await signIn(portal, "otto.operator@demo.test"),
      await signIn(portal, "tess.teamadmin@demo.test"),
      await signIn(portal, "ada.admin@demo.test"),
    ];
    keep(otto, tess, ada);
    const staffToken = await impersonationToken(portal, otto, 42, { reason: "ticket 7" });
    const staffSession = await exchange(portal, staffToken);
    keep(staffToken, staffSession);
    await call(portal, "/api/sys/users/me", { headers: bearer(staffSession) });
    await call(portal, "/api/sys/users/exchange", jsonBody({ token: staffToken })); // replay: 401
    await call(portal, "/api/sys/users/stop-impersonating", {
      method: "POST",
      headers: bearer(staffSession),
    });
    const teamToken = await impersonationToken(portal, tess, 43, { team: true, mode: "readonly" });
    const teamSession = await exchange(portal, teamToken);
    keep(teamToken, teamSession);
    await call(portal, "/api/public/coworkers/profiles/current", {
      method: "PUT",
      headers: { ...bearer(teamSession), "content-type": "application/json" },
      body: '{"coworkerId":43}',
    });
    await call(portal, "/api/public/coworkers/access-history", { headers: bearer(teamSession) });
    await call(portal, "/api/sys/users/sign-out", { method: "POST", headers: bearer(teamSession) });
    await call(portal, "/api/sys/audit", { headers: bearer(ada) });
    // A request with its own id, and secrets in the query string (which is never logged).
    await call(portal, `/api/sys/users/me?token=${otto}&password=demo-operator-pass`, {
      headers: { ...bearer(otto), "x-request-id": "ops-log-check-1" },
    });

    // The browser: cookie sessions, impersonation through the UI's door, pages, leaving.
    const ottoCookie = await browserSignIn(portal, "otto.operator@demo.test", "demo-operator-pass");
    keep(ottoCookie);
    const issued = await browserCall(
      portal,
      "impersonation.impersonate",
      { coworkerId: 42, reason: "browser check" },
      `portal_session=${ottoCookie}`,
    );
    const browserToken = (issued.body.result?.data as { token?: string } | undefined)?.token;
    expect(browserToken).toMatch(JWT);
    keep(browserToken);
    const exchanged = await browserCall(
      portal,
      "impersonation.exchange",
      { token: browserToken },
      `portal_session=${ottoCookie}`,
    );
    const cookies = cookiesOf(exchanged.headers);
    expect(cookies.portal_session).toMatch(JWT);
    expect(cookies.portal_actor).toBe(ottoCookie);
    keep(cookies.portal_session, cookies.portal_actor);
    const cookie = `portal_session=${cookies.portal_session}; portal_actor=${cookies.portal_actor}`;
    expect((await call(portal, "/", { headers: { cookie } })).status).toBe(200);
    expect((await call(portal, "/account/access", { headers: { cookie } })).status).toBe(200);
    const left = await browserCall(portal, "impersonation.leave", undefined, cookie);
    expect(left.status).toBe(200);
    keep(...Object.values(cookiesOf(left.headers)));

    // Failed sign-ins until throttled, over both doors.
    for (const password of [
      "wrong-password-1",
      "wrong-password-2",
      "demo-admin-pass",
      "demo-member-pass",
      "wrong-password-3",
    ]) {
      await call(
        portal,
        "/api/token",
        jsonBody({ grant_type: "password", username: "milo.member@demo.test", password }),
      );
    }
    expect(
      (
        await browserCall(portal, "auth.signIn", {
          email: "nobody@demo.test",
          password: "wrong-password-4",
        })
      ).status,
    ).toBe(429);
    keep("wrong-password-1", "wrong-password-2", "wrong-password-3", "wrong-password-4");

    // Stopped before reading, so that every line of the run has been written.
    stopped = true;
    await portal.stop();
    output = portal.logs();
    if (process.env.OPS_LOG_DUMP) writeFileSync(process.env.OPS_LOG_DUMP, output);
  });
  afterAll(async () => {
    if (!stopped) await portal?.stop();
  });

  it("holds no token, password or cookie", () => {
    expect(output.length).toBeGreaterThan(0);
    expect(output).not.toMatch(JWT);
    for (const secret of secrets)
      expect(
        output.includes(secret),
        `a secret of ${secret.length} characters is in the logs`,
      ).toBe(false);
    expect(output.toLowerCase()).not.toContain("bearer ");
  });

  it("has one JSON request line per request, with request id, method, path without query, status and duration", () => {
    const lines = output
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as Line);
    const requests = lines.filter((line) => line.msg === "request");
    expect(requests.length).toBeGreaterThanOrEqual(25);
    for (const line of requests) {
      expect(line).toMatchObject({
        level: "info",
        requestId: anyString,
        method: anyString,
        path: anyString,
        route: anyString,
        status: anyNumber,
        durationMs: anyNumber,
      });
      expect(line.path).not.toContain("?");
    }
    expect(new Set(requests.map((line) => line.requestId)).size).toBe(requests.length);
    expect(requests.filter((line) => line.requestId === "ops-log-check-1")).toEqual([
      expect.objectContaining({
        method: "GET",
        path: "/api/sys/users/me",
        route: "/api/sys/users/me",
        status: 200,
      }),
    ]);
    expect(requests).toContainEqual(
      expect.objectContaining({
        method: "GET",
        path: "/api/public/coworkers/43/impersonate",
        route: "/api/public/coworkers/[coworkerId]/impersonate",
        status: 200,
      }),
    );
    expect(
      requests.filter((line) => line.path === "/api/token" && line.status === 429).length,
    ).toBeGreaterThanOrEqual(1);
    // Lines from the service itself are JSON too (start-up included).
    expect(
      lines.some((line) => typeof line.msg === "string" && line.msg.startsWith("Portal ready on")),
    ).toBe(true);
  });
});
