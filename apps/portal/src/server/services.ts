import "server-only";
// The services of the Next bundle, created once (and kept across dev reloads): configuration
// validated, keys imported once, over the database connection server.ts opened.
import { createServiceDeps, loadConfig, type ServiceDeps } from "@cowork/api";
import { attachDatabase } from "@cowork/db";
import { sharedConnection } from "./shared-connection";

interface Services {
  deps: ServiceDeps;
}

const holder = globalThis as typeof globalThis & { __coworkServices?: Promise<Services> };

export function getServices(): Promise<Services> {
  holder.__coworkServices ??= (async () => {
    const config = loadConfig(process.env);
    const { db } = attachDatabase(sharedConnection());
    // Keys could not be loaded (database down): the next request tries anew.
    return { deps: await createServiceDeps(db, config) };
  })().catch((error: unknown) => {
    holder.__coworkServices = undefined;
    throw error;
  });
  return holder.__coworkServices;
}

export { clientAddress, requestMeta, requestTimesOf } from "./request-meta";
