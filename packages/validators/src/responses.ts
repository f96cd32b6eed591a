// Outputs of the procedures and bodies of the REST answers (CONTRACT §5): the procedures validate
// their results against these, and the OpenAPI document is generated from them.
import { z } from "zod";
import { idSchema } from "./ids";
import { staffRoleSchema } from "./fixture";
import { reasonCategorySchema } from "./justification";
import { HISTORY_ACTIONS_MAX, impersonationActionSchema } from "./actions";
import { auditTypeSchema } from "./audit-types";

export { auditTypeSchema };

/** An instant as the API writes it: ISO 8601 in UTC (`Date#toISOString`). */
export const timestampSchema = z.iso.datetime();

/** A SHA-256 hash, unpadded base64url. */
export const base64urlHashSchema = z.string().regex(/^[A-Za-z0-9_-]{43}$/);

export const impersonationKindSchema = z.enum(["staff", "team"]);

/** REST query parameter `mode` of the impersonation routes; `readonly` issues a read-only token. */
export const impersonationModeSchema = z.enum(["readonly", "full"]);

/** Every REST failure: a stable code for programs and a sentence for people. */
export const errorBodySchema = z.object({
  error: z
    .string()
    .meta({ description: "Machine-readable code, e.g. invalid_request, unauthorized, read_only." }),
  message: z.string().meta({ description: "What went wrong, in words for people." }),
});

// ---- tokens ---------------------------------------------------------------------------------

/** auth.signIn and impersonation.exchange: the token stays out of the body for browser callers. */
export const accessTokenOutput = z.object({
  accessToken: z.string().nullable(),
  expiresIn: z.number().int().nonnegative(),
  /** `DPoP` when the token is bound to the key of the request's DPoP proof (RFC 9449 §5). */
  tokenType: z.enum(["Bearer", "DPoP"]),
});

/** POST /api/token, POST /api/sys/users/exchange (RFC 6749 §5.1). */
export const tokenResponse = z.object({
  access_token: z.string(),
  token_type: z.enum(["Bearer", "DPoP"]).meta({
    description:
      "DPoP when a valid DPoP proof came with the request: the token is bound to its key.",
  }),
  expires_in: z
    .number()
    .int()
    .nonnegative()
    .meta({ description: "Seconds until the access token expires." }),
});

/** impersonation.impersonate and impersonation.impersonateTeamMember. */
export const impersonationTokenOutput = z.object({
  token: z.string(),
  expiresAt: timestampSchema,
});

/** GET /api/sys/users/impersonate, GET /api/public/coworkers/{coworkerId}/impersonate. */
export const impersonationTokenResponse = impersonationTokenOutput.pick({ token: true }).extend({
  token: z.string().meta({
    description:
      "Single-use impersonation token (JWT); exchange it within its lifetime (60 s by default).",
  }),
});

// ---- the session ----------------------------------------------------------------------------

/** auth.me, GET /api/sys/users/me. */
export const meOutput = z.object({
  userId: idSchema,
  email: z.string(),
  fullName: z.string(),
  location: z.object({ id: idSchema, name: z.string() }),
  profile: z
    .object({ coworkerId: idSchema, locationId: idSchema, fullName: z.string() })
    .nullable(),
  staffRole: staffRoleSchema.nullable(),
  impersonation: z
    .object({
      actor: z.object({ userId: idSchema, fullName: z.string() }),
      expiresAt: timestampSchema,
      reason: z.string().nullable(),
      kind: impersonationKindSchema,
      readOnly: z.boolean(),
      reasonCategory: reasonCategorySchema.nullable(),
      ticket: z.string().nullable(),
    })
    .nullable()
    .meta({ description: "Set when this session is an impersonation: who acts, until when, why." }),
  authTime: timestampSchema.meta({
    description: "When the session last proved its password (sign-in or reauthenticate).",
  }),
  amr: z.array(z.enum(["pwd", "otp"])).meta({
    description:
      'How (RFC 8176): ["pwd"], or ["pwd", "otp"] with a one-time code; empty for an impersonated session.',
  }),
});

/** One of the caller's coworker profiles. */
export const profileOutput = z.object({
  coworkerId: idSchema,
  locationId: idSchema,
  locationName: z.string(),
  fullName: z.string(),
  isCurrent: z.boolean(),
});

export const profileListOutput = z.array(profileOutput);

/** profiles.accessHistory, GET /api/public/coworkers/access-history. */
export const accessHistoryOutput = z.object({
  items: z.array(
    z.object({
      at: timestampSchema.meta({ description: "When the impersonated session started." }),
      actor: z.object({ fullName: z.string() }),
      kind: impersonationKindSchema.meta({
        description: "staff: an admin or operator; team: a team admin.",
      }),
      reason: z.string().nullable(),
      readOnly: z.boolean(),
      reasonCategory: reasonCategorySchema.nullable(),
      ticket: z.string().nullable(),
      endedAt: timestampSchema
        .nullable()
        .meta({ description: "When it ended; null while it is still live." }),
      actions: z.array(impersonationActionSchema).meta({
        description: `What the session called, oldest first (the first ${HISTORY_ACTIONS_MAX}).`,
      }),
      actionCount: z
        .number()
        .int()
        .nonnegative()
        .meta({ description: "How many calls the session made in all." }),
    }),
  ),
});

// ---- audit ----------------------------------------------------------------------------------

