// CONTRACT §9: "32 concurrent sign-ins in one location take no longer with sealing on than off".
// Two production servers, each on a database of its own, one running the audit sealer and one
// started with AUDIT_SEALING=off. Each batch sends 32 sign-ins (POST /api/token, the same staff
// account, so one location) at once and waits for all of them; batches go to the two servers in
// turn (on, off, then off, on, …) so that a change in the machine's load falls on both alike.
// Sign-ins are slow on purpose (scrypt): what compares is the batch's time, each sign-in's
// latency and the sign-ins per second, side by side, not a rate against a floor.
import { createTestDatabase, type TestDatabase } from "@cowork/db/testing";
import { demoFixturePath, readFixtureFile, seedFixture } from "@cowork/db/seed";
import { cpuPerOp, cpuSnapshot } from "./cpu";
import { createClient } from "./http-load";
import { type Driver, quick } from "./options";
import { type Portal, startPortal } from "./portal";
import { log } from "./print";
import { signInOperation } from "./scenarios";
import { median, now, percentile, round } from "./stats";

export const SEALING_CONCURRENCY = 32;
/** Batches per side (after one warm-up batch each). */
const BATCHES = quick ? 2 : Number(process.env.BENCH_SEALING_BATCHES ?? 10);
/**
 * 32 sign-ins in flight each hold a pending place under the sign-in limits (a place is taken
 * before the password is checked): raised, as the bench raises the issue limit.
 */
const SIGNIN_LIMIT = "100000";

interface Batch {
  wallMs: number;
  latenciesMs: number[];
  errors: number;
  firstError: string | null;
  serverCpuMsPerSignIn: number | null;
}

export interface SealingSide {
  batches: number;
  /** Median time for a batch of 32 concurrent sign-ins to complete, all of them. */
  batchMs: number;
  /** Of every sign-in of every batch. */
  p50Ms: number;
  p99Ms: number;
  /** Sign-ins completed over the batches' total time. */
  ratePerS: number;
  serverCpuMsPerSignIn: number | null;
  errors: number;
  firstError: string | null;
}

export interface SealingReport {
  concurrency: number;
  on: SealingSide;
  off: SealingSide;
  /** on ÷ off: batch time and latency ratios ≤ 1 and a rate ratio ≥ 1 mean sealing costs nothing. */
  ratio: { batch: number; rate: number; p50: number; p99: number };
}

async function batch(portal: Portal): Promise<Batch> {
  const client = createClient(portal.url, SEALING_CONCURRENCY);
  const operation = signInOperation();
  const latenciesMs: number[] = [];
  let errors = 0;
  let firstError: string | null = null;
  try {
    const before = cpuSnapshot(portal.pid);
    const started = now();
    await Promise.all(
      Array.from({ length: SEALING_CONCURRENCY }, async () => {
        const t0 = now();
        try {
          await operation(client.send);
          latenciesMs.push(now() - t0);
        } catch (error) {
          errors++;
          firstError ??= error instanceof Error ? error.message : String(error);
        }
      }),
    );
    const wallMs = now() - started;
    const cpu = cpuPerOp(before, cpuSnapshot(portal.pid), latenciesMs.length);
    return { wallMs, latenciesMs, errors, firstError, serverCpuMsPerSignIn: cpu?.serverMs ?? null };
  } finally {
    await client.close();
  }
}

function side(batches: Batch[]): SealingSide {
  const latencies = batches.flatMap((b) => b.latenciesMs).sort((a, b) => a - b);
  const cpus = batches.map((b) => b.serverCpuMsPerSignIn).filter((ms) => ms !== null);
  const totalS = batches.reduce((sum, b) => sum + b.wallMs, 0) / 1000;
  return {
    batches: batches.length,
    batchMs: round(median(batches.map((b) => b.wallMs))),
    p50Ms: round(percentile(latencies, 50)),
    p99Ms: round(percentile(latencies, 99)),
    ratePerS: round(latencies.length / totalS),
    serverCpuMsPerSignIn: cpus.length === batches.length ? round(median(cpus)) : null,
    errors: batches.reduce((sum, b) => sum + b.errors, 0),
    firstError: batches.find((b) => b.firstError)?.firstError ?? null,
  };
}

async function databaseFor(driver: Driver): Promise<TestDatabase | null> {
  if (driver !== "postgres") return null;
  const database = await createTestDatabase("postgres");
  await seedFixture(database.db, await readFixtureFile(demoFixturePath));
  return database;
}

export async function benchSealing(driver: Driver): Promise<SealingReport> {
  const databases: TestDatabase[] = [];
  const portals: Portal[] = [];
  try {
    const start = async (sealing: "on" | "off") => {
      const database = await databaseFor(driver);
      if (database) databases.push(database);
      const portal = await startPortal({
        databaseUrl: database?.url ?? null,
        env: { AUDIT_SEALING: sealing, SIGNIN_LIMIT_PER_15_MINUTES: SIGNIN_LIMIT },
      });
      portals.push(portal);
      return portal;
    };
    const servers = { on: await start("on"), off: await start("off") };
    log(
      `  ${SEALING_CONCURRENCY} concurrent sign-ins, sealing on and off in turn (${BATCHES} batches each after one warm-up batch) …`,
    );
    await batch(servers.on);
    await batch(servers.off);
    const taken = { on: [] as Batch[], off: [] as Batch[] };
    for (let index = 0; index < BATCHES; index++) {
      // Alternate which goes first, so neither always follows the other's leftovers.
      const order = index % 2 === 0 ? (["on", "off"] as const) : (["off", "on"] as const);
      for (const which of order) {
        const result = await batch(servers[which]);
        taken[which].push(result);
        log(
          `    sealing ${which}: batch ${round(result.wallMs)} ms${result.errors ? `, errors ${result.errors} (${result.firstError})` : ""}${result.serverCpuMsPerSignIn !== null ? ` · server CPU ${result.serverCpuMsPerSignIn} ms per sign-in` : ""}`,
        );
      }
    }
    const on = side(taken.on);
    const off = side(taken.off);
    const ratio = {
      batch: round(on.batchMs / off.batchMs),
      rate: round(on.ratePerS / off.ratePerS),
      p50: round(on.p50Ms / off.p50Ms),
      p99: round(on.p99Ms / off.p99Ms),
    };
    log(
      `    on ÷ off: batch time ${ratio.batch}×, sign-ins/s ${ratio.rate}×, p50 ${ratio.p50}×, p99 ${ratio.p99}×`,
    );
    return { concurrency: SEALING_CONCURRENCY, on, off, ratio };
  } finally {
    for (const portal of portals) await portal.stop();
    for (const database of databases) await database.close();
  }
}
