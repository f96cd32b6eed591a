// Inputs of the procedures, shared by forms, tRPC and the REST adapters.
import { z } from "zod";
import { idSchema } from "./ids";

export const REASON_MAX = 500;

export const reasonSchema = z
  .string()
  .max(REASON_MAX, `must be at most ${REASON_MAX} characters`)
  .transform((value) => (value.trim() === "" ? null : value));

/** A same-site path to come back to; anything that could leave the site is refused. */
export const returnPathSchema = z
  .string()
  .max(512)
  .regex(/^\/(?![/\\])[^\s]*$/, "must be a path on this site");

export const signInInput = z.strictObject({
  email: z.string().trim().min(1).max(320),
  password: z.string().min(1).max(1024),
  locationId: idSchema.optional(),
});

export const impersonateInput = z.strictObject({
  coworkerId: idSchema,
  reason: reasonSchema.optional(),
  readOnly: z.boolean().optional(),
  returnPath: returnPathSchema.optional(),
});

export const exchangeInput = z.strictObject({
  // No length cap here: the body is capped at 64 KiB, and an oversized token is refused by the
  // verifier (401 invalid_token) before any other work.
  token: z.string().min(1),
});

export const setCurrentProfileInput = z.strictObject({ coworkerId: idSchema });

export const AUDIT_PAGE_MAX = 200;

export const auditListInput = z.strictObject({
  limit: z.number().int().min(1).max(AUDIT_PAGE_MAX).default(50),
  cursor: idSchema.optional(),
  actorUserId: idSchema.optional(),
  targetCoworkerId: idSchema.optional(),
});

export const searchCoworkersInput = z.strictObject({
  query: z.string().max(100).default(""),
  limit: z.number().int().min(1).max(50).default(20),
  cursor: idSchema.optional(),
});

export type SignInInput = z.infer<typeof signInInput>;
export type ImpersonateInput = z.infer<typeof impersonateInput>;
export type AuditListInput = z.infer<typeof auditListInput>;
export type SearchCoworkersInput = z.infer<typeof searchCoworkersInput>;
