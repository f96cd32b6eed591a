// `pnpm audit:verify [--location ID]`: recomputes every checkpoint of every location's audit log
// (or of one) from the configured database and verifies each signature against the service's
// keys (AUTH_SIGNING_KEYS, or those kept in the database). Prints what it checked; on the first
// mismatch, names the location and the first event that no longer matches, and exits 1.
import { appliedMigrationCount, createDatabase, expectedMigrationCount } from "@cowork/db";
import { ConfigError, loadConfig } from "../config";
import { verifyAuditLog } from "../services/audit-log/verify";
import { existingKeys } from "../services/keys";

function locationArgument(args: readonly string[]): number | undefined {
  const index = args.indexOf("--location");
  if (index === -1) {
    if (args.length) usage(`unknown argument ${args[0]}`);
    return undefined;
  }
  const value = args[index + 1];
  if (args.length !== 2 || !value || !/^[1-9][0-9]{0,9}$/.test(value))
    usage("--location needs a location id");
  return Number(value);
}

function usage(problem: string): never {
  console.error(`audit:verify: ${problem}\nusage: pnpm audit:verify [--location ID]`);
  process.exit(2);
}

const locationId = locationArgument(process.argv.slice(2));
let config;
try {
  config = loadConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`Configuration error: ${error.message}`);
  process.exit(1);
}
const database = createDatabase({ url: config.databaseUrl, pgliteDir: config.pgliteDir });
try {
  if ((await appliedMigrationCount(database.db)) < expectedMigrationCount) {
    console.error("audit:verify: the database has pending migrations (run pnpm db:migrate)");
    process.exit(1);
  }
  const keys = await existingKeys(database.db, config);
  const result = await verifyAuditLog(database.db, keys, config.issuer, { locationId });
  console.log(
    `checked ${result.events} events and ${result.checkpoints} checkpoints` +
      (result.pruned > 0
        ? ` (and ${result.pruned} events pruned by AUDIT_RETENTION_DAYS, from the leaf hashes kept of them)`
        : ""),
  );
  if (result.failure) {
    const { failure } = result;
    console.log(`location ${failure.locationId}: seq ${failure.seq} ${failure.problem}`);
    process.exitCode = 1;
  }
} finally {
  await database.close();
}
