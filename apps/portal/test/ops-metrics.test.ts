// /api/metrics: who may scrape (METRICS_TOKEN as a bearer, else loopback only), and that the
// counters, the live-session gauge and the per-route latency histogram follow what happens.
import { randomBytes } from "node:crypto";
import { checkMetricsAccess, ConfigError, isLoopback, loadConfig } from "@cowork/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPortal, type Portal } from "./support/portal";
import {
  anyString,
  bearer,
  call,
  exchange,
  impersonationToken,
  jsonBody,
  signIn,
} from "./ops-helpers";
import { parseExposition, valueOf } from "./support/metrics";

describe("access rules", () => {
  const token = "s3cret-metrics-token-0123456789";
  const local = { authorization: null, clientAddress: "127.0.0.1", forwarded: false };

  it("with a token: only the right bearer token", () => {
    expect(checkMetricsAccess({ ...local, authorization: `Bearer ${token}` }, token)).toBeNull();
    expect(checkMetricsAccess({ ...local, authorization: `bearer ${token}` }, token)).toBeNull();
    for (const authorization of [
      null,
      "",
      `Bearer ${token}x`,
      `Bearer ${token.slice(0, -1)}`,
      `Basic ${token}`,
      token,
      "Bearer ",
    ]) {
      expect(
        checkMetricsAccess({ ...local, authorization }, token)?.status,
        String(authorization),
      ).toBe(401);
    }
  });

  it("without a token: loopback clients that did not come through a proxy", () => {
    for (const address of [
      "127.0.0.1",
      "127.8.9.10",
      "::1",
      "::ffff:127.0.0.1",
      "0:0:0:0:0:0:0:1",
    ]) {
      expect(isLoopback(address), address).toBe(true);
      expect(checkMetricsAccess({ ...local, clientAddress: address }, null), address).toBeNull();
    }
    for (const address of [
      null,
      "",
      "10.0.0.8",
      "203.0.113.9",
      "::2",
      "fe80::1",
      "::ffff:10.0.0.1",
      "128.0.0.1",
    ]) {
      expect(isLoopback(address), String(address)).toBe(false);
      expect(
        checkMetricsAccess({ ...local, clientAddress: address }, null)?.status,
        String(address),
      ).toBe(403);
    }
    expect(checkMetricsAccess({ ...local, forwarded: true }, null)?.status).toBe(403);
  });

  it("METRICS_TOKEN must look like a bearer token of at least 16 characters", () => {
    expect(loadConfig({ METRICS_TOKEN: token }).metricsToken).toBe(token);
    expect(loadConfig({}).metricsToken).toBeNull();
    for (const bad of ["short", "has spaces in it, quite long", "x".repeat(600)]) {
      expect(() => loadConfig({ METRICS_TOKEN: bad })).toThrow(ConfigError);
      expect(() => loadConfig({ METRICS_TOKEN: bad })).toThrow(/^METRICS_TOKEN /);
    }
  });
});

