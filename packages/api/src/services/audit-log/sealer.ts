// The sealer of a server process: every few seconds it seals the audit log of each location that
// has unsealed events (seal.ts), so an event is covered by a signed checkpoint within 10 s
// (CONTRACT §9). Several processes may each run one; per location and round only one seals.
import { logger } from "../../observability/logger";
import { sealAll, type SealDeps } from "./seal";

/** How often the sealer looks for unsealed events. */
export const SEAL_INTERVAL_MS = 2000;

export interface AuditSealer {
  /** Stops the sealer; resolves once a round in progress has finished. */
  stop(): Promise<void>;
}

export function startAuditSealer(
  deps: SealDeps,
  options: { intervalMs?: number } = {},
): AuditSealer {
  const intervalMs = options.intervalMs ?? SEAL_INTERVAL_MS;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let round: Promise<void> = Promise.resolve();

  const tick = () => {
    round = sealAll(deps)
      .then(() => undefined)
      // A database outage or a statement timeout: the events stay unsealed until a later round.
      .catch((error: unknown) => logger.warn({ err: error }, "audit sealing failed; will retry"))
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, intervalMs).unref();
      });
  };
  timer = setTimeout(tick, intervalMs).unref();

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await round;
    },
  };
}
