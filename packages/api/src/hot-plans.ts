// The plans of the hot paths' SQL on PostgreSQL. The statements are not copies: they are the ones
// the service sends, recorded on the wire (postgres-js's debug hook) while the real procedures run
// in-process — the issue + exchange flow, `me`, the audit list's first and a deep page, the
// member's access history, the sealer's round and a page of the export. Each is then explained
// with its own parameters, and every plan node that reads a large table whole (a Seq Scan) is
// reported. Used by the bench's scale section (which prints the plans) and by the test that
// fails when one of them turns into a sequential scan (hot-plans.postgres.test.ts).
import { type Connection, type RecordingDatabase } from "@cowork/db";
import { createContext } from "./context";
import { createCaller } from "./root";
import { sealAll } from "./services/audit-log/seal";
import { requestTimes } from "./services/deadline";
import { type ServiceDeps } from "./services/deps";

type PostgresClient = Extract<Connection, { driver: "postgres" }>["client"];

export interface Credentials {
  email: string;
  password: string;
}

export interface HotPathSubjects {
  /** A staff admin who impersonates `flowCoworkerId` (the flow, `me`). */
  flowActor: Credentials;
  flowCoworkerId: number;
  /** An admin of a location with a long audit log (the list, the deep page, the export). */
  auditAdmin: Credentials;
  /** The keyset cursor of a deep page of that log (an event id), or null to skip it. */
  deepCursor: number | null;
  /** A member with many impersonations (their access history). */
  member: Credentials;
}

export interface HotStatement {
  operation: string;
  text: string;
  params: unknown[];
}

const isQuery = (text: string) => /^\s*(select|insert|update|delete|with)\b/i.test(text);

/**
 * Runs each hot operation once through the real procedures and returns the statements each
 * sent (transaction control left out). `deps` must be built on `database` (its db).
 */
export async function recordHotStatements(
  database: RecordingDatabase,
  deps: ServiceDeps,
  subjects: HotPathSubjects,
): Promise<HotStatement[]> {
  let requests = 0;
  const caller = async (token: string | null) =>
    createCaller(
      await createContext({
        deps,
        token,
        meta: { ip: "127.0.0.1", requestId: `plans-${++requests}`, ...requestTimes() },
      }),
    );
  const signIn = async (who: Credentials) =>
    (await (await caller(null)).auth.signIn(who)).accessToken!;
  const actor = await signIn(subjects.flowActor);
  const admin = await signIn(subjects.auditAdmin);
  const member = await signIn(subjects.member);

  const statements: HotStatement[] = [];
  const record = async (operation: string, run: () => Promise<unknown>) => {
    database.take();
    await run();
    await deps.actions.flush();
    for (const { text, params } of database.take())
      if (isQuery(text)) statements.push({ operation, text, params });
  };
  let grant = "";
  await record("flow: issue", async () => {
    grant = (
      await (
        await caller(actor)
      ).impersonation.impersonate({ coworkerId: subjects.flowCoworkerId, reason: "plans" })
    ).token;
  });
  await record("flow: exchange", async () =>
    (await caller(null)).impersonation.exchange({ token: grant }),
  );
  await record("me", async () => (await caller(actor)).auth.me());
  await record("audit list: first page", async () =>
    (await caller(admin)).audit.listEvents({ limit: 50 }),
  );
  if (subjects.deepCursor !== null) {
    const cursor = subjects.deepCursor;
    await record("audit list: deep page", async () =>
      (await caller(admin)).audit.listEvents({ limit: 50, cursor }),
    );
    await record("export: a page", async () =>
      (await caller(admin)).audit.exportPage({ limit: 500, after: cursor }),
    );
  }
  await record("access history", async () => (await caller(member)).profiles.accessHistory());
  await record("sealer: a round", () => sealAll(deps));
  return statements;
}

export interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  "Index Name"?: string;
  Plans?: PlanNode[];
  [key: string]: unknown;
}

export interface ExplainedStatement extends HotStatement {
  plan: PlanNode;
  /** The large tables (over `largeRows` rows) this plan reads by sequential scan. */
  seqScans: string[];
}

/** Tables with at least this many rows must never be read whole on a hot path. */
export const LARGE_TABLE_ROWS = 10_000;

/** Every relation a plan reads with a Seq Scan. */
export function seqScannedRelations(node: PlanNode): string[] {
  const own =
    node["Node Type"] === "Seq Scan" && node["Relation Name"] ? [node["Relation Name"]] : [];
  return [...own, ...(node.Plans ?? []).flatMap(seqScannedRelations)];
}

/** Explains each statement (without running it) with its recorded parameters. */
export async function explainStatements(
  client: PostgresClient,
  statements: readonly HotStatement[],
  largeRows = LARGE_TABLE_ROWS,
): Promise<ExplainedStatement[]> {
  const sizes = new Map(
    (
      await client.unsafe<{ relname: string; rows: number }[]>(
        "select relname, reltuples::float8 as rows from pg_class where relkind = 'r' and relnamespace = 'public'::regnamespace",
      )
    ).map((row) => [row.relname, Number(row.rows)]),
  );
  const explained: ExplainedStatement[] = [];
  for (const statement of statements) {
    const [row] = await client.unsafe<{ "QUERY PLAN": [{ Plan: PlanNode }] }[]>(
      `explain (format json) ${statement.text}`,
      statement.params as never[],
    );
    const plan = row!["QUERY PLAN"][0].Plan;
    const seqScans = seqScannedRelations(plan).filter(
      (relation) => (sizes.get(relation) ?? 0) >= largeRows,
    );
    explained.push({ ...statement, plan, seqScans });
  }
  return explained;
}

/** A plan as indented lines: node type, relation and index, estimated rows and cost. */
export function describePlan(node: PlanNode, depth = 0): string[] {
  const on = node["Relation Name"] ? ` on ${node["Relation Name"]}` : "";
  const using = node["Index Name"] ? ` using ${node["Index Name"]}` : "";
  const line = `${"  ".repeat(depth)}${node["Node Type"]}${using}${on} (rows ${String(node["Plan Rows"])}, cost ${String(node["Total Cost"])})`;
  return [line, ...(node.Plans ?? []).flatMap((child) => describePlan(child, depth + 1))];
}
