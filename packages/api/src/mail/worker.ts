// The mail worker of one process: every few seconds it claims the due mails of the outbox and
// sends them, recording each attempt. Any number of processes run one against the same database;
// a claim is one statement with FOR UPDATE SKIP LOCKED and holds its rows for a lease, so in the
// normal case no mail is sent twice, and a mail whose worker died mid-send is taken up again
// once the lease runs out (at least once). Its parts come in from the server (injected), and
// `stop` ends it: no claim after that, and the attempts under way finish first.
import { randomUUID } from "node:crypto";
import { type Database } from "@cowork/db";
import { type Logger, serializeError } from "../observability/logger";
import { retryDelayS } from "./backoff";
import { mailMetrics } from "./metrics";
import { claimDueMail, type ClaimedMail, recordFailed, recordSent } from "./outbox";
import { DEFAULT_SMTP_TIMEOUTS, type MailSender } from "./smtp-sender";

export interface MailWorkerOptions {
  db: Database;
  send: MailSender;
  logger: Pick<Logger, "info" | "warn" | "error">;
  /** This worker's name in mail_attempts (default: a new id). */
  name?: string;
  /** How often the outbox is looked at (default 2 s). */
  pollMs?: number;
  /**
   * How long a claim holds its mails (default 5 min). Longer than an attempt can last (the
   * sender's timeouts), else another worker could take a mail that is still being sent.
   */
  leaseS?: number;
  /** Mails claimed, and sent side by side, at a time (default 10). */
  batch?: number;
  /** The wait after failed attempt number n (default: backoff.ts). */
  retryDelayS?: (attempts: number) => number;
}

export interface MailWorker {
  readonly name: string;
  /** Claims and sends what is due now, until nothing is; answers how many attempts it made. */
  drain(): Promise<number>;
  /** Stops polling; resolves when the attempts under way are recorded. */
  stop(): Promise<void>;
}

export function startMailWorker(options: MailWorkerOptions): MailWorker {
  const {
    db,
    send,
    logger,
    name = `mail-${randomUUID()}`,
    pollMs = 2000,
    leaseS = Math.ceil((DEFAULT_SMTP_TIMEOUTS.totalMs * 5) / 1000),
    batch = 10,
    retryDelayS: delayOf = retryDelayS,
  } = options;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | null = null;
  let outageLogged = false;

  async function attempt(mail: ClaimedMail): Promise<void> {
    const started = { mail, worker: name, startedAt: new Date() };
    let response: string;
    try {
      response = await send({
        to: mail.to_address,
        subject: mail.subject,
        text: mail.text_body,
        html: mail.html_body,
      });
    } catch (error) {
      const why = describe(error);
      const delay = delayOf(mail.attempts);
      logger.warn(
        {
          mailId: mail.id,
          attempts: mail.attempts,
          retryInS: Math.round(delay),
          err: serializeError(error),
        },
        "mail not sent; it will be tried again",
      );
      mailMetrics.attempted("failed");
      await recordFailed(db, started, why, delay);
      return;
    }
    mailMetrics.attempted("sent");
    await recordSent(db, started, response);
  }

  async function drainOnce(): Promise<number> {
    let attempts = 0;
    while (!stopped) {
      const claimed = await claimDueMail(db, { limit: batch, leaseS });
      if (claimed.length === 0) break;
      // An attempt that could not be recorded (the database went away) keeps its claim; the row is
      // due again when the lease runs out.
      const results = await Promise.allSettled(claimed.map(attempt));
      for (const result of results)
        if (result.status === "rejected")
          logger.warn({ err: serializeError(result.reason) }, "mail attempt not recorded");
      attempts += claimed.length;
    }
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
        // The database is away: said once per outage, tried again at the next poll.
        if (!outageLogged) logger.warn({ err: serializeError(error) }, "mail outbox unreachable");
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

/** An attempt's failure as mail_attempts keeps it: the error's code and message. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" ? `${code}: ${error.message}` : error.message;
}
