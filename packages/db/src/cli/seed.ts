// `pnpm db:seed [FILE]`: loads a fixture into the configured database, all or nothing.
import { resolve } from "node:path";
import { createDatabase } from "../client";
import { migrateDatabase, migrateUrl } from "../migrate";
import { demoFixturePath, describeSummary, readFixtureFile, SeedError, seedFixture } from "../seed";
import { databaseSettings } from "./config";

const { url, pgliteDir } = databaseSettings();
// pnpm runs package scripts in the package folder; a relative FILE means the caller's folder.
const callerDir = process.env.INIT_CWD ?? process.cwd();
const file = process.argv[2] ? resolve(callerDir, process.argv[2]) : demoFixturePath;

try {
  const fixture = await readFixtureFile(file);
  if (url) await migrateUrl(url);
  const handle = createDatabase({ url, pgliteDir });
  try {
    if (!url) await migrateDatabase(handle);
    const summary = await seedFixture(handle.db, fixture);
    console.log(`Seeded ${describeSummary(summary)} from ${file}.`);
  } finally {
    await handle.close();
  }
} catch (error) {
  if (error instanceof SeedError) {
    console.error(`Seed refused: ${error.message}`);
    process.exit(1);
  }
  throw error;
}
