// The server's half of each REST route's declaration: the handler that serves it (routes.ts:
// parse, call the procedure, shape the answer) and its documentation, every status it answers
// with its body and headers. The other half, method, path, parameters and body, is the route's
// entry in contract.ts, under the same name; the dispatch table (table.ts) and the OpenAPI
// document (openapi.ts) are both built from the two.
import {
  auditCheckpointsInput,
  auditExportInput,
  auditListInput,
  auditProofInput,
  confirmOtpInput,
  exchangeInput,
  grantSupportAccessInput,
  idTextSchema,
  markNoticeReadInput,
  reauthenticateInput,
  registerWebhookInput,
  setCurrentProfileInput,
  updatePolicyInput,
} from "@cowork/validators";
import { z } from "zod";
import { type PathParams, type QueryOf, restContract, type RestRouteName } from "./contract";
import { type RestAnswer } from "./http";
import {
  BEARER,
  failure,
  impersonationParameters,
  jsonSchema,
  type JsonSchema,
  NO_STORE,
  type ParameterDoc,
  PUBLIC,
  RETRY_AFTER,
  PRAGMA,
  STEP_UP_REQUIRED,
  schemaParameters,
  success,
  THROTTLED,
  TOO_LARGE,
  tokenFailure,
  tokenRequest,
  UNAVAILABLE,
  UNAVAILABLE_TEXT,
  WRONG_TYPE,
} from "./openapi-parts";
import { rest, type RestRequest } from "./routes";

export type RestHandler = (input: RestRequest) => Promise<RestAnswer>;

type Contract = typeof restContract;
/** The names of a route's parameters: its path's `{name}` segments, then its query's. */
export type ParamsOf<Name extends RestRouteName> =
  PathParams<Contract[Name]["path"]> | QueryOf<Name>;

/** The body of a route that reads one: its schema (and an example) for each of its media types. */
export interface BodyDoc {
  schema: JsonSchema;
  example?: unknown;
}

/** A route's OpenAPI operation, less what the route's contract says (path, method, names). */
export type OperationDoc<Name extends RestRouteName> = {
  operationId: string;
  tags: string[];
  summary: string;
  security: unknown[];
  /**
   * Every status the route answers, but 405 for another method: that one is the path's, and the
   * document derives it from the methods the routes on the path take.
   */
  responses: Record<`${number}`, unknown>;
} & ([ParamsOf<Name>] extends [never]
  ? { parameters?: never }
  : { parameters: Record<ParamsOf<Name>, ParameterDoc> }) &
  (Contract[Name] extends { body: readonly string[] }
    ? { requestBody: BodyDoc }
    : { requestBody?: never });

export interface RestDeclaration<Name extends RestRouteName> {
  handler: RestHandler;
  /** The documentation, built when the document is (it turns zod schemas into JSON Schemas). */
  doc: () => OperationDoc<Name>;
}

/** The audit log's filters, as the list and the export both take them. */
const AUDIT_FILTER_DESCRIPTIONS = {
  actorUserId: "Only events by this user.",
  targetCoworkerId: "Only events about this coworker.",
  person:
    "Only events whose actor's or target's full name contains this text, in any case (the name the event shows: the one it was sealed with, else the current one).",
  type: "Only events of this type.",
  outcome: "Only events with this outcome.",
  from: "Only events at or after this instant (ISO 8601 with offset).",
  to: "Only events before this instant (ISO 8601 with offset); must be after `from`.",
} as const;

