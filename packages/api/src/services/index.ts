// Builds the services of one process: database handle, configuration, keys imported once.
import { type Database } from "@cowork/db";
import { type ServiceConfig } from "../config";
import { ActionWriter, type ActionWriterOptions } from "./actions/writer";
import { type ServiceDeps } from "./deps";
import { loadKeys } from "./keys";

export async function createServiceDeps(
  db: Database,
  config: ServiceConfig,
  options: { actions?: ActionWriterOptions } = {},
): Promise<ServiceDeps> {
  const keys = await loadKeys(db, config);
  return {
    db,
    config,
    signer: { keys, issuer: config.issuer },
    actions: new ActionWriter(db, options.actions),
  };
}
