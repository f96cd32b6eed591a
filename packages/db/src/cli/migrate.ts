// `pnpm db:migrate`: applies pending migrations to the configured database.
import { createPglite } from "../client";
import { migrateDatabase, migrateUrl } from "../migrate";
import { databaseSettings } from "./config";

const { url, pgliteDir } = databaseSettings();
if (url) {
  await migrateUrl(url);
  console.log("Migrations applied (PostgreSQL).");
} else {
  const handle = createPglite(pgliteDir);
  await migrateDatabase(handle);
  await handle.close();
  console.log(`Migrations applied (embedded database at ${pgliteDir}).`);
}
