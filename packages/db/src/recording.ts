// A PostgreSQL database that records every statement it sends, with its parameters (postgres-js's
// debug hook): what the service really asks, for tools that explain its plans (@cowork/api
// hot-plans.ts). Not for serving: it keeps everything until taken.
import postgres from "postgres";
import { attachDatabase, type DatabaseHandle } from "./client";

export interface RecordedStatement {
  text: string;
  params: unknown[];
}

export interface RecordingDatabase extends DatabaseHandle {
  /** The statements sent since the last call, in order. */
  take(): RecordedStatement[];
}

export function createRecordingPostgres(url: string, maxConnections = 4): RecordingDatabase {
  let recorded: RecordedStatement[] = [];
  const client = postgres(url, {
    max: maxConnections,
    onnotice: () => undefined,
    debug: (_connection, text, params) => {
      recorded.push({ text, params: [...(params as unknown[])] });
    },
  });
  return {
    ...attachDatabase({ driver: "postgres", client }),
    close: () => client.end({ timeout: 2 }),
    take() {
      const taken = recorded;
      recorded = [];
      return taken;
    },
  };
}
