// A real SMTP server on loopback for the mail tests (smtp-server, the server half of nodemailer's
// project): it records each message it takes, parsed (mailparser), with the envelope and whether
// the connection was encrypted, and can be told to refuse recipients for a while.
import { type AddressInfo } from "node:net";
import { type ParsedMail, simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";

export interface ReceivedMail {
  mailFrom: string | null;
  rcptTo: string[];
  /** Whether the message arrived over TLS (smtps, or after STARTTLS). */
  secure: boolean;
  raw: string;
  parsed: ParsedMail;
}

export interface SmtpReceiver {
  port: number;
  url: string;
  received: ReceivedMail[];
  /** A reply code to refuse every recipient with (451: try later), or null to accept them. */
  refuseWith(code: number | null): void;
  close(): Promise<void>;
}

export interface SmtpReceiverOptions {
  /** The port to listen on (0: any free one). */
  port?: number;
  /** TLS from the first byte (smtps), with smtp-server's own self-signed certificate. */
  secure?: boolean;
  /** Offer STARTTLS on a plain connection (with the same certificate). */
  starttls?: boolean;
}

export async function startSmtpReceiver(options: SmtpReceiverOptions = {}): Promise<SmtpReceiver> {
  const received: ReceivedMail[] = [];
  let refusal: number | null = null;
  const server = new SMTPServer({
    secure: options.secure ?? false,
    authOptional: true,
    disabledCommands: options.starttls ? ["AUTH"] : ["AUTH", "STARTTLS"],
    logger: false,
    onRcptTo(_address, _session, callback) {
      if (refusal === null) return callback();
      callback(Object.assign(new Error("Try again later"), { responseCode: refusal }));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        simpleParser(raw)
          .then((parsed) => {
            const from = session.envelope.mailFrom;
            received.push({
              mailFrom: from ? from.address : null,
              rcptTo: session.envelope.rcptTo.map((rcpt) => rcpt.address),
              secure: session.secure,
              raw,
              parsed,
            });
            callback();
          })
          .catch((error: Error) => callback(error));
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    url: `${options.secure ? "smtps" : "smtp"}://127.0.0.1:${port}`,
    received,
    refuseWith(code) {
      refusal = code;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
