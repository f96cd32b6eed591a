// `pnpm db:seed-scale [--locations 50 --coworkers 200000 --audit 10000000 --sessions 3000000
// --grants 3000000]`: adds a year of a large operator's data to the configured PostgreSQL
// database (@cowork/db seed-scale.ts), then seals the audit events it added with the service's
// sealer, so `pnpm audit:verify` keeps verifying every location's log. Idempotent: a second run
// adds nothing and finds nothing to seal. Lives in the API package because sealing signs
// checkpoints with the service's keys.
import { createDatabase } from "@cowork/db";
import { migrateUrl } from "@cowork/db/migrate";
import { parseScaleArgs, ScaleSeedError, seedScale } from "@cowork/db/seed-scale";
import { ConfigError, loadConfig } from "../config";
import { sealBacklog } from "../services/audit-log/seal-backlog";
import { createServiceDeps } from "../services";

let config;
let sizes;
try {
  sizes = parseScaleArgs(process.argv.slice(2));
  config = loadConfig(process.env);
} catch (error) {
  if (error instanceof ScaleSeedError || error instanceof ConfigError) {
    console.error(`db:seed-scale: ${error.message}`);
    process.exit(2);
  }
  throw error;
}
if (!config.databaseUrl) {
  console.error(
    "db:seed-scale: needs PostgreSQL (set DATABASE_URL); the embedded PGlite database is for the demo, not for millions of rows",
  );
  process.exit(1);
}
const started = Date.now();
console.log(`db:seed-scale: ${JSON.stringify(sizes)}`);
await migrateUrl(config.databaseUrl);
const database = createDatabase({ url: config.databaseUrl, maxConnections: 2 });
try {
  await seedScale(database, sizes);
  const deps = await createServiceDeps(database.db, config);
  await sealBacklog(deps, (line) => console.log(line));
  console.log(`db:seed-scale: done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
} finally {
  await database.close();
}
