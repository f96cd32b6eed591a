// The portal's process: validates configuration, applies migrations (and seeds the demo data
// into an empty embedded database), opens the process's one database connection, then serves
// every API path from one Fastify application (src/server/api-app.ts), which hands pages to Next.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import next from "next";
import {
  ConfigError,
  createServiceDeps,
  loadConfig,
  logger,
  setLogLevel,
  startAuditSealer,
  startWebhookWorker,
  startRetentionJob,
} from "@cowork/api";
import { KeyConfigError, loadKeySet } from "@cowork/auth";
import { createDatabase, REQUEST_STATEMENT_TIMEOUT_MS } from "@cowork/db";
import { migrateDatabase, migrateUrl } from "@cowork/db/migrate";
import {
  demoFixturePath,
  describeSummary,
  isEmpty,
  readFixtureFile,
  seedFixture,
} from "@cowork/db/seed";
import { buildApiApp } from "./src/server/api-app";
import { startMailDelivery } from "./src/server/mail";
import { developmentOtpKey } from "./src/server/dev-otp-key";

/**
 * The portal's folder (Next's `dir`). This file runs as server.ts under tsx (`pnpm dev`) and as
 * dist/server.js under node (`pnpm start`): the nearest folder above it with a package.json.
 */
function portalFolder(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) dir = dirname(dir);
  return dir;
}

const appDir = portalFolder();
const dev = process.argv.includes("--dev");

// The one parse of the configuration in this process: everything below gets `config` (a relative
// PGLITE_DIR comes back resolved against the repository root).
let config;
try {
  config = loadConfig(process.env);
  setLogLevel(config.logLevel);
  // Configured keys are imported now (once, and again in the app), so a key that cannot sign
  // stops start-up here instead of failing every request later.
  if (config.signingKeys) {
    await loadKeySet(config.signingKeys).catch((error: unknown) => {
      throw new ConfigError(
        "AUTH_SIGNING_KEYS",
        error instanceof KeyConfigError ? error.message : "holds a key that cannot be imported",
      );
    });
  }
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`Configuration error: ${error.message}`);
    process.exit(1);
  }
  throw error;
}

// Outside production a missing OTP_ENCRYPTION_KEY is generated once and kept beside the embedded
// database (production refuses to start without it: config.ts).
if (!config.otpEncryptionKey) {
  const generated = developmentOtpKey(config.pgliteDir);
  config = { ...config, otpEncryptionKey: generated.key };
  logger.warn(
    `OTP_ENCRYPTION_KEY is not set: one-time-code secrets are sealed with a development key ${generated.created ? "generated into" : "read from"} ${generated.path}. Set OTP_ENCRYPTION_KEY in production.`,
  );
}

// PostgreSQL: processes sharing the database migrate one at a time (advisory lock).
if (config.databaseUrl) await migrateUrl(config.databaseUrl);
// A small pool (DATABASE_POOL_SIZE; loadConfig says why): postgres-js pipelines statements on
// a busy connection and sends them in one write.
const database = createDatabase({
  url: config.databaseUrl,
  pgliteDir: config.pgliteDir,
  maxConnections: config.databasePoolSize,
  // Part of the request deadline (@cowork/api services/deadline.ts): no statement outlives it.
  statementTimeoutMs: REQUEST_STATEMENT_TIMEOUT_MS,
});
if (database.driver === "pglite") {
  await migrateDatabase(database);
  if (await isEmpty(database.db)) {
    const summary = await seedFixture(database.db, await readFixtureFile(demoFixturePath));
    logger.info(
      `First start: seeded the demo data (${describeSummary(summary)}) into ${config.pgliteDir}.`,
    );
  }
}
// Keys are loaded (or made, on a first start) now, before the first request.
const deps = await createServiceDeps(database.db, config);

const nextApp = next({ dev, dir: appDir, port: config.port, turbopack: dev });
const handle = nextApp.getRequestHandler();
await nextApp.prepare();

const app = await buildApiApp({ deps, pages: (req, res) => handle(req, res) });
await app.listen({ port: config.port, host: "::" });
// Mail that waits in the outbox (member notices) goes out from here, in every process.
const mail = startMailDelivery(deps);
// Signs a checkpoint over each location's new audit events every few seconds (CONTRACT §9),
// unless AUDIT_SEALING=off (the benchmark's comparison; or another process seals).
const sealer = config.auditSealing ? startAuditSealer(deps) : null;
if (!sealer)
  logger.warn("AUDIT_SEALING=off: this process signs no audit checkpoints (another must).");
// Delivers the outbox of the location's webhooks (audit events, CAEP session ends: CONTRACT §9).
const webhooks = startWebhookWorker({
  deps,
  logger: logger.child({ component: "webhooks" }),
});
// Purges what RETENTION_DAYS (and AUDIT_RETENTION_DAYS) no longer keep, in small batches; of the
// processes sharing a database, one at a time.
const retention = startRetentionJob(deps);
{
  const database = config.databaseUrl ? "PostgreSQL" : `embedded database at ${config.pgliteDir}`;
  logger.info(
    `Portal ready on http://localhost:${config.port} (${dev ? "development" : "production"}, ${database}).`,
  );
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms).unref());
    // Requests finish first (for a second at most); then the background work stops: the mail
    // worker, so that its attempts under way are recorded (an unrecorded one keeps its claim, and
    // another process sends it when the claim runs out), the records of impersonated sessions'
    // actions still waiting in this process are written, and a sealing round in progress ends (it
    // is one transaction: whole, or not at all); then the database closes. PGlite writes its
    // folder on close; a stuck close must not keep the process alive.
    const closed = Promise.race([app.close().catch(() => undefined), pause(1000)])
      .then(() =>
        Promise.all([
          mail?.stop(),
          deps.actions.stop(),
          sealer?.stop(),
          retention.stop(),
          webhooks.stop(),
        ]),
      )
      .then(() => database.close())
      .catch(() => undefined);
    const deadline = pause(2000);
    void Promise.race([closed, deadline]).then(() => process.exit(0));
  });
}
