// Mail of the service: the outbox worker each process runs, and the SMTP sender it uses.
export {
  createSmtpSender,
  DEFAULT_SMTP_TIMEOUTS,
  type MailSender,
  type OutgoingMail,
  type SmtpTimeouts,
} from "./smtp-sender";
export { startMailWorker, type MailWorker, type MailWorkerOptions } from "./worker";
export { recentOutboxMail, type OutboxMail } from "./outbox";
