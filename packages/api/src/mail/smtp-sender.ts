// Sends one mail to the configured server with nodemailer. `smtp://` is plain SMTP that upgrades
// with STARTTLS when the server offers it (and then verifies its certificate); `smtps://` is TLS
// from the first byte. Every phase has a timeout, so a server that hangs fails the attempt
// instead of holding the worker.
import { createTransport } from "nodemailer";

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/** Sends a mail and answers the server's final reply, or rejects with why not. */
export type MailSender = (mail: OutgoingMail) => Promise<string>;

export interface SmtpTimeouts {
  /** Connecting, DNS included. */
  connectMs: number;
  /** The server's greeting (and a STARTTLS upgrade). */
  greetingMs: number;
  /** Silence on the connection at any later step. */
  idleMs: number;
  /** The whole attempt, however the server drips its answers. */
  totalMs: number;
}

export const DEFAULT_SMTP_TIMEOUTS: SmtpTimeouts = {
  connectMs: 10_000,
  greetingMs: 10_000,
  idleMs: 20_000,
  totalMs: 60_000,
};

export function createSmtpSender(
  url: string,
  from: string,
  timeouts: SmtpTimeouts = DEFAULT_SMTP_TIMEOUTS,
): MailSender {
  // One connection per mail (not a pool): mail is rare here, and a connection that broke in an
  // outage is never reused.
  const transport = createTransport(
    {
      url,
      connectionTimeout: timeouts.connectMs,
      greetingTimeout: timeouts.greetingMs,
      socketTimeout: timeouts.idleMs,
      dnsTimeout: timeouts.connectMs,
      disableFileAccess: true,
      disableUrlAccess: true,
    },
    { from },
  );
  return async (mail) => {
    let timer: NodeJS.Timeout | undefined;
    const overdue = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${timeouts.totalMs} ms`)),
        timeouts.totalMs,
      );
    });
    try {
      const info = await Promise.race([transport.sendMail(mail), overdue]);
      return info.response;
    } finally {
      clearTimeout(timer);
    }
  };
}
