import "server-only";
// The services of this process, created once (and kept across dev reloads): one database
// handle, configuration validated, keys imported once.
import { createServiceDeps, loadConfig, type RequestMeta, type ServiceDeps } from "@cowork/api";
import { createDatabase, type DatabaseHandle } from "@cowork/db";
import { isIP } from "node:net";
import { PEER_HEADER } from "./peer-header";

interface Services {
  deps: ServiceDeps;
  database: DatabaseHandle;
}

const holder = globalThis as typeof globalThis & { __coworkServices?: Promise<Services> };

export function getServices(): Promise<Services> {
  holder.__coworkServices ??= (async () => {
    const config = loadConfig(process.env);
    const database = createDatabase({
      url: config.databaseUrl,
      pgliteDir: config.pgliteDir,
      maxConnections: 20,
    });
    try {
      return { deps: await createServiceDeps(database.db, config), database };
    } catch (error) {
      // Keys could not be loaded (database down): drop this pool, the next request tries anew.
      await database.close().catch(() => undefined);
      throw error;
    }
  })().catch((error: unknown) => {
    holder.__coworkServices = undefined;
    throw error;
  });
  return holder.__coworkServices;
}

const normalize = (address: string) => address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, "");

/**
 * The client address: the socket's, or — only when the socket is a configured proxy — the
 * nearest X-Forwarded-For hop that is not itself a trusted proxy.
 */
export function clientAddress(
  headers: Headers,
  trustedProxies: ReadonlySet<string>,
): string | null {
  const peer = normalize(headers.get(PEER_HEADER) ?? "");
  if (!peer) return null;
  if (!trustedProxies.has(peer)) return peer;
  const hops = (headers.get("x-forwarded-for") ?? "")
    .split(",")
    .map((hop) => normalize(hop.trim()))
    .filter(Boolean);
  for (let index = hops.length - 1; index >= 0; index--) {
    const hop = hops[index]!;
    if (!isIP(hop)) return peer;
    if (!trustedProxies.has(hop)) return hop;
  }
  return peer;
}

export function requestMeta(headers: Headers, deps: ServiceDeps): RequestMeta {
  return {
    ip: clientAddress(headers, deps.config.trustedProxies),
    requestId: headers.get("x-request-id") ?? crypto.randomUUID(),
  };
}
