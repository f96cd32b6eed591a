// In-process figures: the floor (sign and verify of this service's tokens — signed with node's
// one-shot Ed25519, an impersonation token verified with jose — and, for comparison, jose's own
// SignJWT; one single-row UPDATE … RETURNING and one `select 1` on the same database) and the
// service operations through the server-side caller, each with a context built the way the REST
// door builds it.
import {
  createCaller,
  createContext,
  createServiceDeps,
  loadConfig,
  type ServiceDeps,
  requestTimes,
} from "@cowork/api";
import {
  IMPERSONATION_TOKEN_MAX_S,
  signToken,
  TOKEN_KINDS,
  verifyImpersonationToken,
} from "@cowork/auth";
import { randomUUID } from "node:crypto";
import { SignJWT } from "jose";
import { queryRows, type Database } from "@cowork/db";
import { demoFixturePath, readFixtureFile, seedFixture } from "@cowork/db/seed";
import { createTestDatabase, type TestDatabase } from "@cowork/db/testing";
import { sql } from "drizzle-orm";
import { median, now, round, summarize } from "./stats";

export const BENCH_ACTOR = { email: "ada.admin@demo.test", password: "demo-admin-pass" };
/** Milo Member, a coworker of Ada's active location (Downtown Hub) who is staff nowhere. */
export const BENCH_TARGET_COWORKER = 42;
export const BENCH_REASON = "benchmark";
/** The service's impersonation throttle, raised so the bench measures the work, not the throttle. */
export const IMPERSONATE_LIMIT_PER_MINUTE = "100000";

export interface OpFigures {
  p50Ms: number;
  p99Ms: number;
  opsPerS: number;
  samples: number;
  /**
   * SQL statements the operation sent, per operation, counted at drizzle's execute (PGlite only:
   * on PostgreSQL queryRows sends prepared statements past it; the statements are the same).
   */
  statementsPerOp?: number;
  /** The floor this operation is compared with, and how many times the floor it costs (p50). */
  floorMs?: number;
  floorRatio?: number;
  floorParts?: string[];
}

export interface InProcessReport {
  concurrency: 1;
  floor: {
    sign: OpFigures;
    /** The same token signed by jose's SignJWT: what signing cost before the service did it. */
    signJose: OpFigures;
    verify: OpFigures;
    update: OpFigures;
    select1: OpFigures;
  };
  /**
   * The same UPDATE … RETURNING from 32 concurrent callers: all on one row (what every issue by
   * one actor does to its throttle counter: the row lock is held until the commit is flushed),
   * and each on its own row (commits flushed together).
   */
  contention: { sameRowC32: OpFigures; sameRowAsyncCommitC32: OpFigures; ownRowC32: OpFigures };
  operations: { me: OpFigures; issue: OpFigures; exchange: OpFigures; flow: OpFigures };
}

export interface InProcessPlan {
  warmupS: number;
  runs: number;
  durationS: number;
}

interface Timed {
  latencies: number[];
  elapsedS: number;
  statements: number;
}

/** Counts the statements a service sends through `db.execute` (every query of the services does). */
function countStatements(db: Database) {
  const counter = { value: 0 };
  const original = db.execute.bind(db);
  Object.assign(db, {
    execute: (query: Parameters<typeof original>[0]) => {
      counter.value++;
      return original(query);
    },
  });
  return counter;
}

async function loop(
  durationS: number,
  counter: { value: number },
  step: () => Promise<void>,
): Promise<Timed> {
  const latencies: number[] = [];
  const before = counter.value;
  const started = now();
  const deadline = started + durationS * 1000;
  while (now() < deadline) {
    const t0 = now();
    await step();
    latencies.push(now() - t0);
  }
  return { latencies, elapsedS: (now() - started) / 1000, statements: counter.value - before };
}

async function figures(
  plan: InProcessPlan,
  counter: { value: number },
  step: () => Promise<void>,
): Promise<OpFigures> {
  if (plan.warmupS > 0) await loop(plan.warmupS, counter, step);
  const runs: Timed[] = [];
  for (let index = 0; index < plan.runs; index++)
    runs.push(await loop(plan.durationS, counter, step));
  return fromRuns(runs);
}

