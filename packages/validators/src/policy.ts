// Location policy, member consent and live oversight (CONTRACT §8): inputs and answers.
import { z } from "zod";
import { idSchema } from "./ids";
import { reasonCategorySchema } from "./justification";
import { impersonationKindSchema, impersonationModeSchema, timestampSchema } from "./responses";

/** The policy's fields as the API spells them, with the contract's defaults. */
export const policyFieldsSchema = z.object({
  impersonation: z.enum(["on", "off"]).meta({
    description: "off: no issue, no exchange, and every live impersonated session here ends.",
  }),
  staffConsent: z.enum(["not_required", "required"]).meta({
    description: "required: staff may impersonate only a coworker with an open grant to staff.",
  }),
  teamConsent: z.enum(["not_required", "required"]).meta({
    description: "required: team admins may impersonate only a member with an open grant to team.",
  }),
  justification: z.enum(["optional", "required"]).meta({
    description: "required: an issue without reason or reasonCategory is refused.",
  }),
  notifyMember: z
    .boolean()
    .meta({ description: "Members are told each time their account is entered." }),
  maxSessionMinutes: z
    .number()
    .int()
    .min(5)
    .max(60)
    .meta({ description: "Cap on impersonated sessions issued from now on." }),
  allowFullMode: z
    .boolean()
    .meta({ description: "false: only read-only impersonation is issued." }),
});

export type PolicyFields = z.infer<typeof policyFieldsSchema>;

export const POLICY_FIELDS = Object.keys(policyFieldsSchema.shape) as (keyof PolicyFields)[];

/** policy.getPolicy, policy.updatePolicy, GET and PUT /api/sys/policy. */
export const policyOutput = policyFieldsSchema.extend({ locationId: idSchema });

/** PUT /api/sys/policy: any subset of the fields; `locationId` may only name the active location. */
export const updatePolicyInput = policyFieldsSchema
  .partial()
  .extend({ locationId: idSchema.optional() })
  .strict();

export type PolicyOutput = z.infer<typeof policyOutput>;
export type UpdatePolicyInput = z.infer<typeof updatePolicyInput>;

/** POST /api/public/coworkers/support-access. */
export const grantSupportAccessInput = z.strictObject({
  grantedTo: impersonationKindSchema,
  hours: z.number().int().min(1).max(168),
  mode: impersonationModeSchema,
});

export const supportAccessGrantIdInput = z.strictObject({ grantId: idSchema });

/** A session's id (the `sid` of its access tokens). */
export const sessionIdInput = z.strictObject({ sessionId: z.uuid() });

export const supportAccessGrantOutput = z.object({
  id: idSchema,
  grantedTo: impersonationKindSchema,
  mode: impersonationModeSchema,
  createdAt: timestampSchema,
  expiresAt: timestampSchema,
  revokedAt: timestampSchema.nullable(),
});

/** GET /api/public/coworkers/support-access. */
export const supportAccessOutput = z.object({
  grants: z.array(supportAccessGrantOutput).meta({
    description: "Open grants, and those ended in the last 30 days, newest first.",
  }),
  live: z.array(
    z.object({
      sessionId: z.uuid(),
      actor: z.object({ fullName: z.string() }),
      kind: impersonationKindSchema,
      mode: impersonationModeSchema,
      reason: z.string().nullable(),
      startedAt: timestampSchema,
      expiresAt: timestampSchema,
    }),
  ),
});

/** GET /api/sys/impersonations. */
export const liveImpersonationsOutput = z.object({
  items: z.array(
    z.object({
      sessionId: z.uuid(),
      actor: z.object({ userId: idSchema, fullName: z.string() }),
      target: z.object({ coworkerId: idSchema, fullName: z.string() }),
      kind: impersonationKindSchema,
      mode: impersonationModeSchema,
      reason: z.string().nullable(),
      reasonCategory: reasonCategorySchema.nullable(),
      ticket: z.string().nullable(),
      startedAt: timestampSchema,
      expiresAt: timestampSchema,
    }),
  ),
});

export type SupportAccessOutput = z.infer<typeof supportAccessOutput>;
export type LiveImpersonationsOutput = z.infer<typeof liveImpersonationsOutput>;
