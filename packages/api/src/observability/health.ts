// Readiness: can this process serve requests now? The database answers, every migration of this
// build is applied, the signing keys are loaded. Always answers within the contract's 5 s.
import { appliedMigrationCount, expectedMigrationCount, queryRows } from "@cowork/db";
import { type ReadyResponse } from "@cowork/validators";
import { sql } from "drizzle-orm";
import { type ServiceDeps } from "../services/deps";

export const READY_WITHIN_MS = 4000;

/**
 * Runs the checks against the services `load` yields (loading them needs the database too).
 * A check that has not passed when time runs out counts as failed.
 */
export async function checkReadiness(
  load: () => Promise<ServiceDeps>,
  withinMs = READY_WITHIN_MS,
): Promise<ReadyResponse> {
  const checks: ReadyResponse["checks"] = {
    database: "failed",
    migrations: "failed",
    keys: "failed",
  };
  const run = async () => {
    const deps = await load();
    if (deps.signer.keys.signing.privateKey) checks.keys = "ok";
    await queryRows(deps.db, sql`select 1`);
    checks.database = "ok";
    checks.migrations =
      (await appliedMigrationCount(deps.db)) >= expectedMigrationCount ? "ok" : "pending";
  };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, withinMs);
  });
  try {
    await Promise.race([run().catch(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
  const ready = checks.database === "ok" && checks.migrations === "ok" && checks.keys === "ok";
  return { status: ready ? "ok" : "unavailable", checks: { ...checks } };
}