function fromRuns(runs: Timed[]): OpFigures {
  const summaries = runs.map((run) => summarize(run.latencies));
  const samples = runs.reduce((sum, run) => sum + run.latencies.length, 0);
  const statements = runs.reduce((sum, run) => sum + run.statements, 0);
  return {
    p50Ms: round(median(summaries.map((s) => s.p50))),
    p99Ms: round(median(summaries.map((s) => s.p99))),
    opsPerS: round(median(runs.map((run) => run.latencies.length / run.elapsedS))),
    samples,
    statementsPerOp: round(statements / Math.max(1, samples)),
  };
}

/** `workers` callers at once, each one operation after another; ops/s is all of them together. */
async function concurrently(
  plan: InProcessPlan,
  workers: number,
  step: (worker: number) => Promise<unknown>,
): Promise<OpFigures> {
  const once = async (durationS: number) => {
    const latencies: number[] = [];
    const started = now();
    const deadline = started + durationS * 1000;
    await Promise.all(
      Array.from({ length: workers }, async (_, worker) => {
        while (now() < deadline) {
          const t0 = now();
          await step(worker);
          latencies.push(now() - t0);
        }
      }),
    );
    return { latencies, elapsedS: (now() - started) / 1000, statements: 0 };
  };
  if (plan.warmupS > 0) await once(plan.warmupS);
  const runs: Timed[] = [];
  for (let index = 0; index < plan.runs; index++) runs.push(await once(plan.durationS));
  const figures = fromRuns(runs);
  delete figures.statementsPerOp;
  return figures;
}

