// The HTTP sections for one database: the production server started on it, the floors, me and
// the flow measured, then the sustained-load memory section, and (under BENCH_PROFILE) the CPU
// profile of the load phase.
import { join } from "node:path";
import { createTestDatabase, type TestDatabase } from "@cowork/db/testing";
import { demoFixturePath, readFixtureFile, seedFixture } from "@cowork/db/seed";
import { measureLine, ratiosToDoorFloor } from "./http-line";
import type { Operation } from "./http-load";
import { IMPERSONATE_LIMIT_PER_MINUTE } from "./in-process";
import { type Driver, memoryS, profiling, wants } from "./options";
import { repoRoot, residentMiB, sampleMemory, startPortal } from "./portal";
import { log } from "./print";
import { type ProfileSummary, mainThreadProfile, printProfile, summarizeProfile } from "./profile";
import { emptyHttpReport, type MemoryReport, type TargetReport } from "./report";
import { boundMe, portalScenarios, registerIdleWebhook, signIn } from "./scenarios";
import { round } from "./stats";
import { sustainMemoryLoad } from "./sustained-memory";

export async function benchPortal(
  driver: Driver,
): Promise<Pick<TargetReport, "http" | "memory" | "profile">> {
  let database: TestDatabase | null = null;
  if (driver === "postgres") {
    database = await createTestDatabase("postgres");
    await seedFixture(database.db, await readFixtureFile(demoFixturePath));
  }
  const profileDir = join(
    repoRoot,
    "bench/reports/profiles",
    `${new Date().toISOString().replace(/[:.]/g, "-")}-${driver}`,
  );
  const portal = await startPortal({
    databaseUrl: database?.url ?? null,
    env: { IMPERSONATE_LIMIT_PER_MINUTE },
    nodeFlags: profiling ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [],
  });
  const startMiB = residentMiB(portal.pid) ?? Number.NaN;
  const sampler = sampleMemory(portal.pid);
  let profile: ProfileSummary | null = null;
  try {
    const actorToken = await signIn(portal.url);
    await registerIdleWebhook(portal.url, actorToken);
    const scenarios = portalScenarios(actorToken);
    const measureOnPortal = (operation: Operation, label: string) =>
      measureLine(portal.url, operation, label, portal.pid);

    const loadStartedAt = Date.now();
    const http = emptyHttpReport({ IMPERSONATE_LIMIT_PER_MINUTE, NODE_ENV: "production" });
    if (wants("floors")) {
      http.doorFloor = await measureOnPortal(
        scenarios.doorFloor,
        "door floor: GET /.well-known/jwks.json",
      );
      http.nextFloor = await measureOnPortal(scenarios.nextFloor, "Next floor: GET /api/health");
    }
    if (wants("me")) {
      http.me = await measureOnPortal(scenarios.me, "GET /api/sys/users/me");
      http.meDpop = await measureOnPortal(
        await boundMe(portal.url),
        "GET /api/sys/users/me, DPoP-bound",
      );
    }
    if (wants("flow")) http.flow = await measureOnPortal(scenarios.flow, "issue + exchange flow");
    http.ratioToDoorFloor = ratiosToDoorFloor(http);

    const sustained =
      memoryS > 0 && wants("memory")
        ? await sustainMemoryLoad(portal.url, portal.pid, sampler, scenarios.mixed())
        : null;
    const loadEndedAt = Date.now();
    const samples = sampler.stop();
    const memory: MemoryReport = {
      pid: portal.pid,
      startMiB: round(startMiB),
      peakMiB: round(Math.max(...samples.map((s) => s.rssMiB))),
      sustained,
    };
    await portal.stop();
    const exitedAt = Date.now();
    if (profiling) {
      // Only the load phase: start-up (module loading, migrations) is not what we look for.
      const window = {
        fromS: (exitedAt - loadStartedAt) / 1000,
        toS: (exitedAt - loadEndedAt) / 1000,
      };
      profile = summarizeProfile(mainThreadProfile(profileDir), 25, window);
      printProfile(profile, log);
    }
    return { http, memory, profile };
  } finally {
    sampler.stop();
    await portal.stop();
    await database?.close();
  }
}