describe("a portal with METRICS_TOKEN", () => {
  const metricsToken = randomBytes(24).toString("base64url");
  let portal: Portal;
  let impersonateThrottled = 0;
  const scrape = async () => {
    const answer = await call(portal, "/api/metrics", { headers: bearer(metricsToken) });
    expect(answer.status).toBe(200);
    return parseExposition(answer.text);
  };

  beforeAll(async () => {
    portal = await startPortal({
      env: {
        METRICS_TOKEN: metricsToken,
        SIGNIN_LIMIT_PER_15_MINUTES: "2",
        IMPERSONATE_LIMIT_PER_MINUTE: "6",
      },
    });
  });
  afterAll(() => portal?.stop());

  it("answers 401 without the token or with another one", async () => {
    for (const headers of [
      {},
      bearer("wrong-token-wrong-token-wrong"),
      { authorization: `Bearer ${metricsToken}extra` },
    ]) {
      const answer = await call(portal, "/api/metrics", { headers });
      expect(answer.status).toBe(401);
      expect(answer.body).toEqual({ error: "unauthorized", message: anyString });
    }
  });

  it("serves Prometheus text with the token", async () => {
    const answer = await call(portal, "/api/metrics", { headers: bearer(metricsToken) });
    expect(answer.status).toBe(200);
    expect(answer.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(answer.text).toContain("# TYPE cowork_impersonation_tokens_issued_total counter");
    expect(answer.text).toContain("# TYPE cowork_http_request_duration_seconds histogram");
    expect(answer.text).toContain("# TYPE cowork_impersonated_sessions_live gauge");
    expect(answer.text).toContain("process_cpu_user_seconds_total");
  });

  it("counts issues, exchanges, refusals and throttling where they happen; the gauge follows live sessions", async () => {
    const [otto, tess] = [
      await signIn(portal, "otto.operator@demo.test"),
      await signIn(portal, "tess.teamadmin@demo.test"),
    ];
    const before = await scrape();
    expect(valueOf(before, "cowork_impersonated_sessions_live")).toBe(0);

    const staffToken = await impersonationToken(portal, otto, 42);
    const staffSession = await exchange(portal, staffToken);
    const teamToken = await impersonationToken(portal, tess, 43, { team: true });
    await exchange(portal, teamToken);
    // Refusals: a replayed token, an unknown coworker, a staff target on the team route.
    expect(
      (await call(portal, "/api/sys/users/exchange", jsonBody({ token: staffToken }))).status,
    ).toBe(401);
    expect(
      (await call(portal, "/api/sys/users/impersonate?coworkerId=99", { headers: bearer(otto) }))
        .status,
    ).toBe(404);
    expect(
      (await call(portal, "/api/public/coworkers/46/impersonate", { headers: bearer(tess) }))
        .status,
    ).toBe(403);

    let after = await scrape();
    expect(valueOf(after, "cowork_impersonation_tokens_issued_total", { kind: "staff" })).toBe(1);
    expect(valueOf(after, "cowork_impersonation_tokens_issued_total", { kind: "team" })).toBe(1);
    expect(valueOf(after, "cowork_impersonation_exchanges_total")).toBe(2);
    expect(
      valueOf(after, "cowork_impersonation_refusals_total", {
        type: "impersonation.exchanged",
        reason: "already_used",
      }),
    ).toBe(1);
    expect(
      valueOf(after, "cowork_impersonation_refusals_total", {
        type: "impersonation.issued",
        reason: "not_found",
      }),
    ).toBe(1);
    expect(
      valueOf(after, "cowork_impersonation_refusals_total", {
        type: "impersonation.issued",
        reason: "staff_target",
      }),
    ).toBe(1);
    expect(valueOf(after, "cowork_impersonated_sessions_live")).toBe(2);

    // Stopping one session takes it out of the gauge at once.
    expect(
      (
        await call(portal, "/api/sys/users/stop-impersonating", {
          method: "POST",
          headers: bearer(staffSession),
        })
      ).status,
    ).toBe(204);
    expect(valueOf(await scrape(), "cowork_impersonated_sessions_live")).toBe(1);

    // Impersonation throttling (limit 6 a minute, in fixed windows: count what was answered).
    for (let index = 0; index < 8; index++) {
      const { status } = await call(portal, "/api/sys/users/impersonate?coworkerId=99", {
        headers: bearer(otto),
      });
      if (status === 429) impersonateThrottled++;
    }
    expect(impersonateThrottled).toBeGreaterThanOrEqual(1);
    after = await scrape();
    expect(valueOf(after, "cowork_throttled_total", { scope: "impersonate" })).toBe(
      impersonateThrottled,
    );
    expect(
      valueOf(after, "cowork_impersonation_refusals_total", {
        type: "impersonation.issued",
        reason: "throttled",
      }),
    ).toBe(impersonateThrottled);

    // Sign-in throttling (last: it also throttles this client address). Limit 2 failures.
    let signinThrottled = 0;
    for (let attempt = 0; attempt < 6 && signinThrottled < 2; attempt++) {
      const { status } = await call(
        portal,
        "/api/token",
        jsonBody({
          grant_type: "password",
          username: "milo.member@demo.test",
          password: `wrong-password-${attempt}`,
        }),
      );
      expect([400, 429]).toContain(status);
      if (status === 429) signinThrottled++;
    }
    expect(signinThrottled).toBe(2);
    expect(valueOf(await scrape(), "cowork_throttled_total", { scope: "signin" })).toBe(2);
  });

  it("records request latency by route pattern, never by raw path", async () => {
    const samples = await scrape();
    const counts = samples.filter(
      (sample) => sample.name === "cowork_http_request_duration_seconds_count",
    );
    expect(
      valueOf(counts, "cowork_http_request_duration_seconds_count", {
        route: "/api/public/coworkers/[coworkerId]/impersonate",
        method: "GET",
        status: "200",
      }),
    ).toBe(1);
    expect(
      valueOf(counts, "cowork_http_request_duration_seconds_count", {
        route: "/api/public/coworkers/[coworkerId]/impersonate",
        status: "403",
      }),
    ).toBe(1);
    expect(
      valueOf(counts, "cowork_http_request_duration_seconds_count", {
        route: "/api/sys/users/impersonate",
        status: "429",
      }),
    ).toBe(impersonateThrottled);
    expect(
      valueOf(counts, "cowork_http_request_duration_seconds_count", {
        route: "/api/token",
        method: "POST",
      }),
    ).toBeGreaterThanOrEqual(5);
    for (const sample of counts)
      expect(sample.labels.route, JSON.stringify(sample.labels)).not.toMatch(/\/\d+(\/|$)|\?/);
    await call(portal, "/no/such/page/123");
    const unmatched = parseExposition(
      (await call(portal, "/api/metrics", { headers: bearer(metricsToken) })).text,
    );
    expect(
      valueOf(unmatched, "cowork_http_request_duration_seconds_count", {
        route: "unmatched",
        status: "404",
      }),
    ).toBeGreaterThanOrEqual(1);
  });
});

describe("a portal without METRICS_TOKEN", () => {
  let portal: Portal;
  beforeAll(async () => {
    portal = await startPortal({
      env: { METRICS_TOKEN: "", TRUSTED_PROXIES: "127.0.0.1,::1,::ffff:127.0.0.1" },
    });
  });
  afterAll(() => portal?.stop());

  it("serves this machine", async () => {
    const answer = await call(portal, "/api/metrics");
    expect(answer.status).toBe(200);
    expect(answer.text).toContain("cowork_impersonated_sessions_live 0");
  });

  it("cannot be fooled by a client naming its own address", async () => {
    const answer = await call(portal, "/api/metrics", {
      headers: { "x-portal-peer-address": "203.0.113.9", "x-portal-forwarded": "0" },
    });
    expect(answer.status).toBe(200);
  });

  it("refuses with 403 what came through a proxy, even a trusted local one", async () => {
    const proxied: Record<string, string>[] = [
      { "x-forwarded-for": "203.0.113.9" },
      { "x-forwarded-for": "127.0.0.1" },
      { forwarded: "for=203.0.113.9" },
      { "x-real-ip": "203.0.113.9", "x-portal-forwarded": "0" },
    ];
    for (const headers of proxied) {
      const answer = await call(portal, "/api/metrics", { headers });
      expect(answer.status, JSON.stringify(headers)).toBe(403);
      expect(answer.body).toEqual({ error: "forbidden", message: anyString });
    }
  });
});