/** One event as the audit list returns it; its leaf in the location's Merkle log hashes this. */
export const auditItemOutput = z.object({
  id: z.number().int().positive(),
  at: timestampSchema,
  type: auditTypeSchema,
  actor: z.object({ userId: idSchema, fullName: z.string() }).nullable(),
  target: z.object({ coworkerId: idSchema, fullName: z.string() }).nullable(),
  locationId: idSchema.nullable(),
  kind: impersonationKindSchema.nullable(),
  reason: z.string().nullable(),
  ip: z.string().nullable(),
  outcome: z.enum(["success", "refused"]),
  detail: z.string().nullable().meta({ description: "For a refusal, the reason code." }),
  mode: impersonationModeSchema
    .nullable()
    .meta({ description: "For impersonation events, readonly or full." }),
  reasonCategory: reasonCategorySchema.nullable(),
  ticket: z.string().nullable(),
  seq: z
    .number()
    .int()
    .positive()
    .nullable()
    .meta({ description: "The event's place in its location's Merkle log; null until sealed." }),
  leafHash: base64urlHashSchema.nullable().meta({
    description:
      "SHA-256(0x00 ‖ RFC 8785 JSON of this item without seq and leafHash), unpadded base64url; null until sealed.",
  }),
});

/** audit.listEvents, GET /api/sys/audit. */
export const auditPageOutput = z.object({
  items: z.array(auditItemOutput),
  nextCursor: z.number().int().positive().nullable(),
});

/** audit.exportPage: a page of the export, oldest first; `nextCursor` is the next page's `after`. */
export const auditExportPageOutput = z.object({
  items: z.array(auditItemOutput),
  nextCursor: z.number().int().positive().nullable(),
});

/** audit.listCheckpoints, GET /api/sys/audit/checkpoints. */
export const auditCheckpointPageOutput = z.object({
  items: z.array(
    z.object({
      size: z.number().int().positive().meta({ description: "The number of events covered." }),
      root: base64urlHashSchema.meta({ description: "RFC 9162 root of those events." }),
      signedAt: timestampSchema.meta({ description: "The checkpoint's iat." }),
      jws: z.string().meta({
        description:
          "Compact JWS (EdDSA, typ audit-checkpoint+jwt, kid from the JWKS) of { iss, loc, size, root, iat }.",
      }),
    }),
  ),
  nextCursor: z.number().int().positive().nullable(),
});

/** audit.proof, GET /api/sys/audit/proof: the RFC 9162 inclusion proof of one event. */
export const auditProofOutput = z.object({
  seq: z.number().int().positive(),
  size: z.number().int().positive(),
  leafHash: base64urlHashSchema,
  path: z
    .array(base64urlHashSchema)
    .meta({ description: "From the leaf's sibling up to the root's child." }),
});

// ---- operations -----------------------------------------------------------------------------

/** GET /.well-known/jwks.json (RFC 7517): public keys only. */
export const jwksResponse = z.object({
  keys: z.array(
    z.looseObject({
      kty: z.string(),
      kid: z.string(),
      alg: z.string().optional(),
      crv: z.string().optional(),
      x: z.string().optional(),
    }),
  ),
});

/** GET /api/health: the process is up. */
export const healthResponse = z.object({ status: z.literal("ok") });

export const readinessCheckSchema = z.enum(["ok", "failed", "pending"]);

/** GET /api/ready: whether this process can serve requests now. */
export const readyResponse = z.object({
  status: z.enum(["ok", "unavailable"]),
  checks: z.object({
    database: readinessCheckSchema.meta({ description: "The database answers a query." }),
    migrations: readinessCheckSchema.meta({
      description: "Every migration of this build is applied (pending: some are not).",
    }),
    keys: readinessCheckSchema.meta({ description: "The signing keys are loaded." }),
  }),
});

// ---- step-up and one-time codes (CONTRACT §10) ------------------------------------------------

/** security.enrolOtp, POST /api/sys/users/otp/enroll: shown once. */
export const otpEnrolmentOutput = z.object({
  secret: z.string().meta({ description: "The secret in base32 (160 bits), to type into an app." }),
  otpauthUri: z
    .string()
    .meta({ description: "The otpauth://totp/ URI an authenticator app reads from a QR code." }),
});

/** security.otpStatus: whether an app is enrolled, or an enrolment is waiting for its code. */
export const otpStatusOutput = z.object({
  enrolled: z.boolean(),
  pending: z.boolean(),
  stepUpMaxAgeSeconds: z.number().int().positive(),
});

export type MeOutput = z.infer<typeof meOutput>;
export type AccessHistoryOutput = z.infer<typeof accessHistoryOutput>;
export type AuditPageOutput = z.infer<typeof auditPageOutput>;
export type AuditItem = z.infer<typeof auditItemOutput>;
export type AuditCheckpointPageOutput = z.infer<typeof auditCheckpointPageOutput>;
export type AuditProofOutput = z.infer<typeof auditProofOutput>;
export type TokenResponse = z.infer<typeof tokenResponse>;
export type ReadyResponse = z.infer<typeof readyResponse>;
export type ReadinessCheck = z.infer<typeof readinessCheckSchema>;

// ---- notices --------------------------------------------------------------------------------

/** notices.listNotices, GET /api/public/coworkers/notices. */
export const noticeListOutput = z.object({
  items: z.array(
    z.object({
      id: idSchema,
      at: timestampSchema.meta({ description: "When the account was entered." }),
      text: z.string().meta({
        description: "Who entered the account, when, in which mode and why, in words.",
      }),
      readAt: timestampSchema
        .nullable()
        .meta({ description: "When the member marked it read; null while unread." }),
    }),
  ),
});

export type NoticeListOutput = z.infer<typeof noticeListOutput>;
