// Webhooks (CONTRACT §9): registration, the list, and the delivery attempts.
import { z } from "zod";
import { auditTypeSchema } from "./audit-types";
import { idSchema } from "./ids";
import { timestampSchema } from "./responses";

export const webhookFormatSchema = z.enum(["standard-webhooks", "caep"]);
export type WebhookFormat = z.infer<typeof webhookFormatSchema>;

/** Audit types, each once, or every type (`["*"]`). */
export const webhookEventsSchema = z.union([
  z.tuple([z.literal("*")]),
  z
    .array(auditTypeSchema)
    .min(1)
    .max(auditTypeSchema.options.length)
    .refine((types) => new Set(types).size === types.length, "Each event type once."),
]);

/**
 * The URL's form only: whether its scheme and host may be called is the service's decision
 * (it knows OUTBOUND_ALLOW_HOSTS). No credentials in it: they would be listed to every admin.
 */
export const webhookUrlSchema = z
  .string()
  .max(2000)
  .refine((text) => {
    try {
      const url = new URL(text);
      return url.username === "" && url.password === "" && url.hash === "";
    } catch {
      return false;
    }
  }, "An absolute URL without user name, password or fragment.");

export const registerWebhookInput = z
  .strictObject({
    url: webhookUrlSchema,
    events: webhookEventsSchema,
    format: webhookFormatSchema,
  })
  .refine((input) => input.format !== "caep" || input.events[0] === "*", {
    message: 'A caep webhook takes every event: events must be ["*"].',
    path: ["events"],
  });
export type RegisterWebhookInput = z.infer<typeof registerWebhookInput>;

export const webhookIdInput = z.strictObject({ id: idSchema });

export const webhookOutput = z.object({
  id: idSchema,
  url: z.string(),
  events: z.array(z.string()),
  format: webhookFormatSchema,
});

export const webhookListOutput = z.object({ items: z.array(webhookOutput) });

/** The registration's answer: the only time the secret is shown. */
export const registeredWebhookOutput = webhookOutput.extend({
  secret: z.string().regex(/^whsec_[A-Za-z0-9+/]+=*$/),
});

export const webhookDeliveriesOutput = z.object({
  items: z.array(
    z.object({
      at: timestampSchema,
      /** The audit event delivered; null for a caep message (a session's end). */
      eventId: z.number().int().positive().nullable(),
      seq: z.number().int().positive().nullable(),
      /** The receiver's HTTP status, or null when there was no answer. */
      status: z.number().int().nullable(),
      error: z.string().nullable(),
    }),
  ),
});
