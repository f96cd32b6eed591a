// What a delivery sends. standard-webhooks: `{ type, timestamp, data }`, data the audit item
// exactly as GET /api/sys/audit lists it (seq and leafHash included: only sealed events are
// delivered), signed with the webhook's key as the Standard Webhooks specification says (the
// `standardwebhooks` library computes the signature). caep: a Security Event Token (RFC 8417)
// with a CAEP session-revoked event, signed with the service's keys (@cowork/auth).
import { signSessionRevoked, type TokenSigner } from "@cowork/auth";
import { auditEvents, type Database } from "@cowork/db";
import { eq } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import { selectAuditItems, toAuditItem } from "../audit-items";
import { type ClaimedWebhook, type DueMessage, sessionEnd } from "./outbox";

export interface OutgoingMessage {
  headers: Record<string, string>;
  body: string;
}

/** The webhook-id of a message: the same on every attempt. */
export const webhookIdOf = (message: Pick<DueMessage, "message_id">) =>
  `msg_${message.message_id.replaceAll("-", "")}`;

/** The message to send now, or null when what it tells of is gone. */
export async function composeMessage(
  deps: { db: Database; signer: TokenSigner },
  webhook: ClaimedWebhook,
  message: DueMessage,
  key: Uint8Array,
  now: Date,
): Promise<OutgoingMessage | null> {
  if (message.event_id !== null) {
    const [row] = await selectAuditItems(deps.db).where(eq(auditEvents.id, message.event_id));
    if (!row) return null;
    const item = toAuditItem(row);
    const body = JSON.stringify({ type: item.type, timestamp: item.at, data: item });
    const id = webhookIdOf(message);
    return {
      body,
      headers: {
        "content-type": "application/json",
        "webhook-id": id,
        "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
        "webhook-signature": new Webhook(key, { format: "raw" }).sign(id, now, body),
      },
    };
  }
  const end = message.session_id ? await sessionEnd(deps.db, message.session_id) : null;
  if (!end) return null;
  const set = signSessionRevoked(deps.signer, {
    jti: message.message_id,
    iat: Math.floor(message.created_at.getTime() / 1000),
    audience: webhook.url,
    event: {
      sessionId: end.id,
      eventTimestamp: Math.floor(end.ended_at.getTime() / 1000),
      reasonAdmin: end.reason,
    },
  });
  return {
    body: set,
    headers: { "content-type": "application/secevent+jwt", accept: "application/json" },
  };
}
