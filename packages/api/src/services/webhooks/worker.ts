// The webhook worker of one process (CONTRACT §9, "Delivery"): every second it notes the
// impersonated sessions that ended without a write (outbox.ts, sweepEndedSessions), then claims
// webhooks with due messages, one at a time per lane, and delivers each one's messages in order,
// recording every attempt. A failed attempt is tried again with the same webhook-id (the mail
// worker's backoff: the first retry within 10 s, then doubling, for a day), and does not hold back
// the messages after it. Any number of processes run one; the claim's lease keeps a webhook with
// one worker at a time. Delivery happens only here: no request waits for a receiver.
import { randomUUID } from "node:crypto";
import { lookup } from "node:dns/promises";
import { retryDelayS } from "../../mail/backoff";
import { type Logger, serializeError } from "../../observability/logger";
import { OutboundRefused, type Resolve } from "../../outbound";
import { type ServiceDeps } from "../deps";
import { otpKey } from "../otp";
import { openBound } from "../otp-secret";
import { postMessage } from "./http-post";
import { composeMessage } from "./messages";
import { webhookMetrics } from "./metrics";
import {
  claimWebhook,
  type ClaimedWebhook,
  countWaiting,
  type DueMessage,
  dueMessages,
  recordAttempt,
  releaseWebhook,
  sweepEndedSessions,
} from "./outbox";
import { webhookSecretOwner } from "./registry";

export interface WebhookWorkerOptions {
  /** The database, the signer (of CAEP SETs), and the configuration: OUTBOUND_ALLOW_HOSTS and the key webhook secrets are sealed with. */
  deps: Pick<ServiceDeps, "db" | "signer" | "config">;
  logger: Pick<Logger, "info" | "warn" | "error">;
  /** Resolves host names at each delivery (default: the system's resolver, every address). */
  resolve?: Resolve;
  /** This worker's name in webhook_attempts (default: a new id). */
  name?: string;
  /** How often the outbox is looked at (default 1 s). */
  pollMs?: number;
  /** How long a receiver has to answer (default 5 s). */
  timeoutMs?: number;
  /** Webhooks served side by side (default 4). */
  lanes?: number;
  /** Messages of one webhook sent per claim (default 20). */
  batch?: number;
  /** The wait after failed attempt number n (default: the mail worker's backoff). */
  retryDelayS?: (attempts: number) => number;
}

export interface WebhookWorker {
  readonly name: string;
  /** Sweeps, then delivers what is due now until nothing is; answers how many attempts it made. */
  drain(): Promise<number>;
  /** Stops polling; resolves when the attempts under way are recorded. */
  stop(): Promise<void>;
}

const systemResolve: Resolve = (host) => lookup(host, { all: true, verbatim: true });

export function startWebhookWorker(options: WebhookWorkerOptions): WebhookWorker {
  const {
    deps,
    logger,
    resolve = systemResolve,
    name = `webhooks-${randomUUID()}`,
    pollMs = 1000,
    timeoutMs = 5000,
    lanes = 4,
    batch = 20,
    retryDelayS: delayOf = retryDelayS,
  } = options;
  const { db, signer } = deps;
  const allow = deps.config.outboundAllowHosts;
  const secretKey = otpKey(deps);
  // A claim holds its webhook for longer than its batch can take, receivers all timing out.
  const leaseS = Math.ceil((batch * timeoutMs * 2) / 1000) + 30;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | null = null;
  let outageLogged = false;

  /** One attempt; answers whether the receiver took it. */
  async function attempt(webhook: ClaimedWebhook, message: DueMessage) {
    const startedAt = new Date();
    let status: number | null = null;
    let error: string | null = null;
    let outcome: "delivered" | "failed" | "refused" = "failed";
    const key = openBound(secretKey, webhookSecretOwner(webhook.id), webhook.secret);
    try {
      if (!key) throw new Error("the webhook's secret does not open under this service's key");
      const outgoing = await composeMessage({ db, signer }, webhook, message, key, startedAt);
      if (!outgoing) throw new Error("what this message tells of no longer exists");
      status = await postMessage(new URL(webhook.url), outgoing.headers, outgoing.body, {
        allow,
        resolve,
        timeoutMs,
      });
      if (status >= 200 && status < 300) outcome = "delivered";
      else error = `the receiver answered ${status}`;
    } catch (caught) {
      error = describe(caught);
      if (caught instanceof OutboundRefused) outcome = "refused";
    }
    webhookMetrics.attempted(outcome);
    await recordAttempt(
      db,
      { message, webhookId: webhook.id, worker: name, startedAt, status, error },
      delayOf(message.attempts + 1),
    );
    if (error !== null)
      logger.warn(
        { webhookId: webhook.id, messageId: message.message_id, status, error },
        "webhook message not delivered; it will be tried again",
      );
  }

  /** Claims one webhook and sends its due messages in order; answers the attempts made. */
  async function serveOne(): Promise<number> {
    const webhook = await claimWebhook(db, leaseS);
    if (!webhook) return -1;
    try {
      const messages = await dueMessages(db, webhook.id, batch);
      for (const message of messages) {
        if (stopped) break;
        await attempt(webhook, message);
      }
      return messages.length;
    } finally {
      await releaseWebhook(db, webhook);
    }
  }

  async function drainOnce(): Promise<number> {
    await sweepEndedSessions(db);
    let attempts = 0;
    while (!stopped) {
      const served = await Promise.all(Array.from({ length: lanes }, serveOne));
      if (served.every((count) => count < 0)) break;
      attempts += served.reduce((sum, count) => sum + Math.max(0, count), 0);
    }
    webhookMetrics.waiting(await countWaiting(db));
    return attempts;
  }

  const drain = (): Promise<number> => {
    running ??= drainOnce().finally(() => {
      running = null;
    });
    return running;
  };

  const poll = () => {
    if (stopped) return;
    drain()
      .then(() => {
        outageLogged = false;
      })
      .catch((error: unknown) => {
        if (!outageLogged)
          logger.warn({ err: serializeError(error) }, "webhook outbox unreachable");
        outageLogged = true;
      })
      .finally(() => {
        if (!stopped) timer = setTimeout(poll, pollMs);
      });
  };
  timer = setTimeout(poll, 0);

  return {
    name,
    drain,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running?.catch(() => undefined);
    },
  };
}

/** An attempt's failure as webhook_attempts keeps it: the error's code and message. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" ? `${code}: ${error.message}` : error.message;
}
