// Service configuration from the environment (CONTRACT §2). A bad value stops start-up with one
// line naming the variable.
import { type JWK } from "jose";
import { availableParallelism } from "node:os";
import { parseKeyConfig, type KeyConfigError } from "@cowork/auth";
import { TrustedProxies } from "./addresses";
import { LOG_LEVELS } from "./observability/logger";

export interface ServiceConfig {
  databaseUrl: string | undefined;
  /** PostgreSQL connections this process keeps (postgres-js pipelines statements on each). */
  databasePoolSize: number;
  pgliteDir: string;
  port: number;
  issuer: string;
  impersonationEnabled: boolean;
  impersonateLimitPerMinute: number;
  signinLimitPer15Minutes: number;
  /** Lifetime of an impersonation token, 60 s by default, never above 300 s. */
  impersonationTokenTtlS: number;
  /** Proxies (addresses and CIDR ranges, v4 and v6) whose X-Forwarded-For is believed. */
  trustedProxies: TrustedProxies;
  /** Private JWKs from AUTH_SIGNING_KEYS; null means keys are generated and kept in the database. */
  signingKeys: JWK[] | null;
  production: boolean;
  /** Bearer token a Prometheus scrape of /api/metrics must send; null: loopback clients only. */
  metricsToken: string | null;
}

export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable} ${problem}`);
  }
}

type Env = Record<string, string | undefined>;

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === "") return fallback;
  if (!/^[0-9]+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(name, `must be a whole number from ${min} to ${max} (got "${raw}")`);
  }
  return Number(raw);
}

/**
 * One PostgreSQL connection per core, at least two. Every statement of the service is short and
 * postgres-js pipelines statements on a busy connection, so a few connections carry the load;
 * more only add PostgreSQL backends that compete for the cores (and, on one machine, with this
 * process): on two cores, 2 connections serve 16 % more flows per second than 4 (BENCHMARKS.md).
 * Two, so that one slow statement or a commit waiting for its disk flush never holds up
 * everything.
 */
const defaultPoolSize = () => Math.max(2, availableParallelism());

export function loadConfig(
  env: Env = process.env,
  defaults: { pgliteDir?: string } = {},
): ServiceConfig {
  const databaseUrl = env.DATABASE_URL?.trim() || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\/\S+$/.test(databaseUrl)) {
    throw new ConfigError("DATABASE_URL", "must be a postgres:// or postgresql:// URL");
  }
  const port = integer(env, "PORT", 3000, 1, 65535);
  const issuerRaw = env.AUTH_ISSUER;
  if (issuerRaw !== undefined && !/^https?:\/\/[^\s/]+(\/\S*)?$/.test(issuerRaw.trim())) {
    throw new ConfigError(
      "AUTH_ISSUER",
      "must be an http(s) URL such as https://portal.example.com",
    );
  }
  const issuer = (issuerRaw?.trim() || `http://localhost:${port}`).replace(/\/+$/, "");
  const impersonation = (env.IMPERSONATION?.trim() || "on").toLowerCase();
  if (impersonation !== "on" && impersonation !== "off") {
    throw new ConfigError("IMPERSONATION", `must be "on" or "off" (got "${env.IMPERSONATION}")`);
  }
  let trustedProxies: TrustedProxies;
  try {
    trustedProxies = TrustedProxies.parse(env.TRUSTED_PROXIES ?? "");
  } catch (error) {
    throw new ConfigError(
      "TRUSTED_PROXIES",
      `must list IP addresses or CIDR ranges (${(error as Error).message})`,
    );
  }
  let signingKeys: JWK[] | null = null;
  if (env.AUTH_SIGNING_KEYS?.trim()) {
    try {
      signingKeys = parseKeyConfig(env.AUTH_SIGNING_KEYS);
    } catch (error) {
      throw new ConfigError("AUTH_SIGNING_KEYS", (error as KeyConfigError).message);
    }
  }
  const metricsToken = env.METRICS_TOKEN?.trim() || null;
  if (metricsToken !== null && !/^[A-Za-z0-9._~+/-]{16,512}=*$/.test(metricsToken)) {
    throw new ConfigError(
      "METRICS_TOKEN",
      "must be 16 to 512 characters of A-Z a-z 0-9 . _ ~ + / - (a bearer token)",
    );
  }
  const logLevel = env.LOG_LEVEL?.trim().toLowerCase();
  if (logLevel && !(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError(
      "LOG_LEVEL",
      `must be one of ${LOG_LEVELS.join(", ")} (got "${env.LOG_LEVEL}")`,
    );
  }
  return {
    databaseUrl,
    databasePoolSize: integer(env, "DATABASE_POOL_SIZE", defaultPoolSize(), 1, 100),
    pgliteDir: env.PGLITE_DIR?.trim() || defaults.pgliteDir || ".data/pglite",
    port,
    issuer,
    impersonationEnabled: impersonation === "on",
    impersonateLimitPerMinute: integer(env, "IMPERSONATE_LIMIT_PER_MINUTE", 30, 1, 100_000),
    signinLimitPer15Minutes: integer(env, "SIGNIN_LIMIT_PER_15_MINUTES", 10, 1, 100_000),
    impersonationTokenTtlS: integer(env, "IMPERSONATION_TOKEN_TTL_SECONDS", 60, 5, 300),
    trustedProxies,
    signingKeys,
    production: env.NODE_ENV === "production",
    metricsToken,
  };
}
