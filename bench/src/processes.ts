// The processes section: two production servers against one on the same PostgreSQL database.
// Both processes are started once on a seeded throwaway database; then the flow and `me` at
// concurrency 32 are measured in turns, one process (every request to the first server) and two
// (the load client sending its requests round-robin over both ports, as a balancer would), one
// after the other (A B A B), so that a change in the machine's other load falls on both sides.
// A flow's issue and exchange may land on different processes: the token, its single use, the
// throttle and the audit write live in the database, which is what lets processes be added.
import { randomBytes } from "node:crypto";
import { createTestDatabase } from "@cowork/db/testing";
import { demoFixturePath, readFixtureFile, seedFixture } from "@cowork/db/seed";
import { type CpuPerOp, cpuPerOp, cpuSnapshot } from "./cpu";
import { createClient, type Operation, runFor, type Send } from "./http-load";
import { IMPERSONATE_LIMIT_PER_MINUTE } from "./in-process";
import { httpPlan, quick } from "./options";
import { freePort, type Portal, startPortal } from "./portal";
import { log } from "./print";
import { portalScenarios, signIn } from "./scenarios";
import { median, round } from "./stats";

const CONCURRENCY = 32;

export interface ProcessesTurn {
  processes: 1 | 2;
  ratePerS: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  firstError: string | null;
  /** Both servers' CPU together (serverMs), PostgreSQL's and the load generator's, per operation. */
  cpu: CpuPerOp | null;
}

export interface ProcessesLine {
  operation: string;
  /** In the order taken: 1, 2, 1, 2 … */
  turns: ProcessesTurn[];
  /** Medians of each side's turns. */
  one: { ratePerS: number; p99Ms: number; serverMs: number | null; postgresMs: number | null };
  two: { ratePerS: number; p99Ms: number; serverMs: number | null; postgresMs: number | null };
  /** Two processes' rate over one's. */
  ratio: number;
}

export interface ProcessesReport {
  concurrency: number;
  /** Turns per side. */
  rounds: number;
  durationS: number;
  flow: ProcessesLine;
  me: ProcessesLine;
}

/** A Send that spreads requests over several origins in turn (round-robin), request by request. */
function roundRobin(origins: string[], connections: number) {
  const clients = origins.map((origin) => createClient(origin, connections));
  let turn = 0;
  const send: Send = (...args) => clients[turn++ % clients.length]!.send(...args);
  return { send, close: () => Promise.all(clients.map((client) => client.close())) };
}

/** CPU per operation with the servers' CPU summed over every process that served. */
async function measuredTurn(
  portals: Portal[],
  operation: Operation,
  durationS: number,
): Promise<ProcessesTurn> {
  const client = roundRobin(
    portals.map((portal) => portal.url),
    CONCURRENCY,
  );
  try {
    if (httpPlan.warmupS > 0) await runFor(client.send, operation, CONCURRENCY, httpPlan.warmupS);
    const before = portals.map((portal) => cpuSnapshot(portal.pid));
    const run = await runFor(client.send, operation, CONCURRENCY, durationS);
    const after = portals.map((portal) => cpuSnapshot(portal.pid));
    const perServer = portals.map((_, index) =>
      cpuPerOp(before[index] ?? null, after[index] ?? null, run.completed),
    );
    const known = perServer.filter((figures) => figures !== null);
    const [first] = known;
    const cpu =
      first && known.length === perServer.length
        ? { ...first, serverMs: round(known.reduce((sum, figures) => sum + figures.serverMs, 0)) }
        : null;
    return {
      processes: portals.length as 1 | 2,
      ratePerS: round(run.ratePerS),
      p50Ms: round(run.latencyMs.p50),
      p99Ms: round(run.latencyMs.p99),
      errors: run.errors,
      firstError: run.firstError,
      cpu,
    };
  } finally {
    await client.close();
  }
}

function side(turns: ProcessesTurn[]) {
  const cpus = turns.map((turn) => turn.cpu).filter((cpu) => cpu !== null);
  return {
    ratePerS: round(median(turns.map((turn) => turn.ratePerS))),
    p99Ms: round(median(turns.map((turn) => turn.p99Ms))),
    serverMs: cpus.length ? round(median(cpus.map((cpu) => cpu.serverMs))) : null,
    postgresMs: cpus.length ? round(median(cpus.map((cpu) => cpu.postgresMs))) : null,
  };
}

async function measureInTurns(
  label: string,
  pair: Portal[],
  operation: Operation,
  rounds: number,
): Promise<ProcessesLine> {
  const turns: ProcessesTurn[] = [];
  for (let index = 0; index < rounds; index++) {
    for (const portals of [pair.slice(0, 1), pair]) {
      const turn = await measuredTurn(portals, operation, httpPlan.durationS);
      turns.push(turn);
      log(
        `    ${label}, ${turn.processes} process${turn.processes === 1 ? "" : "es"}: ${turn.ratePerS}/s p50 ${turn.p50Ms} ms p99 ${turn.p99Ms} ms` +
          (turn.errors ? ` errors ${turn.errors} (${turn.firstError})` : "") +
          (turn.cpu
            ? ` · CPU per op: servers ${turn.cpu.serverMs} ms, PostgreSQL ${turn.cpu.postgresMs} ms, load generator ${turn.cpu.loadGeneratorMs} ms; machine ${Math.round(turn.cpu.machineBusy * 100)} % busy`
            : ""),
      );
    }
  }
  const one = side(turns.filter((turn) => turn.processes === 1));
  const two = side(turns.filter((turn) => turn.processes === 2));
  return { operation: label, turns, one, two, ratio: round(two.ratePerS / one.ratePerS) };
}

/** PostgreSQL only: processes share a database only through a server. */
export async function benchProcesses(): Promise<ProcessesReport> {
  const rounds = quick ? 1 : Math.max(2, httpPlan.runs);
  log(
    `\n== processes: one production server against two on one PostgreSQL database, concurrency ${CONCURRENCY}, ${rounds} turn(s) each, in turn ==`,
  );
  const database = await createTestDatabase("postgres");
  const portals: Portal[] = [];
  try {
    await seedFixture(database.db, await readFixtureFile(demoFixturePath));
    // What the processes of one deployment share: the issuer they are reached at (the balancer's
    // address, here a port of neither) and the key that seals one-time-code secrets.
    const env = {
      IMPERSONATE_LIMIT_PER_MINUTE,
      AUTH_ISSUER: `http://localhost:${await freePort()}`,
      OTP_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
    };
    // One after the other: the first start makes the signing keys, the second reads them.
    for (let index = 0; index < 2; index++)
      portals.push(await startPortal({ databaseUrl: database.url, env }));
    log(`  servers: pid ${portals.map((portal) => `${portal.pid} on :${portal.port}`).join(", ")}`);
    const scenarios = portalScenarios(await signIn(portals[0]!.url));
    const flow = await measureInTurns("issue + exchange flow", portals, scenarios.flow, rounds);
    const me = await measureInTurns("GET /api/sys/users/me", portals, scenarios.me, rounds);
    for (const line of [flow, me])
      log(
        `  ${line.operation}: two processes ${line.two.ratePerS}/s, one ${line.one.ratePerS}/s → ${line.ratio}×`,
      );
    return { concurrency: CONCURRENCY, rounds, durationS: httpPlan.durationS, flow, me };
  } finally {
    for (const portal of portals) await portal.stop();
    await database.close();
  }
}
