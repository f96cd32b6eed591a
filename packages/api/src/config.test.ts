// Configuration from the environment: defaults, and a bad value refused with the variable named.
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { generatePrivateJwk } from "@cowork/auth";
import { loadDatabaseConfig } from "@cowork/db/config";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

/** The one line a refused environment gives (server.ts prints it after "Configuration error: "). */
function refusal(
  env: Record<string, string>,
  load: (env: Record<string, string>) => unknown = loadConfig,
) {
  try {
    load(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  return expect.fail(`accepted ${JSON.stringify(env)}`);
}

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
      pgliteDir: resolve(repoRoot, ".data/pglite"),
      production: false,
      metricsToken: null,
      logLevel: "info",
      stepUpMaxAgeS: 900,
      otpEncryptionKey: null,
      auditSealing: true,
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
      LOG_LEVEL: " Debug ",
      METRICS_TOKEN: "abcdefghijklmnop0123",
      STEP_UP_MAX_AGE_SECONDS: "300",
      OTP_ENCRYPTION_KEY: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
      NODE_ENV: "production",
      AUDIT_SEALING: " Off",
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
      logLevel: "debug",
      metricsToken: "abcdefghijklmnop0123",
      production: true,
      auditSealing: false,
      stepUpMaxAgeS: 300,
      otpEncryptionKey: Buffer.from(
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "hex",
      ),
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
      [{ AUDIT_SEALING: "no" }, "AUDIT_SEALING"],
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
      [{ OUTBOUND_ALLOW_HOSTS: "http://receiver.internal" }, "OUTBOUND_ALLOW_HOSTS"],
      [{ OUTBOUND_ALLOW_HOSTS: "127.0.0.1:8080" }, "OUTBOUND_ALLOW_HOSTS"],
      [{ OUTBOUND_ALLOW_HOSTS: "receiver.internal/hooks" }, "OUTBOUND_ALLOW_HOSTS"],
      [{ AUTH_SIGNING_KEYS: "{" }, "AUTH_SIGNING_KEYS"],
      [{ AUTH_SIGNING_KEYS: '{"keys":[]}' }, "AUTH_SIGNING_KEYS"],
      [{ DATABASE_POOL_SIZE: "0" }, "DATABASE_POOL_SIZE"],
      [{ DATABASE_POOL_SIZE: "101" }, "DATABASE_POOL_SIZE"],
      [{ DATABASE_POOL_SIZE: "two" }, "DATABASE_POOL_SIZE"],
      [{ DATABASE_URL: "postgres://" }, "DATABASE_URL"],
      [{ IMPERSONATION_TOKEN_TTL_SECONDS: "4" }, "IMPERSONATION_TOKEN_TTL_SECONDS"],
      [{ LOG_LEVEL: "verbose" }, "LOG_LEVEL"],
      [{ METRICS_TOKEN: "short" }, "METRICS_TOKEN"],
      [{ METRICS_TOKEN: "has spaces in the middle of it" }, "METRICS_TOKEN"],
    ];
    for (const [env, variable] of cases) {
      expect(refusedVariable(env), JSON.stringify(env)).toBe(variable);
    }
  });

  it("keeps today's one-line messages, word for word", () => {
    const cases: [Record<string, string>, string][] = [
      [{ PORT: "80a" }, 'PORT must be a whole number from 1 to 65535 (got "80a")'],
      [{ PORT: " 0 " }, 'PORT must be a whole number from 1 to 65535 (got "0")'],
      [
        { DATABASE_POOL_SIZE: "101" },
        'DATABASE_POOL_SIZE must be a whole number from 1 to 100 (got "101")',
      ],
      [
        { IMPERSONATE_LIMIT_PER_MINUTE: "-1" },
        'IMPERSONATE_LIMIT_PER_MINUTE must be a whole number from 1 to 100000 (got "-1")',
      ],
      [
        { SIGNIN_LIMIT_PER_15_MINUTES: "ten" },
        'SIGNIN_LIMIT_PER_15_MINUTES must be a whole number from 1 to 100000 (got "ten")',
      ],
      [
        { IMPERSONATION_TOKEN_TTL_SECONDS: "301" },
        'IMPERSONATION_TOKEN_TTL_SECONDS must be a whole number from 5 to 300 (got "301")',
      ],
      [{ IMPERSONATION: "maybe" }, 'IMPERSONATION must be "on" or "off" (got "maybe")'],
      [
        { AUTH_ISSUER: "not a url" },
        "AUTH_ISSUER must be an http(s) URL such as https://portal.example.com",
      ],
      [
        { DATABASE_URL: "mysql://db/app" },
        "DATABASE_URL must be a postgres:// or postgresql:// URL",
      ],
      [
        { METRICS_TOKEN: "short" },
        "METRICS_TOKEN must be 16 to 512 characters of A-Z a-z 0-9 . _ ~ + / - (a bearer token)",
      ],
      [
        { LOG_LEVEL: "verbose" },
        'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "verbose")',
      ],
    ];
    for (const [env, message] of cases) expect(refusal(env), JSON.stringify(env)).toBe(message);
    expect(refusal({ TRUSTED_PROXIES: "proxy.internal" })).toMatch(
      /^TRUSTED_PROXIES must list IP addresses or CIDR ranges \(.+\)$/,
    );
    expect(refusal({ AUTH_SIGNING_KEYS: "{" })).toMatch(/^AUTH_SIGNING_KEYS \S/);
  });

  it("reports the first bad variable of several, in the schema's order", () => {
    expect(refusal({ LOG_LEVEL: "loud", PORT: "x", DATABASE_URL: "mysql://db" })).toMatch(
      /^DATABASE_URL /,
    );
    expect(refusal({ LOG_LEVEL: "loud", IMPERSONATION: "x" })).toMatch(/^IMPERSONATION /);
  });

  it("reads OTP_ENCRYPTION_KEY as 32 bytes in hex or base64, and production refuses to start without it", () => {
    const key = Buffer.alloc(32, 7);
    for (const spelling of [
      key.toString("hex"),
      key.toString("base64"),
      key.toString("base64url"),
      ` ${key.toString("base64")} `,
    ]) {
      expect(loadConfig({ OTP_ENCRYPTION_KEY: spelling }).otpEncryptionKey).toEqual(key);
    }
    for (const bad of [
      "short",
      Buffer.alloc(16).toString("hex"),
      Buffer.alloc(31).toString("base64"),
      "z".repeat(64),
    ]) {
      expect(refusal({ OTP_ENCRYPTION_KEY: bad })).toMatch(/^OTP_ENCRYPTION_KEY must be 32 bytes/);
    }
    expect(refusal({ NODE_ENV: "production" })).toMatch(
      /^OTP_ENCRYPTION_KEY is required in production/,
    );
    expect(refusal({ NODE_ENV: "production", OTP_ENCRYPTION_KEY: " " })).toMatch(
      /^OTP_ENCRYPTION_KEY /,
    );
    expect(loadConfig({ NODE_ENV: "development" }).otpEncryptionKey).toBeNull();
  });

  it("reads STEP_UP_MAX_AGE_SECONDS from 30 s to a day", () => {
    expect(loadConfig({ STEP_UP_MAX_AGE_SECONDS: "30" }).stepUpMaxAgeS).toBe(30);
    expect(loadConfig({ STEP_UP_MAX_AGE_SECONDS: "86400" }).stepUpMaxAgeS).toBe(86_400);
    for (const bad of ["0", "29", "86401", "10m", "-5"]) {
      expect(refusal({ STEP_UP_MAX_AGE_SECONDS: bad })).toMatch(/^STEP_UP_MAX_AGE_SECONDS must be/);
    }
  });

  it("resolves a relative PGLITE_DIR against the repository root, not the working folder", () => {
    expect(existsSync(join(repoRoot, "pnpm-workspace.yaml"))).toBe(true);
    expect(loadConfig({ PGLITE_DIR: "tmp/pglite" }).pgliteDir).toBe(join(repoRoot, "tmp/pglite"));
    expect(loadConfig({ PGLITE_DIR: " ./x " }).pgliteDir).toBe(join(repoRoot, "x"));
    expect(loadConfig({ PGLITE_DIR: "" }).pgliteDir).toBe(join(repoRoot, ".data/pglite"));
    expect(loadConfig({ PGLITE_DIR: "/var/lib/portal" }).pgliteDir).toBe("/var/lib/portal");
  });

  it("reads the environment it is given and writes nothing to it", () => {
    const env = Object.freeze({ PGLITE_DIR: "rel", PORT: "4000", AUTH_ISSUER: "" });
    expect(() => loadConfig({ ...env, AUTH_ISSUER: "http://a.test" })).not.toThrow();
    expect(refusal(env)).toMatch(/^AUTH_ISSUER /);
    expect(env).toEqual({ PGLITE_DIR: "rel", PORT: "4000", AUTH_ISSUER: "" });
  });

  it("reads the database's variables as the command-line tools do (one declaration)", () => {
    const env = {
      DATABASE_URL: " postgresql://app@db.internal/app ",
      PGLITE_DIR: "data/here",
      DATABASE_POOL_SIZE: "7",
      PORT: "8080",
    };
    const service = loadConfig(env);
    expect(loadDatabaseConfig(env)).toEqual({
      url: service.databaseUrl,
      pgliteDir: service.pgliteDir,
      poolSize: service.databasePoolSize,
    });
    expect(service.databaseUrl).toBe("postgresql://app@db.internal/app");
    const bads: Record<string, string>[] = [
      { DATABASE_URL: "postgres://" },
      { DATABASE_URL: "mysql://db/app" },
      { DATABASE_POOL_SIZE: "0" },
    ];
    for (const bad of bads) {
      expect(refusal(bad, loadDatabaseConfig)).toBe(refusal(bad));
    }
  });

  it("reads the mail server and the sender, and refuses a bad one without repeating a password", () => {
    expect(loadConfig({})).toMatchObject({ smtpUrl: null, mailFrom: "portal@localhost" });
    expect(
      loadConfig({
        SMTP_URL: " smtps://notices:secret@mail.example.com:465 ",
        MAIL_FROM: "Coworking Portal <portal@example.com>",
      }),
    ).toMatchObject({
      smtpUrl: "smtps://notices:secret@mail.example.com:465",
      mailFrom: "Coworking Portal <portal@example.com>",
    });
    expect(loadConfig({ SMTP_URL: "smtp://127.0.0.1:2525" }).smtpUrl).toBe("smtp://127.0.0.1:2525");
    for (const bad of ["http://mail.example.com", "mail.example.com:25", "smtp://", "smtp:x"]) {
      expect(refusal({ SMTP_URL: bad }), bad).toBe(
        "SMTP_URL must be an smtp:// or smtps:// URL such as smtp://mail.example.com:587",
      );
    }
    expect(refusal({ SMTP_URL: "imap://user:hunter2@mail.example.com" })).not.toContain("hunter2");
    expect(refusal({ MAIL_FROM: "portal" })).toBe(
      'MAIL_FROM must be a mail address such as portal@example.com (got "portal")',
    );
    // A line break would start another mail header: refused, and the message stays one line.
    const injected = refusal({ MAIL_FROM: "portal@example.com\r\nBcc: all@example.com" });
    expect(injected).toMatch(/^MAIL_FROM /);
    expect(injected).not.toMatch(/[\r\n]/);
  });

  it("reads RETENTION_DAYS (30 by default) and AUDIT_RETENTION_DAYS (unset: never), and refuses a bad one", () => {
    expect(loadConfig({})).toMatchObject({ retentionDays: 30, auditRetentionDays: null });
    expect(loadConfig({ RETENTION_DAYS: " 7 ", AUDIT_RETENTION_DAYS: "400" })).toMatchObject({
      retentionDays: 7,
      auditRetentionDays: 400,
    });
    expect(loadConfig({ AUDIT_RETENTION_DAYS: " " }).auditRetentionDays).toBeNull();
    for (const bad of ["0", "-1", "30d", "1.5", "3651", "thirty"]) {
      expect(refusal({ RETENTION_DAYS: bad }), bad).toBe(
        `RETENTION_DAYS must be a whole number from 1 to 3650 (got "${bad}")`,
      );
    }
    for (const bad of ["0", "-5", "1y", "36501"]) {
      expect(refusal({ AUDIT_RETENTION_DAYS: bad }), bad).toBe(
        `AUDIT_RETENTION_DAYS must be a whole number of days from 1 to 36500, or unset to keep every event (got "${bad}")`,
      );
    }
  });
});
