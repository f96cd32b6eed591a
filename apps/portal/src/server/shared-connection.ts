// The process's one database connection (a PGlite folder can be opened by one instance only;
// PostgreSQL gets one pool). server.ts opens it and publishes it here; the Next bundle, a second
// copy of every module in the same process, finds it on globalThis and puts its own Drizzle
// around it. Only the driver's connection crosses: each side keeps its own classes.
import type { Connection } from "@cowork/db";

const holder = globalThis as typeof globalThis & { __coworkConnection?: Connection };

export function publishConnection(connection: Connection): void {
  holder.__coworkConnection = connection;
}

export function sharedConnection(): Connection {
  const connection = holder.__coworkConnection;
  if (!connection) throw new Error("No database connection: the portal runs under server.ts.");
  return connection;
}