export const restDeclarations: { [Name in RestRouteName]: RestDeclaration<Name> } = {
  token: {
    handler: rest.token,
    doc: () => ({
      operationId: "signIn",
      tags: ["sessions"],
      summary: "Sign in with email and password (OAuth 2.0 password grant)",
      security: PUBLIC,
      requestBody: {
        schema: jsonSchema(tokenRequest, "input"),
        example: {
          grant_type: "password",
          username: "ada.admin@demo.test",
          password: "demo-admin-pass",
        },
      },
      responses: {
        "200": success(
          "A session's access token; DPoP-bound (token_type DPoP) when a valid DPoP proof came",
          "TokenResponse",
          { ...NO_STORE, ...PRAGMA },
        ),
        "400": tokenFailure(
          400,
          "Malformed request, another grant type, wrong credentials (the same answer for an unknown user), or a DPoP proof that does not hold",
          ["invalid_request", "unsupported_grant_type", "invalid_grant", "invalid_dpop_proof"],
        ),
        "401": failure(
          401,
          "HTTP Basic client authentication was sent and failed (RFC 6749 §5.2)",
          ["invalid_client"],
          {
            body: "TokenError",
            headers: {
              ...PRAGMA,
              "WWW-Authenticate": {
                description: "The Basic challenge.",
                schema: { type: "string", pattern: "^Basic " },
              },
            },
          },
        ),
        "413": tokenFailure(413, "The body is larger than 64 KiB", ["payload_too_large"]),
        "415": tokenFailure(415, "The body is neither JSON nor form-encoded"),
        "429": {
          ...tokenFailure(
            429,
            "Too many failed sign-ins for this account or client address; a correct password too",
            ["throttled"],
          ),
          headers: { ...RETRY_AFTER, ...PRAGMA },
        },
        "503": tokenFailure(503, UNAVAILABLE_TEXT, ["unavailable"]),
      },
    }),
  },

  impersonateCoworker: {
    handler: rest.impersonateCoworker,
    doc: () => ({
      operationId: "impersonate",
      tags: ["impersonation"],
      summary: "Impersonation token for a coworker of the active location (admins and operators)",
      security: BEARER,
      parameters: impersonationParameters("The coworker profile to impersonate.", 42),
      responses: {
        "200": success("A single-use impersonation token", "ImpersonationToken", NO_STORE),
        "400": failure(
          400,
          "Bad coworkerId, reason, mode, reasonCategory or ticket, or a justification the location's policy requires is missing",
          ["invalid_request", "justification_required"],
        ),
        "401": failure(
          401,
          "No or invalid bearer, a customer session, or an impersonated session; or the session must step up (RFC 9470)",
          ["unauthorized", "step_up_required"],
          { headers: STEP_UP_REQUIRED },
        ),
        "403": failure(
          403,
          "The target is the caller or staff of equal or higher rank, impersonation is switched off, full mode is not allowed, or the member's consent is missing",
          ["forbidden", "impersonation_disabled", "full_mode_not_allowed", "consent_required"],
        ),
        "404": failure(404, "No such coworker in the active location", ["not_found"]),
        ...THROTTLED("Too many impersonation requests by this actor"),
        ...UNAVAILABLE,
      },
    }),
  },

  impersonateTeamMember: {
    handler: rest.impersonateTeamMember,
    doc: () => ({
      operationId: "impersonateTeamMember",
      tags: ["impersonation"],
      summary: "Impersonation token for a member of a team the caller administers",
      security: BEARER,
      parameters: impersonationParameters("The team member's coworker profile.", 43),
      responses: {
        "200": success("A single-use impersonation token", "ImpersonationToken", NO_STORE),
        "400": failure(
          400,
          "Bad coworkerId, reason, mode, reasonCategory or ticket, or a justification the location's policy requires is missing",
          ["invalid_request", "justification_required"],
        ),
        "401": failure(
          401,
          "No or invalid bearer, or an impersonated session; or the session must step up (RFC 9470)",
          ["unauthorized", "step_up_required"],
          { headers: STEP_UP_REQUIRED },
        ),
        "403": failure(
          403,
          "The caller is not a team admin, the target is staff or the caller, impersonation is switched off, full mode is not allowed, or the member's consent is missing",
          ["forbidden", "impersonation_disabled", "full_mode_not_allowed", "consent_required"],
        ),
        "404": failure(404, "The target is not in a team the caller administers", ["not_found"]),
        ...THROTTLED("Too many impersonation requests by this actor"),
        ...UNAVAILABLE,
      },
    }),
  },

  exchange: {
    handler: rest.exchange,
    doc: () => ({
      operationId: "exchange",
      tags: ["impersonation"],
      summary: "Exchange an impersonation token for a session of the target (single use)",
      security: PUBLIC,
      requestBody: { schema: jsonSchema(exchangeInput, "input") },
      responses: {
        "200": success(
          "An access token for the target's session; the actor is recorded (claim act); DPoP-bound when a valid proof came",
          "TokenResponse",
          NO_STORE,
        ),
        "400": failure(
          400,
          "No or garbled body, or a DPoP proof that does not hold (the token is not used up)",
          ["invalid_request", "invalid_dpop_proof"],
        ),
        "401": failure(
          401,
          "Bad signature, wrong type, expired, already used, revoked, or impersonation switched off",
          ["invalid_token"],
        ),
        ...TOO_LARGE,
        ...WRONG_TYPE,
        ...UNAVAILABLE,
      },
    }),
  },

  profiles: {
    handler: rest.profiles,
    doc: () => ({
      operationId: "listProfiles",
      tags: ["profiles"],
      summary:
        "The caller's coworker profiles (an impersonated session sees only the impersonated one)",
      security: BEARER,
      responses: {
        "200": success("The profiles, the current one marked", "ProfileList"),
        "401": failure(401, "No or invalid bearer", ["unauthorized"]),
        ...UNAVAILABLE,
      },
    }),
  },

  setCurrentProfile: {
    handler: rest.setCurrentProfile,
    doc: () => ({
      operationId: "setCurrentProfile",
      tags: ["profiles"],
      summary: "Switch the session's current profile; the active location follows it",
      security: BEARER,
      requestBody: {
        schema: jsonSchema(setCurrentProfileInput, "input"),
        example: { coworkerId: 50 },
      },
      responses: {
        "200": success("The new current profile", "Profile"),
        "400": failure(400, "No or bad coworkerId", ["invalid_request"]),
        "401": failure(401, "No or invalid bearer", ["unauthorized"]),
        "403": failure(403, "An impersonated session (read_only for a read-only one)", [
          "forbidden",
          "read_only",
        ]),
        "404": failure(404, "Not one of the caller's profiles", ["not_found"]),
        ...TOO_LARGE,
        ...WRONG_TYPE,
        ...UNAVAILABLE,
      },
    }),
  },

  me: {
    handler: rest.me,
    doc: () => ({
      operationId: "me",
      tags: ["sessions"],
      summary: "Who the session is, where, and who is really acting when impersonated",
      security: BEARER,
      responses: {
        "200": success("The session", "Me"),
        "401": failure(401, "No or invalid bearer", ["unauthorized"]),
        ...UNAVAILABLE,
      },
    }),
  },

  stopImpersonating: {
    handler: rest.stopImpersonating,
    doc: () => ({
      operationId: "stopImpersonating",
      tags: ["impersonation"],
      summary: "End an impersonated session at once (the actor's own session is untouched)",
      security: BEARER,
      responses: {
        "204": success("Stopped; the session is revoked", null),
        "401": failure(401, "No or invalid bearer", ["unauthorized"]),
        "409": failure(409, "Not an impersonated session", ["not_impersonating"]),
        // No body is read, but one is bounded like any other before the route runs.
        ...TOO_LARGE,
        ...UNAVAILABLE,
      },
    }),
  },

  signOut: {
    handler: rest.signOut,
    doc: () => ({
      operationId: "signOut",
      tags: ["sessions"],
      summary: "Revoke the session at once (and the impersonations it started)",
      security: BEARER,
      responses: {
        "204": success("Signed out", null),
        "401": failure(401, "No or invalid bearer", ["unauthorized"]),
        ...TOO_LARGE,
        ...UNAVAILABLE,
      },
    }),
  },

  audit: {
    handler: rest.audit,
    doc: () => ({
      operationId: "listAuditEvents",
      tags: ["audit"],
      summary: "The audit log of the active location, newest first (admins)",
      security: BEARER,
      parameters: schemaParameters(auditListInput, {
        limit: "Page size.",
        cursor: "The nextCursor of the previous page.",
        ...AUDIT_FILTER_DESCRIPTIONS,
      }),
      responses: {
        "200": success("A page of events", "AuditPage"),
        "400": failure(400, "A bad filter or limit", ["invalid_request"]),
        "401": failure(401, "No or invalid bearer, or not an admin of the active location", [
          "unauthorized",
        ]),
        ...UNAVAILABLE,
      },
    }),
  },

  accessHistory: {
    handler: rest.accessHistory,
    doc: () => ({
      operationId: "accessHistory",
      tags: ["profiles"],
      summary: "Every impersonation of the caller's own account: who, when, why, how long",
      security: BEARER,
      responses: {
        "200": success("The impersonations, newest first", "AccessHistory"),
        "401": failure(401, "No or invalid bearer", ["unauthorized"]),
        "403": failure(403, "An impersonated session", ["forbidden"]),
        ...UNAVAILABLE,
      },
    }),
  },

  jwks: {
    handler: rest.jwks,
    doc: () => ({
      operationId: "jwks",
      tags: ["operations"],
      summary: "The public keys that verify this service's tokens (RFC 7517)",
      security: PUBLIC,
      responses: {
        "200": success("The key set", "Jwks"),
        ...UNAVAILABLE,
      },
    }),
  },

  reauthenticate: {
    handler: rest.reauthenticate,
    doc: () => ({
      operationId: "reauthenticate",
      tags: ["sessions"],
      summary:
        "Prove the password again (and a one-time code where an app is enrolled): the session's authTime becomes now",
      security: BEARER,
      requestBody: {
        schema: jsonSchema(reauthenticateInput, "input"),
        example: { password: "demo-admin-pass", otp: "123456" },
      },
      responses: {
        "204": success("Stepped up: authTime is now, amr says how", null),
        "400": failure(
          400,
          "A bad body, a wrong password, or a missing, wrong or used code (counted by the sign-in limits)",
          ["invalid_request", "invalid_grant"],
        ),
        "401": failure(401, "No or invalid bearer", ["unauthorized"]),
        "403": failure(403, "An impersonated session (read_only for a read-only one)", [
          "forbidden",
          "read_only",
        ]),
        ...THROTTLED(
          "Too many failed sign-ins for this account or client address; a correct password too",
        ),
        ...TOO_LARGE,
        ...WRONG_TYPE,
        ...UNAVAILABLE,
      },
    }),
  },

  enrolOtp: {
    handler: rest.enrolOtp,
    doc: () => ({
      operationId: "enrolOtp",
      tags: ["sessions"],
      summary:
        "Start enrolling a one-time-code app (RFC 6238): a new secret, replacing one not yet confirmed",
      security: BEARER,
      responses: {
        "200": success("The secret, shown this once", "OtpEnrolment", NO_STORE),
        "401": failure(401, "No or invalid bearer", ["unauthorized"]),
        "403": failure(403, "An impersonated session (read_only for a read-only one)", [
          "forbidden",
          "read_only",
        ]),
        "409": failure(409, "An app is enrolled already", ["already_enrolled"]),
        ...TOO_LARGE,
        ...UNAVAILABLE,
      },
    }),
  },

  confirmOtp: {
    handler: rest.confirmOtp,
    doc: () => ({
      operationId: "confirmOtp",
      tags: ["sessions"],
      summary: "Confirm the app being enrolled with one of its codes: enrolled from now on",
      security: BEARER,
      requestBody: { schema: jsonSchema(confirmOtpInput, "input"), example: { code: "123456" } },
      responses: {
        "204": success("Enrolled", null),
        "400": failure(400, "A bad body, no enrolment pending, or a wrong or used code", [
          "invalid_request",
          "invalid_grant",
        ]),
        "401": failure(401, "No or invalid bearer", ["unauthorized"]),
        "403": failure(403, "An impersonated session (read_only for a read-only one)", [
          "forbidden",
          "read_only",
        ]),
        "409": failure(409, "An app is enrolled already", ["already_enrolled"]),
        ...TOO_LARGE,
        ...WRONG_TYPE,
        ...UNAVAILABLE,
      },
    }),
  },

  removeOtp: {
    handler: rest.removeOtp,
    doc: () => ({
      operationId: "removeOtp",
      tags: ["sessions"],
      summary: "Remove the one-time-code app, after a recent step-up with its code",
      security: BEARER,
      responses: {
        "204": success("Removed", null),
        "401": failure(
          401,
          "No or invalid bearer, or the session must step up with its code first (RFC 9470)",
          ["unauthorized", "step_up_required"],
          { headers: STEP_UP_REQUIRED },
        ),
        "403": failure(403, "An impersonated session (read_only for a read-only one)", [
          "forbidden",
          "read_only",
        ]),
        "404": failure(404, "No app is enrolled", ["not_found"]),
        ...TOO_LARGE,
        ...UNAVAILABLE,
      },
    }),
  },

  getPolicy: {
    handler: rest.getPolicy,
    doc: () => ({
      operationId: "getPolicy",
      tags: ["policy"],
      summary: "The impersonation policy of the active location (staff)",
      security: BEARER,
      responses: {
        "200": success("The policy", "Policy"),
        "401": failure(401, "No or invalid bearer, or not staff of the active location", [
          "unauthorized",
        ]),
        ...UNAVAILABLE,
      },
    }),
  },

  updatePolicy: {
    handler: rest.updatePolicy,
    doc: () => ({
      operationId: "updatePolicy",
      tags: ["policy"],
      summary:
        "Change any subset of the active location's policy (admins); audited as policy.changed",
      security: BEARER,
      requestBody: {
        schema: jsonSchema(updatePolicyInput, "input"),
        example: { justification: "required", maxSessionMinutes: 30 },
      },
      responses: {
        "200": success("The whole new policy", "Policy"),
        "400": failure(400, "An unknown field, a bad value or another location; nothing changed", [
          "invalid_request",
        ]),
        "401": failure(401, "No or invalid bearer, or not an admin of the active location", [
          "unauthorized",
        ]),
        ...TOO_LARGE,
        ...WRONG_TYPE,
        ...UNAVAILABLE,
      },
    }),
  },

  supportAccess: {
    handler: rest.supportAccess,
    doc: () => ({
      operationId: "listSupportAccess",
      tags: ["consent"],
      summary: "The member's support-access grants and the live impersonations of their account",
      security: BEARER,
      responses: {
        "200": success(
          "Grants (open and ended in the last 30 days) and live sessions",
          "SupportAccess",
        ),
        "401": failure(401, "No or invalid bearer", ["unauthorized"]),
        "403": failure(403, "An impersonated session, or no profile in the active location", [
          "forbidden",
        ]),
        ...UNAVAILABLE,
      },
    }),
  },

  grantSupportAccess: {
    handler: rest.grantSupportAccess,
    doc: () => ({
      operationId: "grantSupportAccess",
      tags: ["consent"],
      summary: "Allow staff or team admins to impersonate the member, for 1–168 hours",
      security: BEARER,
      requestBody: {
        schema: jsonSchema(grantSupportAccessInput, "input"),
        example: { grantedTo: "staff", hours: 24, mode: "readonly" },
      },
      responses: {
        "201": success("The grant", "SupportAccessGrant"),
        "400": failure(400, "A missing or bad field", ["invalid_request"]),
        "401": failure(401, "No or invalid bearer", ["unauthorized"]),
        "403": failure(403, "An impersonated session, or no profile in the active location", [
          "forbidden",
          "read_only",
        ]),
        ...TOO_LARGE,
        ...WRONG_TYPE,
        ...UNAVAILABLE,
      },
    }),
  },

  revokeSupportAccess: {
    handler: rest.revokeSupportAccess,
    doc: () => ({
      operationId: "revokeSupportAccess",
      tags: ["consent"],
      summary: "End a grant; the impersonations that needed it stop at once",
      security: BEARER,
      parameters: {
        grantId: {
          required: true,
          description: "The grant's id.",
          schema: jsonSchema(idTextSchema, "input"),
          example: "1",
        },
      },
      responses: {
        "204": success("Revoked", null),
        "400": failure(400, "A bad grant id", ["invalid_request"]),
        "401": failure(401, "No or invalid bearer", ["unauthorized"]),
        "403": failure(403, "An impersonated session, or no profile in the active location", [
          "forbidden",
          "read_only",
        ]),
        "404": failure(404, "Not a grant of the caller's", ["not_found"]),
        ...TOO_LARGE,
        ...UNAVAILABLE,
      },
    }),
  },

  endSupportSession: {
    handler: rest.endSupportSession,
    doc: () => ({
      operationId: "endSupportSession",
      tags: ["consent"],
      summary: "The member ends a live impersonation of their account (impersonation.terminated)",
      security: BEARER,
      parameters: {
        sessionId: {
          required: true,
          description: "The impersonated session's id (the sid of its access tokens).",
          schema: jsonSchema(z.uuid(), "input"),
          example: "0b7f4a52-3c1e-4f7a-9d1e-2a6c5e8b9f01",
        },
      },
      responses: {
        "204": success("Ended", null),
        "400": failure(400, "A bad session id", ["invalid_request"]),
        "401": failure(401, "No or invalid bearer", ["unauthorized"]),
        "403": failure(403, "An impersonated session, or no profile in the active location", [
          "forbidden",
          "read_only",
        ]),
        "404": failure(404, "Not a live impersonation of the caller's account", ["not_found"]),
        ...TOO_LARGE,
        ...UNAVAILABLE,
      },
    }),
  },

  liveImpersonations: {
    handler: rest.liveImpersonations,
    doc: () => ({
      operationId: "listLiveImpersonations",
      tags: ["oversight"],
      summary: "Every live impersonated session of the active location, newest first (admins)",
      security: BEARER,
      responses: {
        "200": success("The live sessions", "LiveImpersonations"),
        "401": failure(401, "No or invalid bearer, or not an admin of the active location", [
          "unauthorized",
        ]),
        ...UNAVAILABLE,
      },
    }),
  },

  endImpersonation: {
    handler: rest.endImpersonation,
    doc: () => ({
      operationId: "endImpersonation",
      tags: ["oversight"],
      summary:
        "An admin ends a live impersonated session of the location (impersonation.terminated)",
      security: BEARER,
      parameters: {
        sessionId: {
          required: true,
          description: "The impersonated session's id (the sid of its access tokens).",
          schema: jsonSchema(z.uuid(), "input"),
          example: "0b7f4a52-3c1e-4f7a-9d1e-2a6c5e8b9f01",
        },
      },
      responses: {
        "204": success("Ended", null),
        "400": failure(400, "A bad session id", ["invalid_request"]),
        "401": failure(401, "No or invalid bearer, or not an admin of the active location", [
          "unauthorized",
        ]),
        "404": failure(404, "Not a live impersonated session of this location", ["not_found"]),
        ...TOO_LARGE,
        ...UNAVAILABLE,
      },
    }),
  },

  listNotices: {
    handler: rest.listNotices,
    doc: () => ({
      operationId: "listNotices",
      tags: ["notices"],
      summary:
        "The caller's notices, newest first (at most 200): each time someone entered their account",
      security: BEARER,
      responses: {
        "200": success("The notices, newest first", "NoticeList"),
        "401": failure(401, "No or invalid bearer", ["unauthorized"]),
        "403": failure(403, "An impersonated session", ["forbidden"]),
        ...UNAVAILABLE,
      },
    }),
  },

  markNoticeRead: {
    handler: rest.markNoticeRead,
    doc: () => ({
      operationId: "markNoticeRead",
      tags: ["notices"],
      summary: "Mark one of the caller's notices read (marking it again keeps the first time)",
      security: BEARER,
      parameters: {
        id: {
          description: "The notice.",
          schema: jsonSchema(markNoticeReadInput.shape.id, "input"),
          example: 1,
        },
      },
      responses: {
        "204": success("Marked read", null),
        "400": failure(400, "A bad id", ["invalid_request"]),
        "401": failure(401, "No or invalid bearer", ["unauthorized"]),
        "403": failure(403, "An impersonated session (read_only for a read-only one)", [
          "forbidden",
          "read_only",
        ]),
        "404": failure(404, "Not one of the caller's notices", ["not_found"]),
        ...TOO_LARGE,
        ...UNAVAILABLE,
      },
    }),
  },

  sessionActions: {
    handler: rest.sessionActions,
    doc: () => ({
      operationId: "listSessionActions",
      tags: ["audit"],
      summary:
        "Every call an impersonated session of the active location made, refused ones included, oldest first (admins)",
      security: BEARER,
      parameters: {
        sessionId: {
          required: true,
          description: "The impersonated session's id (the `sid` claim of its access tokens).",
          schema: { type: "string" },
          example: "4f1c2a8e-1d2b-4c3d-9e8f-0a1b2c3d4e5f",
        },
      },
      responses: {
        "200": success("The session's actions", "SessionActions"),
        "401": failure(401, "No or invalid bearer, or not an admin of the active location", [
          "unauthorized",
        ]),
        "404": failure(404, "Not an impersonated session of the active location", ["not_found"]),
        ...UNAVAILABLE,
      },
    }),
  },

  auditCheckpoints: {
    handler: rest.auditCheckpoints,
    doc: () => ({
      operationId: "listAuditCheckpoints",
      tags: ["audit"],
      summary: "The signed checkpoints of the active location's audit log, newest first (admins)",
      security: BEARER,
      parameters: schemaParameters(auditCheckpointsInput, {
        limit: "Page size.",
        cursor: "The nextCursor of the previous page.",
      }),
      responses: {
        "200": success("A page of checkpoints", "AuditCheckpointPage"),
        "400": failure(400, "A bad limit or cursor", ["invalid_request"]),
        "401": failure(401, "No or invalid bearer, or not an admin of the active location", [
          "unauthorized",
        ]),
        ...UNAVAILABLE,
      },
    }),
  },

  auditProof: {
    handler: rest.auditProof,
    doc: () => {
      const parameters = schemaParameters(auditProofInput, {
        seq: "The event's seq.",
        size: "The tree's size: from seq up to the newest checkpoint's size.",
      });
      return {
        operationId: "auditInclusionProof",
        tags: ["audit"],
        summary: "The RFC 9162 inclusion proof of one event in the log of a given size (admins)",
        security: BEARER,
        parameters: {
          seq: { ...parameters.seq, example: 1 },
          size: { ...parameters.size, example: 1 },
        },
        responses: {
          "200": success("The leaf hash and its audit path", "AuditProof"),
          "400": failure(
            400,
            "seq or size not a positive integer, seq above size, or size beyond the newest checkpoint",
            ["invalid_request"],
          ),
          "401": failure(401, "No or invalid bearer, or not an admin of the active location", [
            "unauthorized",
          ]),
          ...UNAVAILABLE,
        },
      };
    },
  },

  auditExport: {
    handler: rest.auditExport,
    doc: () => {
      const parameters = schemaParameters(auditExportInput, AUDIT_FILTER_DESCRIPTIONS);
      return {
        operationId: "exportAuditEvents",
        tags: ["audit"],
        summary:
          "The active location's audit events, filtered, oldest first, streamed as a CSV or NDJSON attachment (admins)",
        security: BEARER,
        parameters: {
          format: {
            required: true,
            description: "`csv` (RFC 4180, with a header row) or `ndjson` (one audit item a line).",
            schema: { type: "string", enum: ["csv", "ndjson"] },
            example: "csv",
          },
          actorUserId: parameters.actorUserId,
          targetCoworkerId: parameters.targetCoworkerId,
          type: parameters.type,
          from: parameters.from,
          to: parameters.to,
          person: parameters.person,
          outcome: parameters.outcome,
        },
        responses: {
          "200": {
            description:
              "The events. CSV columns: seq, leafHash, then each field of the audit item (nested ones as actor.userId …); an empty field is null, a quoted empty one an empty text.",
            headers: {
              "Content-Disposition": {
                description: "`attachment`, with a file name.",
                schema: { type: "string", pattern: "^attachment" },
              },
            },
            content: {
              "text/csv": { schema: { type: "string" } },
              "application/x-ndjson": {
                schema: { type: "string", description: "One AuditPage item per line." },
              },
            },
          },
          "400": failure(400, "A bad format or filter", ["invalid_request"]),
          "401": failure(401, "No or invalid bearer, or not an admin of the active location", [
            "unauthorized",
          ]),
          ...UNAVAILABLE,
        },
      };
    },
  },

  listWebhooks: {
    handler: rest.listWebhooks,
    doc: () => ({
      operationId: "listWebhooks",
      tags: ["webhooks"],
      summary: "The webhooks of the active location, without their secrets (admins)",
      security: BEARER,
      responses: {
        "200": success("The webhooks", "WebhookList"),
        "401": failure(401, "No or invalid bearer, or not an admin of the active location", [
          "unauthorized",
        ]),
        ...UNAVAILABLE,
      },
    }),
  },

  registerWebhook: {
    handler: rest.registerWebhook,
    doc: () => ({
      operationId: "registerWebhook",
      tags: ["webhooks"],
      summary:
        "Register a URL for the location's audit events (standard-webhooks) or the ends of its impersonated sessions (caep); the secret is shown this once (admins)",
      security: BEARER,
      requestBody: {
        schema: jsonSchema(registerWebhookInput, "input"),
        example: {
          url: "https://hooks.example.com/cowork",
          events: ["impersonation.exchanged", "impersonation.stopped"],
          format: "standard-webhooks",
        },
      },
      responses: {
        "201": success(
          "Registered; `secret` is whsec_ + base64 of the HMAC key",
          "RegisteredWebhook",
        ),
        "400": failure(
          400,
          'A refused URL (not https with a public host, nor a host in OUTBOUND_ALLOW_HOSTS), an unknown event type or format, a missing field, or a caep webhook whose events are not ["*"]',
          ["invalid_request"],
        ),
        "401": failure(401, "No or invalid bearer, or not an admin of the active location", [
          "unauthorized",
        ]),
        ...TOO_LARGE,
        ...WRONG_TYPE,
        ...UNAVAILABLE,
      },
    }),
  },

  removeWebhook: {
    handler: rest.removeWebhook,
    doc: () => ({
      operationId: "removeWebhook",
      tags: ["webhooks"],
      summary: "Remove a webhook of the active location; nothing more is delivered to it (admins)",
      security: BEARER,
      parameters: {
        id: {
          required: true,
          description: "The webhook's id.",
          schema: jsonSchema(idTextSchema, "input"),
          example: "1",
        },
      },
      responses: {
        "204": success("Removed", null),
        "400": failure(400, "A bad webhook id", ["invalid_request"]),
        "401": failure(401, "No or invalid bearer, or not an admin of the active location", [
          "unauthorized",
        ]),
        "404": failure(404, "Not a webhook of this location", ["not_found"]),
        ...TOO_LARGE,
        ...UNAVAILABLE,
      },
    }),
  },

  webhookDeliveries: {
    handler: rest.webhookDeliveries,
    doc: () => ({
      operationId: "listWebhookDeliveries",
      tags: ["webhooks"],
      summary:
        "Every attempt to deliver to a webhook of the active location, newest first (admins)",
      security: BEARER,
      parameters: {
        id: {
          required: true,
          description: "The webhook's id.",
          schema: jsonSchema(idTextSchema, "input"),
          example: "1",
        },
      },
      responses: {
        "200": success("The attempts", "WebhookDeliveries"),
        "400": failure(400, "A bad webhook id", ["invalid_request"]),
        "401": failure(401, "No or invalid bearer, or not an admin of the active location", [
          "unauthorized",
        ]),
        "404": failure(404, "Not a webhook of this location", ["not_found"]),
        ...UNAVAILABLE,
      },
    }),
  },
};

/** A route's contract and declaration together, by name. */
export const restRouteDeclarations = (Object.keys(restContract) as RestRouteName[]).map(
  (name) => ({ name, ...restContract[name], ...restDeclarations[name] }) as const,
);
