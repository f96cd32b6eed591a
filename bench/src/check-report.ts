// The CI smoke check: the bench wrote a fresh report with every section filled. It asserts
// nothing about the figures themselves (a shared CI machine makes timings meaningless).
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Report } from "./report";
import { repoRoot } from "./portal";

const file = process.argv[2] ?? join(repoRoot, "bench/reports/latest.json");
const problems: string[] = [];
const check = (ok: unknown, what: string) => {
  if (!ok) problems.push(what);
};
const ageS = (Date.now() - statSync(file).mtimeMs) / 1000;
check(ageS < 3600, `${file} is ${Math.round(ageS)} s old: not written by this run`);
const report = JSON.parse(readFileSync(file, "utf8")) as Report;
const figure = (value: unknown) => typeof value === "number" && Number.isFinite(value);
check(report.version === 1, "version");
check(report.machine?.nproc > 0 && report.machine.node, "machine");
check(report.nodeFloor?.c1 && report.nodeFloor.c32, "nodeFloor");
check(report.targets?.length >= 1, "targets");
const expected = process.env.DATABASE_URL ? ["pglite", "postgres"] : ["pglite"];
check(
  expected.every((db) => report.targets.some((t) => t.database === db)),
  `targets for ${expected.join(" and ")}`,
);
for (const target of report.targets ?? []) {
  const at = (what: string) => `${target.database}: ${what}`;
  const ip = target.inProcess;
  for (const name of ["sign", "signJose", "verify", "update", "select1"] as const)
    check(ip && figure(ip.floor[name].p50Ms), at(`in-process floor ${name}`));
  for (const name of ["sameRowC32", "sameRowAsyncCommitC32", "ownRowC32"] as const)
    check(ip && figure(ip.contention[name].opsPerS), at(`in-process contention ${name}`));
  for (const name of ["me", "issue", "exchange", "flow"] as const) {
    check(
      ip &&
        figure(ip.operations[name].p50Ms) &&
        figure(ip.operations[name].opsPerS) &&
        figure(ip.operations[name].floorRatio),
      at(`in-process ${name}`),
    );
  }
  for (const name of ["doorFloor", "nextFloor", "me", "meDpop", "flow"] as const) {
    for (const key of ["c1", "c32"] as const) {
      const line = target.http[name][key];
      check(
        line && figure(line.ratePerS) && figure(line.p50Ms) && figure(line.p99Ms),
        at(`http ${name} ${key}`),
      );
      check(
        line && line.errors === 0,
        at(`http ${name} ${key} answered errors: ${line?.firstError}`),
      );
      if (process.platform === "linux")
        check(
          line?.cpu && figure(line.cpu.serverMs) && figure(line.cpu.postgresMs),
          at(`http ${name} ${key} CPU per operation`),
        );
    }
  }
  check(figure(target.memory.peakMiB) && target.memory.peakMiB > 0, at("memory peak"));
}
check(report.goals?.length >= 4, "goals");
if (process.env.DATABASE_URL) {
  for (const line of [report.processes?.flow, report.processes?.me]) {
    check(line && figure(line.ratio), `processes ${line?.operation ?? "line"}: ratio`);
    for (const turn of line?.turns ?? [])
      check(
        turn.errors === 0,
        `processes ${line!.operation}, ${turn.processes} process(es) answered errors: ${turn.firstError}`,
      );
  }
  check(report.processes?.flow.turns.length, "processes: turns");
  for (const format of ["ndjson", "csv"] as const) {
    const run = report.export?.runs.find((candidate) => candidate.format === format);
    check(
      run && run.events === report.export!.expected && figure(run.rssGrowthMiB),
      `export ${format}: every event, and the server's memory`,
    );
  }
  // The scale section: both databases measured, without errors, and the plans examined.
  const scale = report.scale;
  check(scale, "scale section");
  for (const name of ["empty", "scaled"] as const) {
    const db = scale?.[name];
    for (const line of ["flow", "me", "auditFirstPage", "accessHistory"] as const)
      check(
        db && figure(db[line].p99Ms) && db[line].errors === 0,
        `scale ${name} ${line}${db?.[line].firstError ? `: ${db[line].firstError}` : ""}`,
      );
    check(db && figure(db.export.eventsPerS) && db.export.events > 0, `scale ${name} export`);
    check(db && figure(db.sealingLagS), `scale ${name} sealing lag`);
    check(db && db.tables.length > 0, `scale ${name} table sizes`);
  }
  check(scale?.scaled.auditDeepPage, "scale scaled audit deep page");
  check(Array.isArray(scale?.seqScans), "scale plans");
}
if (problems.length) {
  console.error(`bench report ${file} is incomplete:\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log(
  `bench report ${file}: every section present (${report.targets.map((t) => t.database).join(", ")}); no timing asserted.`,
);
