// Configuration from the environment (CONTRACT §2), the database's part: each variable is declared
// once, here or in @cowork/api's config.ts, which composes this shape into the service's schema;
// the command-line tools (cli/) parse this shape alone. A bad value is refused with one line
// naming the variable.
//
// Plain zod, not @t3-oss/env-core (0.13, which accepts zod 4): its client/server split and the
// Proxy around the result solve a bundler's problem a server-only configuration does not have;
// its `extends` merges presets that were each parsed on their own, where composing zod shapes
// gives one parse; its `emptyStringAsUndefined` deletes keys from the object it reads (by
// default process.env); and the service's own shape (camelCase fields, the issuer's default
// taken from PORT) needs a transform over the whole object, which it leaves to plain zod anyway.
import { availableParallelism } from "node:os";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";

/** A refused value: `message` is one line, `<VARIABLE> <problem>`. */
export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable} ${problem}`);
  }
}

export type Env = Record<string, string | undefined>;

/** The repository root: relative paths in configuration mean this folder, wherever pnpm runs. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

/** A variable that is a whole number from `min` to `max`; unset or blank means `fallback`. */
export function wholeNumber(fallback: number | (() => number), min: number, max: number) {
  return z
    .string()
    .optional()
    .transform((value, ctx) => {
      const raw = value?.trim();
      if (raw === undefined || raw === "")
        return typeof fallback === "function" ? fallback() : fallback;
      if (!/^[0-9]+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
        ctx.addIssue({
          code: "custom",
          message: `must be a whole number from ${min} to ${max} (got "${raw}")`,
        });
        return z.NEVER;
      }
      return Number(raw);
    });
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

/** The database's variables, for the service's schema to compose. */
export const databaseEnv = {
  DATABASE_URL: z
    .string()
    .optional()
    .transform((value, ctx) => {
      const url = value?.trim() || undefined;
      if (url && !/^postgres(ql)?:\/\/\S+$/.test(url)) {
        ctx.addIssue({ code: "custom", message: "must be a postgres:// or postgresql:// URL" });
        return z.NEVER;
      }
      return url;
    }),
  /** The embedded database's folder; a relative path means the repository root. */
  PGLITE_DIR: z
    .string()
    .optional()
    .transform((value) => resolve(repoRoot, value?.trim() || ".data/pglite")),
  /** PostgreSQL connections this process keeps (postgres-js pipelines statements on each). */
  DATABASE_POOL_SIZE: wholeNumber(defaultPoolSize, 1, 100),
};

/**
 * Parses `env` with `schema`; the first refused variable becomes a ConfigError (one line, the
 * variable first). Variables are read in the schema's order.
 */
export function parseEnv<Output>(schema: z.ZodType<Output>, env: Env): Output {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const variable = String(issue.path[0] ?? "configuration");
  throw new ConfigError(variable, issue.message.replace(/\s*\n\s*/g, " "));
}

export interface DatabaseConfig {
  /** PostgreSQL when set; otherwise the embedded database in `pgliteDir`. */
  url: string | undefined;
  /** Absolute. */
  pgliteDir: string;
  poolSize: number;
}

const databaseSchema = z.object(databaseEnv).transform((env): DatabaseConfig => ({
  url: env.DATABASE_URL,
  pgliteDir: env.PGLITE_DIR,
  poolSize: env.DATABASE_POOL_SIZE,
}));

/** The database's configuration alone (the command-line tools); the service reads it in loadConfig. */
export function loadDatabaseConfig(env: Env): DatabaseConfig {
  return parseEnv(databaseSchema, env);
}
