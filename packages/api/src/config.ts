// Service configuration from the environment (CONTRACT §2): one zod schema, parsed once per
// process (apps/portal/server.ts calls loadConfig once and passes the result down: ServiceDeps
// carries it, the logger takes its level from it). A bad value stops start-up with one line
// naming the variable. The database's variables are declared in @cowork/db's config.ts (its
// command-line tools parse them alone) and composed in here; @cowork/db says why plain zod.
import { type JWK } from "jose";
import { z } from "zod";
import { parseKeyConfig, type KeyConfigError } from "@cowork/auth";
import { ConfigError, databaseEnv, parseEnv, wholeNumber, type Env } from "@cowork/db/config";
import { TrustedProxies } from "./addresses";
import { OutboundAllowList } from "./outbound";
import { LOG_LEVELS, type LogLevel } from "./observability/logger";

export { ConfigError };

export interface ServiceConfig {
  databaseUrl: string | undefined;
  /** PostgreSQL connections this process keeps (postgres-js pipelines statements on each). */
  databasePoolSize: number;
  /** The embedded database's folder, absolute (a relative PGLITE_DIR means the repository root). */
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
  /** Level of the process's logs (LOG_LEVEL, `info` by default). */
  logLevel: LogLevel;
  /** `smtp://…` or `smtps://…` of the mail server for member notices; null: mail stays in the outbox. */
  smtpUrl: string | null;
  /** The sender address of those mails. */
  mailFrom: string;
  /**
   * How recently a session must have proven its password (and its one-time code, where one is
   * enrolled) to be issued an impersonation token (CONTRACT §10), in seconds.
   */
  stepUpMaxAgeS: number;
  /**
   * The AES-256 key that encrypts one-time-code secrets at rest (OTP_ENCRYPTION_KEY); null only
   * outside production, where the server keeps a generated key beside the embedded database.
   */
  otpEncryptionKey: Buffer | null;
  /** Hosts webhook deliveries may reach although they are not public (OUTBOUND_ALLOW_HOSTS). */
  outboundAllowHosts: OutboundAllowList;
  /**
   * Days that expired or revoked sessions, used-up grants, old throttle rows, mails done with and
   * used DPoP jtis are kept before the retention job purges them (services/retention).
   */
  retentionDays: number;
  /** Days audit events are kept (sealed ones only, their leaves stay); null: never purged. */
  auditRetentionDays: number | null;
  /**
   * Whether this process runs the audit sealer (AUDIT_SEALING, `on` by default). `off` is for the
   * benchmark that compares sign-ins with and without sealing, and for operators who let other
   * processes on the same database do the sealing; with no process sealing, no checkpoint is
   * signed (CONTRACT §9 wants one within 10 s).
   */
  auditSealing: boolean;
}

/** OTP_ENCRYPTION_KEY: 32 bytes, as 64 hex digits or base64 / base64url (43 or 44 characters). */
export function parseOtpKey(raw: string): Buffer | null {
  const text = raw.trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, "hex");
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(text)) {
    const key = Buffer.from(text.replace(/=$/, ""), "base64url");
    if (key.length === 32) return key;
  }
  return null;
}

/** Thrown by `refuse`, turned into the variable's issue by `variable`. */
class Refused extends Error {
  constructor(readonly problem: string) {
    super(problem);
  }
}
function refuse(problem: string): never {
  throw new Refused(problem);
}

/** An optional variable, read by `read`, which returns its value or calls `refuse`. */
const variable = <T>(read: (raw: string | undefined) => T) =>
  z
    .string()
    .optional()
    .transform((raw, ctx) => {
      try {
        return read(raw);
      } catch (error) {
        if (!(error instanceof Refused)) throw error;
        ctx.addIssue({ code: "custom", message: error.problem });
        return z.NEVER;
      }
    });

// Variables in the order they are checked: the first bad one is the one reported.
/** A switch: `on` (the default) or `off`, in any case. */
const onOff = variable((raw) => {
  const value = (raw?.trim() || "on").toLowerCase();
  if (value !== "on" && value !== "off") refuse(`must be "on" or "off" (got "${raw}")`);
  return value === "on";
});

