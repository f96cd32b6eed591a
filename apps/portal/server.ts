// The portal's HTTP server: validates configuration, applies migrations (and seeds the demo data
// into an empty embedded database), then serves Next. It also stamps every request with the
// socket's address and a request id, which route handlers cannot see on their own.
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import next from "next";
import { ConfigError, loadConfig } from "@cowork/api";
import { createPglite } from "@cowork/db";
import { migrateDatabase, migrateUrl } from "@cowork/db/migrate";
import { demoFixturePath, describeSummary, isEmpty, readFixtureFile, seedFixture } from "@cowork/db/seed";
import { PEER_HEADER } from "./src/server/peer-header";

const appDir = fileURLToPath(new URL(".", import.meta.url));
const repoRoot = resolve(appDir, "../..");
const dev = process.argv.includes("--dev");

// Relative paths in configuration mean the repository root, whichever folder pnpm runs in.
process.env.PGLITE_DIR = resolve(repoRoot, process.env.PGLITE_DIR?.trim() || ".data/pglite");

let config;
try {
  config = loadConfig(process.env);
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`Configuration error: ${error.message}`);
    process.exit(1);
  }
  throw error;
}

if (config.databaseUrl) {
  await migrateUrl(config.databaseUrl);
} else {
  const handle = createPglite(config.pgliteDir);
  await migrateDatabase(handle);
  if (await isEmpty(handle.db)) {
    const summary = await seedFixture(handle.db, await readFixtureFile(demoFixturePath));
    console.log(`First start: seeded the demo data (${describeSummary(summary)}) into ${config.pgliteDir}.`);
  }
  await handle.close();
}

const app = next({ dev, dir: appDir, port: config.port, turbopack: dev });
const handle = app.getRequestHandler();
await app.prepare();

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

const server = createServer({ maxHeaderSize: 16 * 1024, requestTimeout: 30_000 }, (req, res) => {
  // Whatever a client sends in this header is replaced: only the socket speaks here.
  req.headers[PEER_HEADER] = req.socket.remoteAddress ?? "";
  const incoming = req.headers["x-request-id"];
  const requestId = typeof incoming === "string" && REQUEST_ID.test(incoming) ? incoming : randomUUID();
  req.headers["x-request-id"] = requestId;
  res.setHeader("x-request-id", requestId);
  void handle(req, res);
});

server.listen(config.port, () => {
  const database = config.databaseUrl ? "PostgreSQL" : `embedded database at ${config.pgliteDir}`;
  console.log(`Portal ready on http://localhost:${config.port} (${dev ? "development" : "production"}, ${database}).`);
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    server.close();
    process.exit(0);
  });
}
