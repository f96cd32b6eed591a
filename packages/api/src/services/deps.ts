// What every service function receives: the database, the configuration and the token signer.
import { type TokenSigner } from "@cowork/auth";
import { type Database } from "@cowork/db";
import { type ServiceConfig } from "../config";
import { type ActionWriter } from "./actions/writer";
import { type RequestTimes } from "./deadline";

export interface ServiceDeps {
  db: Database;
  config: ServiceConfig;
  signer: TokenSigner;
  /** What impersonated sessions call, written in batches; the server stops it on shutdown. */
  actions: ActionWriter;
}

/**
 * Who is calling, as far as the transport can tell, and the request's times (deadline.ts): every
 * statement that writes checks `deadline` in the database, every wait ends at `answerBy`.
 */
export interface RequestMeta extends RequestTimes {
  ip: string | null;
  requestId: string;
}
