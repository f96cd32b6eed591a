// The process's mail delivery: with SMTP_URL set, the outbox worker (@cowork/api mail/worker.ts)
// sends member notices to it; without, mails stay in the outbox, which `pnpm dev` shows at
// /dev/mail, and a production server says once, at start, that nothing will be sent.
import {
  createSmtpSender,
  logger,
  type MailWorker,
  type ServiceDeps,
  startMailWorker,
} from "@cowork/api";

export function startMailDelivery(deps: ServiceDeps): MailWorker | null {
  const { smtpUrl, mailFrom, production } = deps.config;
  if (!smtpUrl) {
    if (production)
      logger.warn(
        "SMTP_URL is not set: member notices are written, but their mails stay in the outbox and are not sent.",
      );
    else logger.info("SMTP_URL is not set: mails stay in the outbox; read them at /dev/mail.");
    return null;
  }
  return startMailWorker({
    db: deps.db,
    send: createSmtpSender(smtpUrl, mailFrom),
    logger: logger.child({ component: "mail" }),
  });
}
