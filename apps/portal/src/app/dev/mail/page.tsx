// Development only (`pnpm dev`): the mail outbox, newest first, so that the mails the portal
// would send (member notices) can be read without a mail server. A production server answers
// 404 here: the outbox holds other people's mail.
import { notFound } from "next/navigation";
import { service } from "~/server/service";

export const dynamic = "force-dynamic";

export default async function DevMailPage() {
  const { pageScope, recentOutboxMail } = await service();
  const { deps } = pageScope();
  if (deps.config.production) notFound();
  const mails = await recentOutboxMail(deps.db);
  const state = (mail: (typeof mails)[number]) =>
    mail.sentAt
      ? `sent ${mail.sentAt.toISOString()}`
      : mail.givenUpAt
        ? `given up ${mail.givenUpAt.toISOString()}`
        : deps.config.smtpUrl
          ? `waiting (${mail.attempts} attempts${mail.lastError ? `; last error: ${mail.lastError}` : ""})`
          : "kept here (SMTP_URL is not set)";

  return (
    <div className="stack">
      <h1>Mail outbox (development)</h1>
      <p className="hint">
        {deps.config.smtpUrl
          ? "SMTP_URL is set: these mails are sent to it."
          : "SMTP_URL is not set: mails stay in the outbox and are shown here only."}
      </p>
      {mails.length === 0 ? <p>No mail yet.</p> : null}
      {mails.map((mail) => (
        <section key={mail.id} className="card" aria-labelledby={`mail-${mail.id}`}>
          <h2 id={`mail-${mail.id}`}>{mail.subject}</h2>
          <dl className="facts">
            <dt>To</dt>
            <dd className="break">{mail.toAddress}</dd>
            <dt>Written</dt>
            <dd>{mail.createdAt.toISOString()}</dd>
            <dt>State</dt>
            <dd>{state(mail)}</dd>
          </dl>
          <pre className="mail-body">{mail.textBody}</pre>
        </section>
      ))}
    </div>
  );
}