export async function benchInProcess(
  driver: "pglite" | "postgres",
  plan: InProcessPlan,
): Promise<InProcessReport> {
  const database: TestDatabase = await createTestDatabase(driver);
  try {
    await seedFixture(database.db, await readFixtureFile(demoFixturePath));
    const config = loadConfig({
      AUTH_ISSUER: "http://bench.test",
      IMPERSONATE_LIMIT_PER_MINUTE,
    });
    const deps: ServiceDeps = await createServiceDeps(database.db, config);
    const counter = countStatements(database.db);
    let requests = 0;
    const caller = async (token: string | null) =>
      createCaller(
        await createContext({
          deps,
          token,
          meta: { ip: "127.0.0.1", requestId: `bench-${++requests}`, ...requestTimes() },
        }),
      );

    const signedIn = await (
      await caller(null)
    ).auth.signIn({ email: BENCH_ACTOR.email, password: BENCH_ACTOR.password });
    const actorToken = signedIn.accessToken!;

    // The floor.
    await database.db.execute(
      sql`create table bench_floor (id int primary key, n bigint not null default 0)`,
    );
    await database.db.execute(sql`insert into bench_floor (id) select generate_series(1, 32)`);
    const floorClaims = { sub: "4", coworker_id: BENCH_TARGET_COWORKER, act: { sub: "1" } };
    const floorToken = signToken(deps.signer, "impersonation", floorClaims, {
      expiresAt: new Date(Date.now() + IMPERSONATION_TOKEN_MAX_S * 1000),
    });
    const floor = {
      sign: await figures(plan, counter, () => {
        signToken(deps.signer, "impersonation", floorClaims, {
          expiresAt: new Date(Date.now() + 60_000),
        });
        return Promise.resolve();
      }),
      signJose: await figures(plan, counter, async () => {
        await new SignJWT(floorClaims)
          .setProtectedHeader({
            alg: "EdDSA",
            typ: TOKEN_KINDS.impersonation.typ,
            kid: deps.signer.keys.signing.kid,
          })
          .setIssuer(deps.signer.issuer)
          .setAudience(TOKEN_KINDS.impersonation.audience(deps.signer.issuer))
          .setIssuedAt()
          .setExpirationTime(Math.floor(Date.now() / 1000) + 60)
          .setJti(randomUUID())
          .sign(deps.signer.keys.signing.privateKey);
      }),
      // Every verification goes through jose (tokens.ts), the same token again included.
      verify: await figures(plan, counter, async () => {
        await verifyImpersonationToken(deps.signer, floorToken);
      }),
      update: await figures(plan, counter, async () => {
        await queryRows(
          database.db,
          sql`update bench_floor set n = n + 1 where id = 1 returning n`,
        );
      }),
      select1: await figures(plan, counter, async () => {
        await queryRows(database.db, sql`select 1 as one`);
      }),
    };
    for (const line of Object.values(floor)) delete line.statementsPerOp;
    const contention = {
      sameRowC32: await concurrently(plan, 32, () =>
        queryRows(database.db, sql`update bench_floor set n = n + 1 where id = ${1} returning n`),
      ),
      sameRowAsyncCommitC32: await concurrently(plan, 32, () =>
        queryRows(
          database.db,
          sql`update bench_floor set n = n + 1 from (select set_config('synchronous_commit', 'off', true)) c where id = ${1} returning n`,
        ),
      ),
      ownRowC32: await concurrently(plan, 32, (worker) =>
        queryRows(
          database.db,
          sql`update bench_floor set n = n + 1 where id = ${worker + 1} returning n`,
        ),
      ),
    };

    const me = await figures(plan, counter, async () => {
      await (await caller(actorToken)).auth.me();
    });

    // Issue and exchange alternate (every exchange needs a fresh token); each is timed on its own.
    const issueRuns: Timed[] = [];
    const exchangeRuns: Timed[] = [];
    const flowRuns: Timed[] = [];
    for (let index = -1; index < plan.runs; index++) {
      const durationS = index < 0 ? plan.warmupS : plan.durationS;
      if (durationS <= 0) continue;
      const issue: Timed = { latencies: [], elapsedS: 0, statements: 0 };
      const exchange: Timed = { latencies: [], elapsedS: 0, statements: 0 };
      const flow: Timed = { latencies: [], elapsedS: 0, statements: 0 };
      const started = now();
      const deadline = started + durationS * 1000;
      while (now() < deadline) {
        const t0 = now();
        const s0 = counter.value;
        const { token } = await (
          await caller(actorToken)
        ).impersonation.impersonate({ coworkerId: BENCH_TARGET_COWORKER, reason: BENCH_REASON });
        const t1 = now();
        const s1 = counter.value;
        await (await caller(null)).impersonation.exchange({ token });
        const t2 = now();
        issue.latencies.push(t1 - t0);
        issue.statements += s1 - s0;
        issue.elapsedS += (t1 - t0) / 1000;
        exchange.latencies.push(t2 - t1);
        exchange.statements += counter.value - s1;
        exchange.elapsedS += (t2 - t1) / 1000;
        flow.latencies.push(t2 - t0);
        flow.statements += counter.value - s0;
      }
      flow.elapsedS = (now() - started) / 1000;
      if (index >= 0) {
        issueRuns.push(issue);
        exchangeRuns.push(exchange);
        flowRuns.push(flow);
      }
    }
    const withFloor = (op: OpFigures, parts: (keyof typeof floor)[]): OpFigures => {
      const floorMs = parts.reduce((sum, part) => sum + floor[part].p50Ms, 0);
      return {
        ...op,
        floorMs: round(floorMs),
        floorRatio: round(op.p50Ms / floorMs),
        floorParts: parts,
      };
    };
    const operations = {
      me: withFloor(me, ["verify", "update"]),
      issue: withFloor(fromRuns(issueRuns), ["verify", "sign", "update"]),
      exchange: withFloor(fromRuns(exchangeRuns), ["verify", "sign", "update"]),
      flow: withFloor(fromRuns(flowRuns), ["verify", "sign", "update", "verify", "sign", "update"]),
    };
    if (driver === "postgres")
      for (const op of Object.values(operations)) delete op.statementsPerOp;
    return {
      concurrency: 1,
      floor,
      contention,
      operations,
    };
  } finally {
    await database.close();
  }
}
