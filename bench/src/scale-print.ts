// The scale section's table: each measure on the empty and on the scaled database, their ratio
// (scaled ÷ empty), and the target with whether the scaled figure meets it. Printed, never
// asserted: CI's small run has no timing assertions.
import type { ScaleDatabaseReport, ScaleLine, ScaleReport } from "./report";
import { round } from "./stats";

interface Row {
  measure: string;
  empty: number | null;
  scaled: number | null;
  target: string;
  /** Whether the row meets its target; null when it has none or a figure is missing. */
  met: boolean | null;
}

const ratio = (row: Row) =>
  row.empty && row.scaled !== null && Number.isFinite(row.scaled)
    ? round(row.scaled / row.empty)
    : null;

export function scaleRows(report: ScaleReport): Row[] {
  const { empty, scaled } = report;
  const both = (pick: (db: ScaleDatabaseReport) => number | null | undefined) => ({
    empty: pick(empty) ?? null,
    scaled: pick(scaled) ?? null,
  });
  const rows: Row[] = [];
  const rateRow = (measure: string, pick: (db: ScaleDatabaseReport) => number) => {
    const values = both(pick);
    const row = { measure, ...values, target: "≥ 0.9× empty", met: null as boolean | null };
    const r = ratio(row);
    row.met = r === null ? null : r >= 0.9;
    rows.push(row);
  };
  const ceiling = (
    measure: string,
    pick: (db: ScaleDatabaseReport) => number | null | undefined,
    max: number,
    unit: string,
  ) => {
    const values = both(pick);
    rows.push({
      measure,
      ...values,
      target: `≤ ${max} ${unit}`,
      met: values.scaled === null ? null : values.scaled <= max,
    });
  };
  rateRow("flow c32 (flows/s)", (db) => db.flow.ratePerS);
  rateRow("me c32 (requests/s)", (db) => db.me.ratePerS);
  // The same two as CPU per operation (server + PostgreSQL): what a busy, shared machine's drift
  // moves least. 0.9× the rate is 1/0.9 = 1.11× the CPU.
  const cpuRow = (measure: string, pick: (db: ScaleDatabaseReport) => ScaleLine) => {
    const cpu = (db: ScaleDatabaseReport) => {
      const line = pick(db);
      return line.serverCpuMs === null || line.postgresCpuMs === null
        ? null
        : round(line.serverCpuMs + line.postgresCpuMs);
    };
    const row = { measure, ...both(cpu), target: "≤ 1.11× empty", met: null as boolean | null };
    const r = ratio(row);
    row.met = r === null ? null : r <= 1 / 0.9;
    rows.push(row);
  };
  cpuRow("flow CPU per op (ms)", (db) => db.flow);
  cpuRow("me CPU per op (ms)", (db) => db.me);
  ceiling("audit first page p99 (ms)", (db) => db.auditFirstPage.p99Ms, 50, "ms");
  ceiling(
    `audit page ${scaled.auditDeepPage?.depth ?? "—"} deep p99 (ms)`,
    (db) => db.auditDeepPage?.p99Ms,
    50,
    "ms",
  );
  ceiling("access history p99 (ms)", (db) => db.accessHistory.p99Ms, 20, "ms");
  const exportRow = {
    measure: "export (events/s)",
    ...both((db) => db.export.eventsPerS),
    target: "≥ 50000/s",
    met: scaled.export.eventsPerS >= 50_000,
  };
  rows.push(exportRow);
  ceiling("export RSS growth (MiB)", (db) => db.export.rssGrowthMiB, 100, "MiB");
  ceiling("sealing lag under the flow (s)", (db) => db.sealingLagS, 10, "s");
  return rows;
}

export function printScale(report: ScaleReport, log: (line: string) => void): void {
  log(`\n== scale: empty fixture vs ${report.size} (${JSON.stringify(report.sizes)}) ==`);
  const cell = (value: number | null | string, width: number) =>
    String(value ?? "—").padStart(width);
  log(
    `${"measure".padEnd(34)}${cell("empty", 11)}${cell("scaled", 11)}${cell("ratio", 8)}  ${"target".padEnd(14)}met`,
  );
  for (const row of scaleRows(report)) {
    log(
      `${row.measure.padEnd(34)}${cell(row.empty, 11)}${cell(row.scaled, 11)}${cell(ratio(row), 8)}  ${row.target.padEnd(14)}${row.met === null ? "—" : row.met ? "yes" : "NO"}`,
    );
  }
  log(
    `export: ${report.scaled.export.events} events in ${report.scaled.export.seconds} s (scaled); audit log of the measured location: ${report.empty.auditLogSize ?? "—"} (empty), ${report.scaled.auditLogSize ?? "—"} (scaled)`,
  );
  const cpu = report.scaled.export.cpuPerThousand;
  if (cpu)
    log(
      `export CPU per 1,000 events (scaled): server ${cpu.serverMs} ms, PostgreSQL ${cpu.postgresMs} ms, reader ${cpu.readerMs} ms`,
    );
  log(
    `\n${"table".padEnd(24)}${cell("rows", 12)}${cell("table MiB", 11)}${cell("index MiB", 11)}   (scaled; empty)`,
  );
  for (const table of report.scaled.tables) {
    const small = report.empty.tables.find((t) => t.table === table.table);
    log(
      `${table.table.padEnd(24)}${cell(table.rows, 12)}${cell(table.tableMiB, 11)}${cell(table.indexMiB, 11)}   (${small?.rows ?? "—"} rows, ${small ? round(small.tableMiB + small.indexMiB) : "—"} MiB)`,
    );
  }
  const errors = [report.empty, report.scaled].flatMap((db) =>
    [
      db.flow,
      db.me,
      db.auditFirstPage,
      db.accessHistory,
      ...(db.auditDeepPage ? [db.auditDeepPage] : []),
    ]
      .filter((line) => line.errors > 0)
      .map((line) => line.firstError),
  );
  if (errors.length) log(`errors: ${errors.join("; ")}`);
  log(
    report.seqScans.length
      ? `sequential scans of large tables on hot paths: ${report.seqScans.join("; ")}`
      : "hot statements: no sequential scan of a large table",
  );
}
