// The OpenAPI 3.1 document of the REST surface (CONTRACT §5), generated from the zod schemas the
// procedures and REST adapters use: inputs from @cowork/validators, outputs from its responses.
import {
  accessHistoryOutput,
  auditListInput,
  auditPageOutput,
  errorBodySchema,
  exchangeInput,
  healthResponse,
  idSchema,
  idTextSchema,
  impersonateInput,
  impersonationModeSchema,
  impersonationTokenResponse,
  jwksResponse,
  meOutput,
  profileListOutput,
  profileOutput,
  readyResponse,
  setCurrentProfileInput,
  signInInput,
  tokenResponse,
} from "@cowork/validators";
import { z } from "zod";
import { ERROR_STATUS, type ErrorCode } from "../errors";

type JsonSchema = Record<string, unknown>;

/** A zod schema as a JSON Schema (2020-12, the dialect of OpenAPI 3.1), ready to embed. */
function jsonSchema(schema: z.ZodType, io: "input" | "output"): JsonSchema {
  const generated = z.toJSONSchema(schema, {
    io,
    target: "draft-2020-12",
    unrepresentable: "any",
    override: ({ jsonSchema: node }) => {
      // `format: date-time` says it; zod's equivalent regular expression only adds noise.
      if (node.format === "date-time") delete node.pattern;
    },
  }) as JsonSchema;
  delete generated.$schema;
  return generated;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

const components = {
  Error: errorBodySchema,
  TokenResponse: tokenResponse,
  ImpersonationToken: impersonationTokenResponse,
  Me: meOutput,
  Profile: profileOutput,
  ProfileList: profileListOutput,
  AccessHistory: accessHistoryOutput,
  AuditPage: auditPageOutput,
  Jwks: jwksResponse,
  Health: healthResponse,
  Ready: readyResponse,
} satisfies Record<string, z.ZodType>;

/** Schemas with no zod counterpart: they describe bodies written outside the procedures. */
const jsonComponents = {
  // RFC 6749 §5.2: OAuth clients read `error_description`; it carries the same text as `message`.
  // The Error body closes its properties, so this is the same object with one more, not an allOf.
  TokenError: (() => {
    const base = jsonSchema(errorBodySchema, "output") as {
      properties: Record<string, unknown>;
      required: string[];
    };
    return {
      ...base,
      properties: {
        ...base.properties,
        error_description: { type: "string", description: "The same text as `message`." },
      },
      required: [...base.required, "error_description"],
    };
  })(),
  // tRPC's error envelope as the api package's errorFormatter shapes it.
  TrpcError: {
    type: "object",
    required: ["error"],
    properties: {
      error: {
        type: "object",
        required: ["message", "code", "data"],
        properties: {
          message: { type: "string" },
          code: { type: "integer", description: "The JSON-RPC error code." },
          data: {
            type: "object",
            required: ["code", "httpStatus", "error"],
            properties: {
              code: { type: "string", description: "tRPC's code, e.g. UNAUTHORIZED." },
              httpStatus: { type: "integer", description: "The status the REST door answers." },
              error: { type: "string", description: "The contract's error code." },
              retryAfter: { type: ["integer", "null"] },
              path: { type: "string" },
            },
          },
        },
      },
    },
  },
} satisfies Record<string, JsonSchema>;

type ComponentName = keyof typeof components | keyof typeof jsonComponents;

const json = (schema: JsonSchema) => ({ "application/json": { schema } });

const NO_STORE = {
  "Cache-Control": {
    description: "Always `no-store`: the body carries a token.",
    schema: { type: "string", const: "no-store" },
  },
};
const RETRY_AFTER = {
  "Retry-After": {
    description: "Seconds until the limit lets the caller try again.",
    schema: { type: "integer", minimum: 1 },
  },
};

const success = (
  description: string,
  body: ComponentName | null,
  headers: Record<string, unknown> = {},
) => ({
  description,
  ...(Object.keys(headers).length ? { headers } : {}),
  ...(body ? { content: json(ref(body)) } : {}),
});

interface FailureOptions {
  /** The error body's schema; /api/token adds OAuth's `error_description`. */
  body?: ComponentName;
  headers?: Record<string, unknown>;
}

/** A failure answer: the `{ error, message }` body, its codes named for this status. */
function failure(
  status: number,
  description: string,
  codes?: ErrorCode[],
  options: FailureOptions = {},
) {
  const allowed =
    codes ??
    (Object.keys(ERROR_STATUS) as ErrorCode[]).filter((code) => ERROR_STATUS[code] === status);
  const headers = { ...(status === 429 ? RETRY_AFTER : {}), ...options.headers };
  return {
    description: allowed.length ? `${description} (error: ${allowed.join(", ")})` : description,
    ...(Object.keys(headers).length ? { headers } : {}),
    // A status whose code the domain does not name (yet) is still the `{ error, message }` body.
    content: json(
      allowed.length
        ? {
            allOf: [ref(options.body ?? "Error")],
            properties: { error: { type: "string", enum: allowed } },
          }
        : ref(options.body ?? "Error"),
    ),
  };
}

const UNAVAILABLE_TEXT =
  "The database cannot be reached; answered within 5 s, nothing half-written";
const UNAVAILABLE = { "503": failure(503, UNAVAILABLE_TEXT, ["unavailable"]) };
const TOO_LARGE = { "413": failure(413, "The body is larger than 64 KiB", ["payload_too_large"]) };
const WRONG_TYPE = {
  "415": failure(415, "The body's Content-Type is not one this operation reads"),
};
const THROTTLED = (description: string) => ({
  "429": failure(429, description, ["throttled"]),
});

const ALLOW = (methods: string) => ({
  Allow: {
    description: `The methods this path answers: \`${methods}\`.`,
    required: true,
    schema: { type: "string", const: methods },
  },
});
/** 405 for another method on a REST path: the server's table answers it, naming the allowed ones. */
const wrongMethod = (methods: string) => ({
  "405": failure(405, "Another method on this path", ["method_not_allowed"], {
    headers: ALLOW(methods),
  }),
});
/** 405 on the paths Next serves: its route handlers answer other methods without a body. */
const NEXT_WRONG_METHOD = {
  "405": { description: "Another method than GET, HEAD or OPTIONS on this path (no body)" },
};

const BEARER = [{ bearerAuth: [] }];
/** Explicitly public: no credentials are looked at (Redocly's security-defined asks it be said). */
const PUBLIC: never[] = [];

function queryParameters(schema: z.ZodType, descriptions: Record<string, string> = {}) {
  const object = jsonSchema(schema, "input") as {
    properties?: Record<string, JsonSchema>;
    required?: string[];
  };
  return Object.entries(object.properties ?? {}).map(([name, property]) => ({
    name,
    in: "query",
    required: object.required?.includes(name) ?? false,
    ...(descriptions[name] ? { description: descriptions[name] } : {}),
    schema: property,
  }));
}

const reasonParameter = {
  name: "reason",
  in: "query",
  required: false,
  description: "Why (shown to the member in their access history and kept in the audit log).",
  schema: jsonSchema(impersonateInput.shape.reason, "input"),
};
const modeParameter = {
  name: "mode",
  in: "query",
  required: false,
  description:
    "`readonly` issues a read-only impersonation: every change from its session answers 403 `read_only`. Default `full`.",
  schema: jsonSchema(impersonationModeSchema, "input"),
};

/** POST /api/token's body: the OAuth 2.0 password grant over the sign-in input's fields. */
const tokenRequest = z.object({
  grant_type: z.literal("password"),
  username: signInInput.shape.email.meta({ description: "The account's email." }),
  password: signInInput.shape.password,
  location_id: z
    .union([idSchema, idTextSchema])
    .optional()
    .meta({ description: "The active location to start in (CONTRACT §4)." }),
});

const GET_ALLOW = "GET, HEAD, OPTIONS";
/** The issue paths refuse HEAD: their GET mints a token, and a HEAD must change nothing. */
const MINT_ALLOW = "GET, OPTIONS";
const POST_ALLOW = "OPTIONS, POST";
const PUT_ALLOW = "OPTIONS, PUT";

const PRAGMA = {
  Pragma: {
    description: "Always `no-cache`, as OAuth 2.0 asks of token answers (RFC 6749 §5.1).",
    schema: { type: "string", const: "no-cache" },
  },
};
/** Every answer of /api/token: OAuth's `error_description` beside `message`, and `Pragma`. */
const tokenFailure = (status: number, description: string, codes?: ErrorCode[]) =>
  failure(status, description, codes, { body: "TokenError", headers: PRAGMA });

function paths() {
  const tokenBody = jsonSchema(tokenRequest, "input");
  const tokenExample = {
    grant_type: "password",
    username: "ada.admin@demo.test",
    password: "demo-admin-pass",
  };
  return {
    "/api/token": {
      post: {
        operationId: "signIn",
        tags: ["sessions"],
        summary: "Sign in with email and password (OAuth 2.0 password grant)",
        security: PUBLIC,
        requestBody: {
          required: true,
          content: {
            "application/json": { schema: tokenBody, example: tokenExample },
            "application/x-www-form-urlencoded": { schema: tokenBody, example: tokenExample },
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
          "405": failure(405, "Another method on this path", ["method_not_allowed"], {
            body: "TokenError",
            headers: { ...ALLOW(POST_ALLOW), ...PRAGMA },
          }),
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
      },
    },
    "/api/sys/users/impersonate": {
      get: {
        operationId: "impersonate",
        tags: ["impersonation"],
        summary: "Impersonation token for a coworker of the active location (admins and operators)",
        security: BEARER,
        parameters: [
          {
            name: "coworkerId",
            in: "query",
            required: true,
            description: "The coworker profile to impersonate.",
            schema: jsonSchema(impersonateInput.shape.coworkerId, "input"),
            example: 42,
          },
          reasonParameter,
          modeParameter,
        ],
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
          ...wrongMethod(MINT_ALLOW),
          ...THROTTLED("Too many impersonation requests by this actor"),
          ...UNAVAILABLE,
        },
      },
    },
    "/api/public/coworkers/{coworkerId}/impersonate": {
      get: {
        operationId: "impersonateTeamMember",
        tags: ["impersonation"],
        summary: "Impersonation token for a member of a team the caller administers",
        security: BEARER,
        parameters: [
          {
            name: "coworkerId",
            in: "path",
            required: true,
            description: "The team member's coworker profile.",
            schema: jsonSchema(impersonateInput.shape.coworkerId, "input"),
            example: 43,
          },
          reasonParameter,
          modeParameter,
        ],
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
          ...wrongMethod(MINT_ALLOW),
          ...THROTTLED("Too many impersonation requests by this actor"),
          ...UNAVAILABLE,
        },
      },
    },
    "/api/sys/users/exchange": {
      post: {
        operationId: "exchange",
        tags: ["impersonation"],
        summary: "Exchange an impersonation token for a session of the target (single use)",
        security: PUBLIC,
        requestBody: { required: true, content: json(jsonSchema(exchangeInput, "input")) },
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
          ...wrongMethod(POST_ALLOW),
          ...TOO_LARGE,
          ...WRONG_TYPE,
          ...UNAVAILABLE,
        },
      },
    },
    "/api/public/coworkers/profiles": {
      get: {
        operationId: "listProfiles",
        tags: ["profiles"],
        summary:
          "The caller's coworker profiles (an impersonated session sees only the impersonated one)",
        security: BEARER,
        responses: {
          "200": success("The profiles, the current one marked", "ProfileList"),
          "401": failure(401, "No or invalid bearer", ["unauthorized"]),
          ...wrongMethod(GET_ALLOW),
          ...UNAVAILABLE,
        },
      },
    },
    "/api/public/coworkers/profiles/current": {
      put: {
        operationId: "setCurrentProfile",
        tags: ["profiles"],
        summary: "Switch the session's current profile; the active location follows it",
        security: BEARER,
        requestBody: {
          required: true,
          content: {
            "application/json": {
              schema: jsonSchema(setCurrentProfileInput, "input"),
              example: { coworkerId: 50 },
            },
          },
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
          ...wrongMethod(PUT_ALLOW),
          ...TOO_LARGE,
          ...WRONG_TYPE,
          ...UNAVAILABLE,
        },
      },
    },
    "/api/sys/users/me": {
      get: {
        operationId: "me",
        tags: ["sessions"],
        summary: "Who the session is, where, and who is really acting when impersonated",
        security: BEARER,
        responses: {
          "200": success("The session", "Me"),
          "401": failure(401, "No or invalid bearer", ["unauthorized"]),
          ...wrongMethod(GET_ALLOW),
          ...UNAVAILABLE,
        },
      },
    },
    "/api/sys/users/stop-impersonating": {
      post: {
        operationId: "stopImpersonating",
        tags: ["impersonation"],
        summary: "End an impersonated session at once (the actor's own session is untouched)",
        security: BEARER,
        responses: {
          "204": success("Stopped; the session is revoked", null),
          "401": failure(401, "No or invalid bearer", ["unauthorized"]),
          ...wrongMethod(POST_ALLOW),
          "409": failure(409, "Not an impersonated session", ["not_impersonating"]),
          // No body is read, but one is bounded like any other before the route runs.
          ...TOO_LARGE,
          ...UNAVAILABLE,
        },
      },
    },
    "/api/sys/users/sign-out": {
      post: {
        operationId: "signOut",
        tags: ["sessions"],
        summary: "Revoke the session at once (and the impersonations it started)",
        security: BEARER,
        responses: {
          "204": success("Signed out", null),
          "401": failure(401, "No or invalid bearer", ["unauthorized"]),
          ...wrongMethod(POST_ALLOW),
          ...TOO_LARGE,
          ...UNAVAILABLE,
        },
      },
    },
    "/api/sys/audit": {
      get: {
        operationId: "listAuditEvents",
        tags: ["audit"],
        summary: "The audit log of the active location, newest first (admins)",
        security: BEARER,
        parameters: queryParameters(auditListInput, {
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
          ...wrongMethod(GET_ALLOW),
          ...UNAVAILABLE,
        },
      },
    },
    "/api/public/coworkers/access-history": {
      get: {
        operationId: "accessHistory",
        tags: ["profiles"],
        summary: "Every impersonation of the caller's own account: who, when, why, how long",
        security: BEARER,
        responses: {
          "200": success("The impersonations, newest first", "AccessHistory"),
          "401": failure(401, "No or invalid bearer", ["unauthorized"]),
          "403": failure(403, "An impersonated session", ["forbidden"]),
          ...wrongMethod(GET_ALLOW),
          ...UNAVAILABLE,
        },
      },
    },
    "/.well-known/jwks.json": {
      get: {
        operationId: "jwks",
        tags: ["operations"],
        summary: "The public keys that verify this service's tokens (RFC 7517)",
        security: PUBLIC,
        responses: {
          "200": success("The key set", "Jwks"),
          ...wrongMethod(GET_ALLOW),
          ...UNAVAILABLE,
        },
      },
    },
    "/api/health": {
      get: {
        operationId: "health",
        tags: ["operations"],
        summary: "Liveness: the process is up (no database work, so never 503)",
        security: PUBLIC,
        responses: { "200": success("Up", "Health"), ...NEXT_WRONG_METHOD },
      },
    },
    "/api/ready": {
      get: {
        operationId: "ready",
        tags: ["operations"],
        summary:
          "Readiness: database reachable, migrations applied, signing keys loaded; answers within 5 s",
        security: PUBLIC,
        responses: {
          "200": success("Ready", "Ready"),
          ...NEXT_WRONG_METHOD,
          "503": success("Not ready; `checks` says which check failed", "Ready"),
        },
      },
    },
    "/api/metrics": {
      get: {
        operationId: "metrics",
        tags: ["operations"],
        summary: "Prometheus metrics (they answer without the database too, so never 503)",
        description:
          "With METRICS_TOKEN set, send it as `Authorization: Bearer <METRICS_TOKEN>`; without it, only clients on the same machine " +
          "(loopback, not through a proxy) may scrape.",
        security: [{ metricsToken: [] }, {}],
        responses: {
          "200": {
            description: "The exposition text",
            content: { "text/plain": { schema: { type: "string" } } },
          },
          "401": failure(401, "METRICS_TOKEN is set and the request does not carry it", [
            "unauthorized",
          ]),
          "403": failure(403, "METRICS_TOKEN is unset and the client is not on this machine", [
            "forbidden",
          ]),
          ...NEXT_WRONG_METHOD,
        },
      },
    },
    "/api/openapi.json": {
      get: {
        operationId: "openapi",
        tags: ["operations"],
        summary: "This document (built from the schemas alone, so never 503)",
        security: PUBLIC,
        responses: {
          "200": {
            description: "The OpenAPI 3.1 document",
            content: { "application/json": { schema: { type: "object" } } },
          },
          ...NEXT_WRONG_METHOD,
        },
      },
    },
    "/api/trpc/{procedure}": {
      get: trpcOperation("query"),
      post: trpcOperation("mutation"),
    },
  };
}

/** A tRPC failure: its error envelope, or the `{ error, message }` body of the checks before tRPC. */
const trpcFailure = (description: string) => ({
  description,
  content: json({
    anyOf: [ref("TrpcError"), { type: "array", items: ref("TrpcError") }, ref("Error")],
  }),
});

function trpcOperation(kind: "query" | "mutation") {
  return {
    operationId: kind === "query" ? "trpcQuery" : "trpcMutation",
    tags: ["trpc"],
    summary: `The same procedures, typed (tRPC v11 ${kind}; use the typed client of @cowork/client)`,
    description:
      "Bearer callers are authorized by the Authorization header only; the portal UI by its session cookie, with an origin check on every POST. " +
      "Some procedures (sign-in, exchange) need no credentials at all.",
    security: [{ bearerAuth: [] }, { sessionCookie: [] }, {}],
    parameters: [
      {
        name: "procedure",
        in: "path",
        required: true,
        description: "One procedure, or several joined by commas with `?batch=1` (at most 10).",
        schema: { type: "string", minLength: 1 },
        example: kind === "query" ? "auth.me" : "auth.signOut",
      },
    ],
    responses: {
      "200": {
        description: "The tRPC result envelope (an array of them for a batch)",
        content: {
          "application/json": {
            schema: { anyOf: [{ type: "object" }, { type: "array", items: { type: "object" } }] },
          },
        },
      },
      "4XX": trpcFailure(
        "A tRPC error envelope whose data carries the contract's httpStatus and error code " +
          "(400 bad input or a batch over 10 calls, 401, 403, 404 no such procedure, 405 a mutation by GET, 409, 415, 429)",
      ),
      ...(kind === "mutation"
        ? {
            "403": trpcFailure("A browser POST from another origin, or a procedure's refusal"),
            "413": trpcFailure("The body is larger than 64 KiB"),
          }
        : {}),
      "503": trpcFailure(UNAVAILABLE_TEXT),
    },
  };
}

let cached: Record<string, unknown> | null = null;

/** The document (built once per process: it depends on nothing but the schemas). */
export function openApiDocument(): Record<string, unknown> {
  cached ??= {
    openapi: "3.1.0",
    info: {
      title: "Coworking portal: sessions and impersonation",
      version: "1.0.0",
      description:
        'Every failure answers `{ "error": "<code>", "message": "<text for people>" }`. Any route answers 503 `unavailable` within 5 s when ' +
        "the database cannot be reached; bodies over 64 KiB answer 413. REST calls are authorized by the Authorization header only.",
    },
    jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
    // Relative: the portal that serves this document is the one it describes.
    servers: [{ url: "/", description: "The portal serving this document" }],
    tags: [
      { name: "sessions", description: "Sign-in, who am I, sign-out" },
      { name: "impersonation", description: "Issue, exchange and stop impersonations" },
      { name: "profiles", description: "Coworker profiles and who accessed them" },
      { name: "audit", description: "The audit log" },
      { name: "operations", description: "Keys, health, readiness, metrics, this document" },
      { name: "trpc", description: "The typed door to the same procedures" },
    ],
    paths: paths(),
    components: {
      schemas: {
        ...Object.fromEntries(
          Object.entries(components).map(([name, schema]) => [name, jsonSchema(schema, "output")]),
        ),
        ...jsonComponents,
      },
      securitySchemes: {
        bearerAuth: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "JWT",
          description: "An access token from /api/token or /api/sys/users/exchange.",
        },
        sessionCookie: {
          type: "apiKey",
          in: "cookie",
          name: "portal_session",
          description: "The portal UI's session (tRPC only; REST never looks at cookies).",
        },
        metricsToken: {
          type: "http",
          scheme: "bearer",
          description: "The METRICS_TOKEN of the deployment.",
        },
      },
    },
  };
  return cached;
}
