// One service database that several portals use: a shared PostgreSQL database (processes may
// run side by side) or, on PGlite, a folder that portals open one after another.
import postgres from "postgres";
import { type Fixture } from "@cowork/validators";
import { createPgliteFolder, createSharedDatabase, type StartOptions } from "./portal";

export interface Store {
  driver: "pglite" | "postgres";
  /** Pass to startPortal. */
  options: StartOptions;
  /** Direct SQL on the database (PostgreSQL only; PGlite is held by the portal process). */
  sql: postgres.Sql | null;
  /** The database URL (PostgreSQL only). */
  url: string | null;
  close(): Promise<void>;
}

export const onPostgres = () => process.env.TEST_DB === "postgres";

export async function createStore(fixture?: Fixture): Promise<Store> {
  if (onPostgres()) {
    const database = await createSharedDatabase({ seed: fixture ?? true });
    const sql = postgres(database.url!, { max: 4, onnotice: () => undefined });
    return {
      driver: "postgres",
      options: { databaseUrl: database.url! },
      sql,
      url: database.url!,
      close: async () => {
        await sql.end({ timeout: 2 });
        await database.close();
      },
    };
  }
  const folder = await createPgliteFolder(fixture);
  return {
    driver: "pglite",
    options: { pgliteDir: folder.dir },
    sql: null,
    url: null,
    close: () => Promise.resolve(folder.remove()),
  };
}

/** A postgres client for a database URL (tests only; small pool). */
export const sqlClient = (url: string) => postgres(url, { max: 4, onnotice: () => undefined });
