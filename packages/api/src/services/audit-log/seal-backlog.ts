// Seals a large backlog of unsealed events (a bulk load: `pnpm db:seed-scale`) with the service's
// own sealing round (seal.ts), in larger rounds than the live sealer's, printing its progress.
import { type Database, queryRows } from "@cowork/db";
import { sql } from "drizzle-orm";
import { locationsToSeal, logSize, sealLocation, type SealDeps } from "./seal";

/**
 * Events per round for a backlog. A round is one transaction: its leaves are hashed in JS and
 * written back in one update; larger rounds mean fewer checkpoints and round trips.
 */
export const BACKLOG_SEAL_BATCH = 10_000;

/** Events not yet sealed (read through the partial index audit_unsealed_idx). */
export async function unsealedCount(db: Database): Promise<number> {
  const [row] = await queryRows<{ n: number }>(
    db,
    sql`select count(*)::bigint as n from audit_events where seq is null and location_id is not null`,
  );
  return Number(row?.n ?? 0);
}

/** Seals until nothing is left; prints a line every few seconds. Returns the events sealed. */
export async function sealBacklog(
  deps: SealDeps,
  progress: (line: string) => void,
  options: { batch?: number; everyMs?: number } = {},
): Promise<number> {
  const batch = options.batch ?? BACKLOG_SEAL_BATCH;
  const everyMs = options.everyMs ?? 5000;
  const total = await unsealedCount(deps.db);
  const started = Date.now();
  let sealed = 0;
  let printed = started;
  const line = () => {
    const seconds = (Date.now() - started) / 1000;
    const rate = seconds > 0 ? Math.round(sealed / seconds) : 0;
    return `audit sealing: ${sealed}/${total} events (${seconds.toFixed(1)} s, ${rate} events/s)`;
  };
  for (const locationId of await locationsToSeal(deps.db)) {
    let size = await logSize(deps.db, locationId);
    for (;;) {
      const checkpoint = await sealLocation(deps, locationId, { batch });
      if (!checkpoint) break;
      sealed += checkpoint.size - size;
      size = checkpoint.size;
      if (Date.now() - printed >= everyMs) {
        printed = Date.now();
        progress(line());
      }
    }
  }
  progress(line());
  // The planner's statistics were taken while the backlog was unsealed: without a new look it
  // would expect every event to be unsealed, and plan the sealer's scans for that.
  if (sealed > 0) await deps.db.execute(sql`analyze audit_events, audit_nodes`);
  return sealed;
}
