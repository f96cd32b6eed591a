// Registering, listing and removing the webhooks of a location, and listing their delivery
// attempts (CONTRACT §9). A registration and a removal are audited in the statement that makes
// them. The HMAC key is shown once, in the registration's answer, and kept sealed under the
// service's key (the one that seals one-time-code secrets), bound to the webhook's id.
import { randomBytes } from "node:crypto";
import { queryRows, webhooks } from "@cowork/db";
import { type RegisterWebhookInput } from "@cowork/validators";
import { asc, eq, sql } from "drizzle-orm";
import { DomainError } from "../../errors";
import { urlRefusal } from "../../outbound";
import { beforeDeadline } from "../deadline";
import { type RequestMeta, type ServiceDeps } from "../deps";
import { otpKey } from "../otp";
import { sealBound } from "../otp-secret";

/** What a webhook's sealed key is bound to. */
export const webhookSecretOwner = (webhookId: number) => `webhook-secret:${webhookId}`;

/** The HMAC key's length: Standard Webhooks asks for 24 to 64 bytes. */
const KEY_BYTES = 32;

interface Caller {
  userId: number;
  locationId: number;
}

const notFound = () => new DomainError("not_found", "No such webhook in this location.");

export async function registerWebhook(
  deps: ServiceDeps,
  caller: Caller,
  input: RegisterWebhookInput,
  meta: RequestMeta,
) {
  const refusal = urlRefusal(input.url, deps.config.outboundAllowHosts);
  if (refusal) throw new DomainError("invalid_request", refusal);
  const key = randomBytes(KEY_BYTES);
  // The id first, so the sealed key can be bound to it in the insert itself.
  const [next] = await queryRows<{ id: number }>(
    deps.db,
    sql`select nextval('webhooks_id_seq')::int as id`,
  );
  const id = Number(next!.id);
  const sealed = sealBound(otpKey(deps), webhookSecretOwner(id), key);
  const rows = await queryRows<{ id: number }>(
    deps.db,
    sql`with w as (
          insert into webhooks (id, location_id, url, events, format, secret)
          select ${id}, ${caller.locationId}, ${input.url},
            array(select jsonb_array_elements_text(${JSON.stringify(input.events)}::jsonb)),
            ${input.format}, ${sealed}
          where ${beforeDeadline(meta)}
          returning id, location_id, format, url
        )
        insert into audit_events (type, outcome, actor_user_id, location_id, ip, detail)
        select 'webhook.registered', 'success', ${caller.userId}, w.location_id, ${meta.ip},
          'webhook ' || w.id || ' (' || w.format || '): ' || w.url
        from w
        returning id`,
  );
  if (rows.length === 0) throw new DomainError("unavailable", "Not registered: try again.");
  return {
    id,
    url: input.url,
    events: [...input.events],
    format: input.format,
    secret: `whsec_${key.toString("base64")}`,
  };
}

export async function listWebhooks(deps: ServiceDeps, locationId: number) {
  const rows = await deps.db
    .select({
      id: webhooks.id,
      url: webhooks.url,
      events: webhooks.events,
      format: webhooks.format,
    })
    .from(webhooks)
    .where(eq(webhooks.locationId, locationId))
    .orderBy(asc(webhooks.id));
  return { items: rows };
}

/** Removes a webhook of the location, and what was still to be delivered to it. */
export async function removeWebhook(
  deps: ServiceDeps,
  caller: Caller,
  id: number,
  meta: RequestMeta,
): Promise<void> {
  const rows = await queryRows<{ id: number }>(
    deps.db,
    sql`with w as (
          delete from webhooks
          where id = ${id} and location_id = ${caller.locationId} and ${beforeDeadline(meta)}
          returning id, location_id, format, url
        )
        insert into audit_events (type, outcome, actor_user_id, location_id, ip, detail)
        select 'webhook.removed', 'success', ${caller.userId}, w.location_id, ${meta.ip},
          'webhook ' || w.id || ' (' || w.format || '): ' || w.url
        from w
        returning id`,
  );
  if (rows.length === 0) throw notFound();
}

/** A row of listDeliveries' statement (checked against the schema in row-types.test.ts). */
export interface DeliveryRow {
  at: Date;
  event_id: number | null;
  seq: number | null;
  status: number | null;
  error: string | null;
}

/** The most attempts listed: the newest. */
export const DELIVERIES_LISTED = 500;

/** Every attempt to deliver to a webhook of the location, newest first. */
export async function listDeliveries(deps: ServiceDeps, locationId: number, id: number) {
  const [hook] = await deps.db
    .select({ locationId: webhooks.locationId })
    .from(webhooks)
    .where(eq(webhooks.id, id));
  if (!hook || hook.locationId !== locationId) throw notFound();
  const rows = await queryRows<DeliveryRow>(
    deps.db,
    sql`select a.at, o.event_id, e.seq, a.status, a.error
        from webhook_attempts a
        join webhook_outbox o on o.id = a.outbox_id
        left join audit_events e on e.id = o.event_id
        where a.webhook_id = ${id}
        order by a.id desc
        limit ${DELIVERIES_LISTED}`,
  );
  return {
    items: rows.map((row) => ({
      at: new Date(row.at).toISOString(),
      eventId: row.event_id === null ? null : Number(row.event_id),
      seq: row.seq === null ? null : Number(row.seq),
      status: row.status,
      error: row.error,
    })),
  };
}