const serviceEnv = z
  .object({
    DATABASE_URL: databaseEnv.DATABASE_URL,
    PORT: wholeNumber(3000, 1, 65535),
    // Set, even to nothing, it must be a URL; unset, it follows PORT (below).
    AUTH_ISSUER: variable((raw) => {
      if (raw === undefined) return undefined;
      if (!/^https?:\/\/[^\s/]+(\/\S*)?$/.test(raw.trim())) {
        refuse("must be an http(s) URL such as https://portal.example.com");
      }
      return raw.trim().replace(/\/+$/, "");
    }),
    IMPERSONATION: onOff,
    TRUSTED_PROXIES: variable((raw) => {
      try {
        return TrustedProxies.parse(raw ?? "");
      } catch (error) {
        return refuse(`must list IP addresses or CIDR ranges (${(error as Error).message})`);
      }
    }),
    AUTH_SIGNING_KEYS: variable((raw): JWK[] | null => {
      if (!raw?.trim()) return null;
      try {
        return parseKeyConfig(raw);
      } catch (error) {
        return refuse((error as KeyConfigError).message);
      }
    }),
    METRICS_TOKEN: variable((raw) => {
      const token = raw?.trim() || null;
      if (token !== null && !/^[A-Za-z0-9._~+/-]{16,512}=*$/.test(token)) {
        refuse("must be 16 to 512 characters of A-Z a-z 0-9 . _ ~ + / - (a bearer token)");
      }
      return token;
    }),
    LOG_LEVEL: variable((raw): LogLevel => {
      const level = raw?.trim().toLowerCase() || "info";
      return (
        LOG_LEVELS.find((known) => known === level) ??
        refuse(`must be one of ${LOG_LEVELS.join(", ")} (got "${raw}")`)
      );
    }),
    DATABASE_POOL_SIZE: databaseEnv.DATABASE_POOL_SIZE,
    PGLITE_DIR: databaseEnv.PGLITE_DIR,
    IMPERSONATE_LIMIT_PER_MINUTE: wholeNumber(30, 1, 100_000),
    SIGNIN_LIMIT_PER_15_MINUTES: wholeNumber(10, 1, 100_000),
    IMPERSONATION_TOKEN_TTL_SECONDS: wholeNumber(60, 5, 300),
    // The URL may hold the mail server's password: a refusal never repeats it.
    SMTP_URL: variable((raw) => {
      const value = raw?.trim() || null;
      if (value === null) return null;
      let url: URL | null = null;
      try {
        url = new URL(value);
      } catch {
        // refused below
      }
      if (!url || (url.protocol !== "smtp:" && url.protocol !== "smtps:") || !url.hostname) {
        refuse("must be an smtp:// or smtps:// URL such as smtp://mail.example.com:587");
      }
      return value;
    }),
    MAIL_FROM: variable((raw) => {
      const value = raw?.trim() || "portal@localhost";
      // An address, or a name and an address in angle brackets; no control character (the value
      // becomes a mail header, where a line break would start another).
      if (
        // eslint-disable-next-line no-control-regex
        /[\x00-\x1f\x7f]/.test(value) ||
        !/^(?:[^<>]*<[^\s<>@]+@[^\s<>@]+>|[^\s<>@]+@[^\s<>@]+)$/.test(value)
      ) {
        refuse(`must be a mail address such as portal@example.com (got ${JSON.stringify(value)})`);
      }
      return value;
    }),
    STEP_UP_MAX_AGE_SECONDS: wholeNumber(900, 30, 86_400),
    OTP_ENCRYPTION_KEY: variable((raw) => {
      if (!raw?.trim()) return null;
      return (
        parseOtpKey(raw) ??
        refuse("must be 32 bytes: 64 hex digits, or base64 (e.g. `openssl rand -base64 32`)")
      );
    }),
    OUTBOUND_ALLOW_HOSTS: variable((raw) => {
      try {
        return OutboundAllowList.parse(raw ?? "");
      } catch (error) {
        return refuse(`must list host names or IP addresses (${(error as Error).message})`);
      }
    }),
    RETENTION_DAYS: wholeNumber(30, 1, 3650),
    AUDIT_RETENTION_DAYS: variable((raw) => {
      const value = raw?.trim();
      if (!value) return null;
      if (!/^[0-9]+$/.test(value) || Number(value) < 1 || Number(value) > 36_500)
        refuse(
          `must be a whole number of days from 1 to 36500, or unset to keep every event (got "${value}")`,
        );
      return Number(value);
    }),
    AUDIT_SEALING: onOff,
    NODE_ENV: z.string().optional(),
  })
  .superRefine((env, ctx) => {
    // A generated key kept beside the database would put the secrets and their key in the same
    // backups: production takes it from its secret store or does not start.
    if (env.NODE_ENV === "production" && env.OTP_ENCRYPTION_KEY === null) {
      ctx.addIssue({
        code: "custom",
        path: ["OTP_ENCRYPTION_KEY"],
        message: "is required in production (32 bytes, e.g. `openssl rand -base64 32`)",
      });
    }
  })
  .transform((env): ServiceConfig => ({
    databaseUrl: env.DATABASE_URL,
    databasePoolSize: env.DATABASE_POOL_SIZE,
    pgliteDir: env.PGLITE_DIR,
    port: env.PORT,
    issuer: env.AUTH_ISSUER ?? `http://localhost:${env.PORT}`,
    impersonationEnabled: env.IMPERSONATION,
    impersonateLimitPerMinute: env.IMPERSONATE_LIMIT_PER_MINUTE,
    signinLimitPer15Minutes: env.SIGNIN_LIMIT_PER_15_MINUTES,
    impersonationTokenTtlS: env.IMPERSONATION_TOKEN_TTL_SECONDS,
    trustedProxies: env.TRUSTED_PROXIES,
    signingKeys: env.AUTH_SIGNING_KEYS,
    production: env.NODE_ENV === "production",
    metricsToken: env.METRICS_TOKEN,
    logLevel: env.LOG_LEVEL,
    smtpUrl: env.SMTP_URL,
    mailFrom: env.MAIL_FROM,
    stepUpMaxAgeS: env.STEP_UP_MAX_AGE_SECONDS,
    otpEncryptionKey: env.OTP_ENCRYPTION_KEY,
    outboundAllowHosts: env.OUTBOUND_ALLOW_HOSTS,
    retentionDays: env.RETENTION_DAYS,
    auditRetentionDays: env.AUDIT_RETENTION_DAYS,
    auditSealing: env.AUDIT_SEALING,
  }));

/**
 * The service's configuration from `env` (the process passes process.env, once, at start), or a
 * ConfigError whose one-line message names the first bad variable.
 */
export function loadConfig(env: Env): ServiceConfig {
  return parseEnv(serviceEnv, env);
}
