// Inputs of the procedures, shared by forms, tRPC and the REST adapters.
import { z } from "zod";
import { idSchema } from "./ids";
import { reasonCategorySchema, ticketSchema } from "./justification";
import { auditTypeSchema } from "./audit-types";

export const REASON_MAX = 500;

const isControl = (code: number) => code < 0x20 || code === 0x7f;
const isLineControl = (code: number) => code === 0x09 || code === 0x0a || code === 0x0d;

/**
 * Text without C0 control characters or DEL. No email, path or search has one, NUL cannot even be
 * stored (PostgreSQL text refuses it, which would surface as a 500), and both doors share these
 * schemas, so both refuse the same input with the same 400.
 */
export const withoutControls = (value: string) => {
  for (let index = 0; index < value.length; index++) {
    if (isControl(value.charCodeAt(index))) return false;
  }
  return true;
};

/** Free text written by a person: tab and line breaks are text there; every other C0 control is not. */
export const withoutControlsButLines = (value: string) => {
  for (let index = 0; index < value.length; index++) {
    const code = value.charCodeAt(index);
    if (isControl(code) && !isLineControl(code)) return false;
  }
  return true;
};

const CONTROLS_MESSAGE = "must not contain control characters";

export const reasonSchema = z
  .string()
  .max(REASON_MAX, `must be at most ${REASON_MAX} characters`)
  .refine(withoutControlsButLines, CONTROLS_MESSAGE)
  .transform((value) => (value.trim() === "" ? null : value));

/** A same-site path to come back to; anything that could leave the site is refused. */
export const returnPathSchema = z
  .string()
  .max(512)
  .regex(/^\/(?![/\\])[^\s]*$/, "must be a path on this site")
  .refine(withoutControls, CONTROLS_MESSAGE);

export const signInInput = z.strictObject({
  email: z.string().trim().min(1).max(320).refine(withoutControls, CONTROLS_MESSAGE),
  password: z.string().min(1).max(1024),
  locationId: idSchema.optional(),
});

export const impersonateInput = z.strictObject({
  coworkerId: idSchema,
  reason: reasonSchema.optional(),
  readOnly: z.boolean().optional(),
  returnPath: returnPathSchema.optional(),
  reasonCategory: reasonCategorySchema.optional(),
  ticket: ticketSchema.optional(),
});

export const exchangeInput = z.strictObject({
  // No length cap here: the body is capped at 64 KiB, and an oversized token is refused by the
  // verifier (401 invalid_token) before any other work.
  token: z.string().min(1),
});

export const setCurrentProfileInput = z.strictObject({ coworkerId: idSchema });

export const AUDIT_PAGE_MAX = 200;

/** An instant in ISO 8601 with its offset (`Z` or `±hh:mm`), e.g. 2026-12-07T00:00:00Z. */
const instantSchema = z.iso.datetime({ offset: true });

export const auditOutcomeSchema = z.enum(["success", "refused"]);

/** A part of a name to look for: what a person types in a search box, trimmed. */
const personSearchSchema = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(100)
  .refine(withoutControls, CONTROLS_MESSAGE);

/**
 * The audit log's filters, one schema for the list and the export (CONTRACT §9, §11): by actor or
 * target id, by person (a part of the actor's or the target's full name, any case), type, outcome,
 * and a time range (`from` inclusive, `to` exclusive). Every filter given must hold.
 */
const auditFilterShape = {
  actorUserId: idSchema.optional(),
  targetCoworkerId: idSchema.optional(),
  person: personSearchSchema.optional(),
  type: auditTypeSchema.optional(),
  outcome: auditOutcomeSchema.optional(),
  from: instantSchema.optional(),
  to: instantSchema.optional(),
};

/** An empty range is a mistake in the request, not a question with an empty answer. */
const rangeInOrder = (filter: { from?: string; to?: string }) =>
  filter.from === undefined ||
  filter.to === undefined ||
  Date.parse(filter.from) < Date.parse(filter.to);
const RANGE_ORDER = { message: "from must be before to", path: ["to"] };

export const auditFilterInput = z.strictObject(auditFilterShape).refine(rangeInOrder, RANGE_ORDER);

export const auditListInput = z
  .strictObject({
    limit: z.number().int().min(1).max(AUDIT_PAGE_MAX).default(50),
    cursor: idSchema.optional(),
    ...auditFilterShape,
  })
  .refine(rangeInOrder, RANGE_ORDER);

export const searchCoworkersInput = z.strictObject({
  query: z.string().max(100).refine(withoutControls, CONTROLS_MESSAGE).default(""),
  limit: z.number().int().min(1).max(50).default(20),
  cursor: idSchema.optional(),
});

/** A one-time code as typed: anything else than six digits is a wrong code, not a bad request. */
const otpCodeSchema = z.string().trim().min(1).max(16).refine(withoutControls, CONTROLS_MESSAGE);

/** POST /api/sys/users/reauthenticate: the password again, and the code where an app is enrolled. */
export const reauthenticateInput = z.strictObject({
  password: z.string().min(1).max(1024),
  otp: otpCodeSchema.optional(),
});

/** POST /api/sys/users/otp/confirm: a code of the app being enrolled. */
export const confirmOtpInput = z.strictObject({ code: otpCodeSchema });

export type ReauthenticateInput = z.infer<typeof reauthenticateInput>;

/** audit.listCheckpoints, GET /api/sys/audit/checkpoints: the cursor is a checkpoint's size. */
export const auditCheckpointsInput = z.strictObject({
  limit: z.number().int().min(1).max(AUDIT_PAGE_MAX).default(50),
  cursor: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
});

const treeSizeSchema = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

/** audit.proof, GET /api/sys/audit/proof: event `seq` in the tree of `size` events. */
export const auditProofInput = z
  .strictObject({ seq: treeSizeSchema, size: treeSizeSchema })
  .refine((input) => input.seq <= input.size, {
    message: "seq must not be larger than size",
    path: ["seq"],
  });

export const AUDIT_EXPORT_PAGE_MAX = 1000;

/**
 * audit.exportPage, behind GET /api/sys/audit/export: the list's filters plus type and a time
 * range (`from` inclusive, `to` exclusive), oldest first, one page after `after` (an event id).
 */
export const auditExportInput = z
  .strictObject({
    limit: z.number().int().min(1).max(AUDIT_EXPORT_PAGE_MAX).default(500),
    after: idSchema.optional(),
    ...auditFilterShape,
  })
  .refine(rangeInOrder, RANGE_ORDER);

export type SignInInput = z.infer<typeof signInInput>;
export type ImpersonateInput = z.infer<typeof impersonateInput>;
export type AuditListInput = z.infer<typeof auditListInput>;
export type AuditFilterInput = z.infer<typeof auditFilterInput>;
export type AuditCheckpointsInput = z.infer<typeof auditCheckpointsInput>;
export type AuditProofInput = z.infer<typeof auditProofInput>;
export type AuditExportInput = z.infer<typeof auditExportInput>;
export type SearchCoworkersInput = z.infer<typeof searchCoworkersInput>;

/** notices.markNoticeRead: the notice, by id. */
export const markNoticeReadInput = z.strictObject({ id: idSchema });
