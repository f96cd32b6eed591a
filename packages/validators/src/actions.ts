// Actions while impersonating (CONTRACT §9): what an impersonated session called, as the admin's
// per-session list, the audit page and the member's access history show it.
import { z } from "zod";
import { AUDIT_PAGE_MAX } from "./inputs";
import { idSchema } from "./ids";

/** One procedure call of an impersonated session, refused ones included. */
export const impersonationActionSchema = z.object({
  at: z.iso.datetime().meta({ description: "When the call arrived." }),
  procedure: z
    .string()
    .meta({ description: "The procedure called (its tRPC path; REST routes call the same ones)." }),
  kind: z.enum(["query", "mutation"]),
  outcome: z.enum(["success", "refused", "error"]).meta({
    description:
      "refused: the service said no (authorization, read-only, input, a rule); error: it failed on its side.",
  }),
});

/**
 * GET /api/sys/impersonations/{sessionId}/actions. The id is any text up to the longest path
 * segment the server routes: one that names no impersonated session of the location (a malformed
 * one included) is a 404, as the contract says, never a 400 the contract does not name.
 */
export const sessionActionsInput = z.strictObject({
  sessionId: z
    .string()
    .min(1)
    .max(16 * 1024),
});

/** The audit page: the actions of the sessions behind a page of events. */
export const eventActionsInput = z.strictObject({
  eventIds: z.array(idSchema).max(AUDIT_PAGE_MAX),
});

export const sessionActionsOutput = z.object({
  items: z.array(impersonationActionSchema).meta({ description: "Oldest first." }),
});

export const eventActionsOutput = z.object({
  items: z.array(
    z.object({
      eventId: z.number().int().positive(),
      actions: z.array(impersonationActionSchema),
    }),
  ),
});

/** The access history shows at most this many actions of one session (the first ones). */
export const HISTORY_ACTIONS_MAX = 200;

export type ImpersonationAction = z.infer<typeof impersonationActionSchema>;
export type SessionActionsOutput = z.infer<typeof sessionActionsOutput>;
