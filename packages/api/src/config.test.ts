// Configuration from the environment: defaults, and a bad value refused with the variable named.
import { availableParallelism } from "node:os";
import { generatePrivateJwk } from "@cowork/auth";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config";

function refusedVariable(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message.startsWith((error as ConfigError).variable)).toBe(true);
    expect((error as ConfigError).message).not.toContain("\n");
    return (error as ConfigError).variable;
  }
  return expect.fail(`accepted ${JSON.stringify(env)}`);
}

describe("loadConfig", () => {
  it("has the contract's defaults", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      databaseUrl: undefined,
      port: 3000,
      issuer: "http://localhost:3000",
      impersonationEnabled: true,
      impersonateLimitPerMinute: 30,
      signinLimitPer15Minutes: 10,
      impersonationTokenTtlS: 60,
      signingKeys: null,
      databasePoolSize: Math.max(2, availableParallelism()),
    });
    expect(config.trustedProxies.size).toBe(0);
    expect(loadConfig({ PORT: "4000" }).issuer).toBe("http://localhost:4000");
  });

  it("reads each variable", async () => {
    const jwk = await generatePrivateJwk();
    const config = loadConfig({
      DATABASE_URL: "postgres://postgres@127.0.0.1:5432/test",
      AUTH_ISSUER: "https://portal.example.com/",
      IMPERSONATION: "OFF",
      IMPERSONATE_LIMIT_PER_MINUTE: "5",
      SIGNIN_LIMIT_PER_15_MINUTES: "7",
      IMPERSONATION_TOKEN_TTL_SECONDS: "300",
      TRUSTED_PROXIES: "10.0.0.1, ::1, 172.16.0.0/12, 2001:DB8::/32",
      AUTH_SIGNING_KEYS: JSON.stringify({ keys: [jwk] }),
      DATABASE_POOL_SIZE: "1",
    });
    expect(config).toMatchObject({
      databaseUrl: "postgres://postgres@127.0.0.1:5432/test",
      issuer: "https://portal.example.com",
      impersonationEnabled: false,
      impersonateLimitPerMinute: 5,
      signinLimitPer15Minutes: 7,
      impersonationTokenTtlS: 300,
      signingKeys: [jwk],
      databasePoolSize: 1,
    });
    expect([...config.trustedProxies]).toEqual([
      "10.0.0.1",
      "::1",
      "172.16.0.0/12",
      "2001:db8::/32",
    ]);
    expect(config.trustedProxies.has("172.31.255.254")).toBe(true);
    expect(config.trustedProxies.has("2001:db8:ffff::1")).toBe(true);
  });

  it("refuses a bad value with one line naming the variable", () => {
    const cases: [Record<string, string>, string][] = [
      [{ IMPERSONATION: "maybe" }, "IMPERSONATION"],
      [{ IMPERSONATION: "true" }, "IMPERSONATION"],
      [{ PORT: "0" }, "PORT"],
      [{ PORT: "70000" }, "PORT"],
      [{ PORT: "80a" }, "PORT"],
      [{ IMPERSONATE_LIMIT_PER_MINUTE: "0" }, "IMPERSONATE_LIMIT_PER_MINUTE"],
      [{ IMPERSONATE_LIMIT_PER_MINUTE: "-1" }, "IMPERSONATE_LIMIT_PER_MINUTE"],
      [{ IMPERSONATE_LIMIT_PER_MINUTE: "1e3" }, "IMPERSONATE_LIMIT_PER_MINUTE"],
      [{ SIGNIN_LIMIT_PER_15_MINUTES: "ten" }, "SIGNIN_LIMIT_PER_15_MINUTES"],
      [{ IMPERSONATION_TOKEN_TTL_SECONDS: "301" }, "IMPERSONATION_TOKEN_TTL_SECONDS"],
      [{ IMPERSONATION_TOKEN_TTL_SECONDS: "3600" }, "IMPERSONATION_TOKEN_TTL_SECONDS"],
      [{ AUTH_ISSUER: "not a url" }, "AUTH_ISSUER"],
      [{ AUTH_ISSUER: "ftp://portal.example.com" }, "AUTH_ISSUER"],
      [{ AUTH_ISSUER: "" }, "AUTH_ISSUER"],
      [{ DATABASE_URL: "mysql://db/app" }, "DATABASE_URL"],
      [{ TRUSTED_PROXIES: "proxy.internal" }, "TRUSTED_PROXIES"],
      [{ TRUSTED_PROXIES: "10.0.0.0/33" }, "TRUSTED_PROXIES"],
      [{ TRUSTED_PROXIES: "10.0.0.1/8" }, "TRUSTED_PROXIES"],
      [{ AUTH_SIGNING_KEYS: "{" }, "AUTH_SIGNING_KEYS"],
      [{ AUTH_SIGNING_KEYS: '{"keys":[]}' }, "AUTH_SIGNING_KEYS"],
      [{ DATABASE_POOL_SIZE: "0" }, "DATABASE_POOL_SIZE"],
      [{ DATABASE_POOL_SIZE: "101" }, "DATABASE_POOL_SIZE"],
    ];
    for (const [env, variable] of cases) {
      expect(refusedVariable(env), JSON.stringify(env)).toBe(variable);
    }
  });
});
