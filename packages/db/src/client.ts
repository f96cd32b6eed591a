// Driver factories: embedded PGlite by default, PostgreSQL when a URL is given. Both yield the
// same typed Drizzle database, so every query in the service runs unchanged on either.
import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { DrizzleQueryError, type SQL } from "drizzle-orm";
import { PgDialect, type PgDatabase, type PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import * as schema from "./schema";

export type Schema = typeof schema;
export type Database = PgDatabase<PgQueryResultHKT, Schema>;

/** The open driver connection under a handle. */
export type Connection =
  { driver: "pglite"; client: PGlite } | { driver: "postgres"; client: postgres.Sql };

export interface DatabaseHandle {
  db: Database;
  driver: "pglite" | "postgres";
  connection: Connection;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** A postgres:// URL selects PostgreSQL. */
  url?: string | undefined;
  /** PGlite data folder, or "memory" for a throwaway in-memory database. */
  pgliteDir?: string | undefined;
  /** PostgreSQL pool size. */
  maxConnections?: number | undefined;
  /**
   * PostgreSQL's statement_timeout on every connection of the pool, in milliseconds; none when
   * absent. The service passes REQUEST_STATEMENT_TIMEOUT_MS; migrations and scripts pass nothing.
   */
  statementTimeoutMs?: number | undefined;
}

/**
 * The server-side bound on one statement of a request. A request's writes may only start before
 * its SQL deadline (`before_deadline`, 2.5 s after the request arrived, see
 * @cowork/api services/deadline.ts); one that started just before it is cancelled by PostgreSQL,
 * and rolled back, at most this long after, so that whatever commits has committed 4 s after
 * the request arrived, half a second before the service gives up and answers 503 (4.5 s). That
 * half second is for the result to cross back and for clock skew between the two machines.
 * A read that PostgreSQL cancels this way is a 503 too (57014), never a hang.
 */
export const REQUEST_STATEMENT_TIMEOUT_MS = 1500;

export function createDatabase(options: DatabaseOptions): DatabaseHandle {
  if (options.url)
    return createPostgres(options.url, options.maxConnections ?? 10, options.statementTimeoutMs);
  return createPglite(options.pgliteDir ?? "memory");
}

export function createPostgres(
  url: string,
  maxConnections = 10,
  statementTimeoutMs?: number,
): DatabaseHandle {
  const client = postgres(url, {
    max: maxConnections,
    // An unreachable database must turn into a 503 within the contract's 5 s, not a hang.
    connect_timeout: 3,
    idle_timeout: 30,
    onnotice: () => undefined,
    // A startup parameter of each connection: set before its first statement, with no round
    // trip of its own, and kept by every statement on it.
    ...(statementTimeoutMs === undefined
      ? {}
      : { connection: { statement_timeout: statementTimeoutMs } }),
  });
  return {
    ...attachDatabase({ driver: "postgres", client }),
    close: () => client.end({ timeout: 2 }),
  };
}

/**
 * A typed database over a connection someone else opened and will close (its close() does
 * nothing): createPostgres and createPglite put Drizzle around the connection they open.
 */
export function attachDatabase(connection: Connection): DatabaseHandle {
  if (connection.driver === "pglite") {
    const db = drizzlePglite(connection.client, { schema }) as unknown as Database;
    return { db, driver: "pglite", connection, close: () => Promise.resolve() };
  }
  const db = drizzlePostgres(connection.client, { schema }) as unknown as Database;
  preparedClients.set(db, connection.client);
  return { db, driver: "postgres", connection, close: () => Promise.resolve() };
}

/**
 * The postgres-js client behind each database createPostgres made. Drizzle's raw `execute` sends
 * unnamed statements, which postgres-js sends as two round trips (describe, then bind and
 * execute) and PostgreSQL plans afresh every time; the service's raw statements are a small fixed
 * set of texts, so queryRows sends them as named prepared statements instead: one round trip,
 * parsed once per connection. Transactions (not in this map) keep drizzle's path.
 */
const preparedClients = new WeakMap<Database, postgres.Sql>();
const dialect = new PgDialect();

/** The postgres-js client behind a database createPostgres made; null on PGlite. */
export function postgresClientOf(db: Database): postgres.Sql | null {
  return preparedClients.get(db) ?? null;
}

async function execute(db: Database, query: SQL): Promise<unknown> {
  const client = preparedClients.get(db);
  if (!client) return db.execute(query);
  // Rendered and wrapped exactly as drizzle's own execute does (same text, same error type).
  const { sql: text, params } = dialect.sqlToQuery(query);
  try {
    return await client.unsafe(text, params as postgres.ParameterOrJSON<never>[], {
      prepare: true,
    });
  } catch (error) {
    throw new DrizzleQueryError(text, params, error as Error);
  }
}

/**
 * A read written with Drizzle's query builder, built once per database and run as a prepared
 * statement. Building a query (its SQL text and column mapping) costs more CPU than the service's
 * own work on the hot paths, so it is done once: `build` names each value of a call with
 * `sql.placeholder(name)`, and every call only fills them in. On PostgreSQL, postgres-js sends it
 * named, so it costs one round trip and is parsed once per connection, as queryRows' raw
 * statements are (the builder's plain `await` sends it unnamed: two round trips). PGlite runs it
 * as any other query. The name only marks the statement as prepared: postgres-js names it
 * itself, by its text.
 */
/**
 * A read whose shape depends on the call (optional filters, a page size), built anew each time
 * and run as a prepared statement as `preparedRead`'s are. Only for pages and other reads off
 * the hot paths: a read of fixed shape is a `preparedRead`.
 */
export function readPrepared<Result>(
  query: { prepare(name: string): { execute(): Promise<Result> } },
  name: string,
): Promise<Result> {
  return query.prepare(name).execute();
}

export function preparedRead<Values extends Record<string, unknown>, Result>(
  name: string,
  build: (db: Database) => {
    prepare(name: string): { execute(values?: Values): Promise<Result> };
  },
): (db: Database, values: Values) => Promise<Result> {
  const built = new WeakMap<Database, { execute(values?: Values): Promise<Result> }>();
  return (db, values) => {
    let query = built.get(db);
    if (!query) built.set(db, (query = build(db).prepare(name)));
    return query.execute(values);
  };
}

export function createPglite(dir: string): DatabaseHandle {
  if (dir !== "memory") mkdirSync(dir, { recursive: true });
  const client = dir === "memory" ? new PGlite() : new PGlite(dir);
  return { ...attachDatabase({ driver: "pglite", client }), close: () => client.close() };
}

const TIMESTAMPTZ_OID = 1184;
const INT8_OID = 20;

/**
 * Runs a raw statement and returns its rows as a plain array. The two drivers shape raw results
 * differently (an array for postgres-js, `{ rows }` for PGlite), and Drizzle makes both return
 * timestamptz as text while only postgres-js returns int8 as text; this is the one place that
 * knows, so a caller gets a Date and a number from either driver.
 */
export async function queryRows<Row>(db: Database, query: SQL): Promise<Row[]> {
  const result: unknown = await execute(db, query);
  const rows = (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as Record<
    string,
    unknown
  >[];
  const columns = Array.isArray(result)
    ? ((result as { columns?: { name: string; type: number }[] }).columns ?? [])
    : ((result as { fields?: { name: string; dataTypeID: number }[] }).fields ?? []).map((f) => ({
        name: f.name,
        type: f.dataTypeID,
      }));
  const converted = columns.filter((c) => c.type === TIMESTAMPTZ_OID || c.type === INT8_OID);
  return rows.map((row) => {
    const copy = { ...row };
    for (const column of converted) {
      const value = copy[column.name];
      if (typeof value !== "string") continue;
      copy[column.name] = column.type === INT8_OID ? Number(value) : new Date(value);
    }
    return copy as Row;
  });
}
