// What every service function receives: the database, the configuration and the token signer.
import { type TokenSigner } from "@cowork/auth";
import { type Database } from "@cowork/db";
import { type ServiceConfig } from "../config";

export interface ServiceDeps {
  db: Database;
  config: ServiceConfig;
  signer: TokenSigner;
}

/** Who is calling, as far as the transport can tell. */
export interface RequestMeta {
  ip: string | null;
  requestId: string;
}
