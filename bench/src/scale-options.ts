// The scale section's size (BENCH_SCALE) and its scaled database. small (the default, and CI's):
// thousands of rows in a throwaway database, seeded in seconds. tenth and full: a tenth of, and
// all of, `pnpm db:seed-scale`'s default shape, in a database kept between runs
// (bench_scale_tenth, bench_scale_full on DATABASE_URL's server, or BENCH_SCALE_URL): the first
// run seeds and seals it (minutes), later ones find it seeded (the seed is idempotent).
import { createServiceDeps, loadConfig, sealBacklog } from "@cowork/api";
import { createDatabase, createPostgres, queryRows } from "@cowork/db";
import { migrateUrl } from "@cowork/db/migrate";
import { demoFixturePath, readFixtureFile, seedFixture } from "@cowork/db/seed";
import { FULL_SCALE, type ScaleSizes, seedScale } from "@cowork/db/seed-scale";
import { createTestDatabase, withDatabase } from "@cowork/db/testing";
import { sql } from "drizzle-orm";

export interface ScaleSize {
  name: "small" | "tenth" | "full";
  sizes: ScaleSizes;
  /** The export is read up to this many events (the contract's million at full size). */
  exportMax: number;
}

const SIZES: Record<ScaleSize["name"], ScaleSize> = {
  small: {
    name: "small",
    sizes: { locations: 5, coworkers: 2000, audit: 20_000, sessions: 5000, grants: 5000 },
    exportMax: 1_000_000,
  },
  tenth: {
    name: "tenth",
    sizes: {
      locations: FULL_SCALE.locations,
      coworkers: FULL_SCALE.coworkers,
      audit: FULL_SCALE.audit / 10,
      sessions: FULL_SCALE.sessions / 10,
      grants: FULL_SCALE.grants / 10,
    },
    exportMax: 1_000_000,
  },
  full: { name: "full", sizes: FULL_SCALE, exportMax: 1_000_000 },
};

export function scaleSize(): ScaleSize {
  const name = (process.env.BENCH_SCALE ?? "small") as ScaleSize["name"];
  const size = SIZES[name];
  if (!size) throw new Error(`BENCH_SCALE must be small, tenth or full, not ${name}`);
  return size;
}

export interface ScaledDatabase {
  url: string;
  close(): Promise<void>;
}

async function fill(url: string, size: ScaleSize, log: (line: string) => void) {
  const handle = createDatabase({ url, maxConnections: 2 });
  try {
    await seedFixture(handle.db, await readFixtureFile(demoFixturePath));
    await seedScale(handle, size.sizes, (line) => log(`    ${line}`));
    // Sealed as `pnpm db:seed-scale` seals (the default issuer), so `pnpm audit:verify` checks
    // the seeded locations' logs as they are.
    const deps = await createServiceDeps(handle.db, loadConfig({}));
    await sealBacklog(deps, (line) => log(`    ${line}`));
  } finally {
    await handle.close();
  }
}

export async function openScaledDatabase(
  size: ScaleSize,
  log: (line: string) => void,
): Promise<ScaledDatabase> {
  log(`  seeding the scaled database (${size.name}) …`);
  if (size.name === "small") {
    const database = await createTestDatabase("postgres");
    await fill(database.url!, size, log);
    return { url: database.url!, close: () => database.close() };
  }
  const serverUrl = process.env.DATABASE_URL!;
  const url = process.env.BENCH_SCALE_URL ?? withDatabase(serverUrl, `bench_scale_${size.name}`);
  if (!process.env.BENCH_SCALE_URL) {
    const admin = createPostgres(serverUrl, 1);
    const name = `bench_scale_${size.name}`;
    try {
      const exists = await queryRows(
        admin.db,
        sql`select 1 from pg_database where datname = ${name}`,
      );
      if (exists.length === 0) await queryRows(admin.db, sql.raw(`create database "${name}"`));
    } finally {
      await admin.close();
    }
  }
  await migrateUrl(url);
  await fill(url, size, log);
  return { url, close: () => Promise.resolve() };
}
