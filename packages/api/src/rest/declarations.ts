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
  exchangeInput,
  setCurrentProfileInput,
} from "@cowork/validators";
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
        "200": success("A session's access token", "TokenResponse", { ...NO_STORE, ...PRAGMA }),
        "400": tokenFailure(
          400,
          "Malformed request, another grant type, or wrong credentials (the same answer for an unknown user)",
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
        "400": failure(400, "Bad coworkerId, reason or mode", ["invalid_request"]),
        "401": failure(
          401,
          "No or invalid bearer, a customer session, or an impersonated session",
          ["unauthorized"],
        ),
        "403": failure(
          403,
          "The target is the caller or staff of equal or higher rank, or impersonation is switched off",
          ["forbidden", "impersonation_disabled"],
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
        "400": failure(400, "Bad coworkerId, reason or mode", ["invalid_request"]),
        "401": failure(401, "No or invalid bearer, or an impersonated session", ["unauthorized"]),
        "403": failure(
          403,
          "The caller is not a team admin, the target is staff or the caller, or impersonation is switched off",
          ["forbidden", "impersonation_disabled"],
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
          "An access token for the target's session; the actor is recorded (claim act)",
          "TokenResponse",
          NO_STORE,
        ),
        "400": failure(400, "No or garbled body", ["invalid_request"]),
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
        actorUserId: "Only events by this user.",
        targetCoworkerId: "Only events about this coworker.",
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
      const parameters = schemaParameters(auditExportInput, {
        actorUserId: "Only events by this user.",
        targetCoworkerId: "Only events about this coworker.",
        type: "Only events of this type.",
        from: "Only events at or after this instant (ISO 8601 with offset).",
        to: "Only events before this instant (ISO 8601 with offset).",
      });
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
};

/** A route's contract and declaration together, by name. */
export const restRouteDeclarations = (Object.keys(restContract) as RestRouteName[]).map(
  (name) => ({ name, ...restContract[name], ...restDeclarations[name] }) as const,
);
