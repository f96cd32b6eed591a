// The portal's HTTP server: validates configuration, applies migrations (and seeds the demo data
// into an empty embedded database), opens the process's one database connection, then answers
// the REST paths itself (src/server/rest-door.ts) and hands everything else to Next. It also
// stamps every request with the socket's address and a request id, which route handlers cannot
// see on their own, and writes one JSON log line and one latency sample (by route pattern) per
// request.
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import next from "next";
import {
  accessLogger,
  ConfigError,
  createServiceDeps,
  loadConfig,
  logger,
  metrics,
  scrub,
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
import { trackPageStatus } from "./src/server/page-status";
import {
  ARRIVED_HEADER,
  AUTHORIZATION_COUNT_HEADER,
  FORWARDED_HEADER,
  FORWARDING_HEADERS,
  PEER_HEADER,
} from "./src/server/peer-header";
import { restDoor } from "./src/server/rest-door";
import { routeMatcher } from "./src/server/route-patterns";
import { publishConnection } from "./src/server/shared-connection";

const appDir = fileURLToPath(new URL(".", import.meta.url));
const repoRoot = resolve(appDir, "../..");
const dev = process.argv.includes("--dev");

// Relative paths in configuration mean the repository root, whichever folder pnpm runs in.
process.env.PGLITE_DIR = resolve(repoRoot, process.env.PGLITE_DIR?.trim() || ".data/pglite");

let config;
try {
  config = loadConfig(process.env);
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
publishConnection(database.connection);
const answerRest = restDoor(deps);

const app = next({ dev, dir: appDir, port: config.port, turbopack: dev });
const handle = app.getRequestHandler();
await app.prepare();

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;
const routes = routeMatcher(resolve(appDir, "src/app"));

/** The path alone: the query string is never logged, and nothing token-shaped either. */
const logPath = (path: string) => scrub(path.slice(0, 512));

const server = createServer({ maxHeaderSize: 16 * 1024, requestTimeout: 30_000 }, (req, res) => {
  // Whatever a client sends in this header is replaced: only the socket speaks here.
  req.headers[PEER_HEADER] = req.socket.remoteAddress ?? "";
  // The request's deadlines count from here (request-meta.ts), whichever door answers it.
  req.headers[ARRIVED_HEADER] = String(Date.now());
  req.headers[FORWARDED_HEADER] = FORWARDING_HEADERS.some((name) => name in req.headers)
    ? "1"
    : "0";
  req.headers[AUTHORIZATION_COUNT_HEADER] = String(req.headersDistinct.authorization?.length ?? 0);
  const incoming = req.headers["x-request-id"];
  const requestId =
    typeof incoming === "string" && REQUEST_ID.test(incoming) ? incoming : randomUUID();
  req.headers["x-request-id"] = requestId;
  res.setHeader("x-request-id", requestId);
  const started = performance.now();
  const method = req.method ?? "GET";
  const rawPath = (req.url ?? "/").split("?")[0]!;
  const path = logPath(rawPath);
  const restRoute = answerRest(req, res, rawPath);
  res.once("close", () => {
    const durationMs = performance.now() - started;
    const route = restRoute ?? routes.match(path);
    metrics.observeRequest(route, method, res.statusCode, durationMs / 1000);
    accessLogger.info(
      {
        requestId,
        method,
        path,
        route,
        status: res.statusCode,
        durationMs: Math.round(durationMs * 10) / 10,
        ...(res.writableFinished ? {} : { aborted: true }),
      },
      "request",
    );
  });
  if (restRoute === null) {
    trackPageStatus(req, res);
    void handle(req, res);
  }
});

server.listen(config.port, () => {
  const database = config.databaseUrl ? "PostgreSQL" : `embedded database at ${config.pgliteDir}`;
  logger.info(
    `Portal ready on http://localhost:${config.port} (${dev ? "development" : "production"}, ${database}).`,
  );
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    server.close();
    // PGlite writes its folder on close; a stuck close must not keep the process alive.
    const closed = database.close().catch(() => undefined);
    const deadline = new Promise((resolve) => setTimeout(resolve, 2000).unref());
    void Promise.race([closed, deadline]).then(() => process.exit(0));
  });
}
