// The pieces of the OpenAPI 3.1 document (openapi.ts) that the routes' declarations
// (declarations.ts) are written with: JSON Schemas from the zod schemas of @cowork/validators,
// the named components, and the answers every route shares.
import {
  accessHistoryOutput,
  auditCheckpointPageOutput,
  auditPageOutput,
  auditProofOutput,
  errorBodySchema,
  healthResponse,
  idSchema,
  idTextSchema,
  impersonateInput,
  impersonationModeSchema,
  impersonationTokenResponse,
  jwksResponse,
  liveImpersonationsOutput,
  meOutput,
  policyOutput,
  noticeListOutput,
  otpEnrolmentOutput,
  profileListOutput,
  profileOutput,
  readyResponse,
  sessionActionsOutput,
  signInInput,
  supportAccessGrantOutput,
  supportAccessOutput,
  tokenResponse,
  registeredWebhookOutput,
  webhookDeliveriesOutput,
  webhookListOutput,
} from "@cowork/validators";
import { z } from "zod";
import { ERROR_STATUS, type ErrorCode } from "../errors";
import { allowedMethods } from "./contract";

export type JsonSchema = Record<string, unknown>;

/** A zod schema as a JSON Schema (2020-12, the dialect of OpenAPI 3.1), ready to embed. */
export function jsonSchema(schema: z.ZodType, io: "input" | "output"): JsonSchema {
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

export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

export const components = {
  Error: errorBodySchema,
  TokenResponse: tokenResponse,
  ImpersonationToken: impersonationTokenResponse,
  Me: meOutput,
  OtpEnrolment: otpEnrolmentOutput,
  Profile: profileOutput,
  ProfileList: profileListOutput,
  AccessHistory: accessHistoryOutput,
  AuditPage: auditPageOutput,
  Jwks: jwksResponse,
  Health: healthResponse,
  Ready: readyResponse,
  Policy: policyOutput,
  SupportAccess: supportAccessOutput,
  SupportAccessGrant: supportAccessGrantOutput,
  LiveImpersonations: liveImpersonationsOutput,
  NoticeList: noticeListOutput,
  SessionActions: sessionActionsOutput,
  AuditCheckpointPage: auditCheckpointPageOutput,
  AuditProof: auditProofOutput,
  WebhookList: webhookListOutput,
  RegisteredWebhook: registeredWebhookOutput,
  WebhookDeliveries: webhookDeliveriesOutput,
} satisfies Record<string, z.ZodType>;

/** Schemas with no zod counterpart: they describe bodies written outside the procedures. */
export const jsonComponents = {
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

export type ComponentName = keyof typeof components | keyof typeof jsonComponents;

export const json = (schema: JsonSchema) => ({ "application/json": { schema } });

export const NO_STORE = {
  "Cache-Control": {
    description: "Always `no-store`: the body carries a token.",
    schema: { type: "string", const: "no-store" },
  },
};
export const RETRY_AFTER = {
  "Retry-After": {
    description: "Seconds until the limit lets the caller try again.",
    schema: { type: "integer", minimum: 1 },
  },
};

export const success = (
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
export function failure(
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

export const UNAVAILABLE_TEXT =
  "The database cannot be reached; answered within 5 s, nothing half-written";
export const UNAVAILABLE = { "503": failure(503, UNAVAILABLE_TEXT, ["unavailable"]) };
export const TOO_LARGE = {
  "413": failure(413, "The body is larger than 64 KiB", ["payload_too_large"]),
};
export const WRONG_TYPE = {
  "415": failure(415, "The body's Content-Type is not one this operation reads"),
};
export const THROTTLED = (description: string) => ({
  "429": failure(429, description, ["throttled"]),
});

const ALLOW = (methods: string) => ({
  Allow: {
    description: `The methods this path answers: \`${methods}\`.`,
    required: true,
    schema: { type: "string", const: methods },
  },
});
/**
 * 405 for another method on a REST or operational path: the server answers it, naming the
 * allowed ones (in OAuth's dialect on /api/token).
 */
export const wrongMethod = (methods: string, oauth: boolean) =>
  failure(405, "Another method on this path", ["method_not_allowed"], {
    ...(oauth ? { body: "TokenError" as const } : {}),
    headers: { ...ALLOW(methods), ...(oauth ? PRAGMA : {}) },
  });
/** 405 on the operational paths, which take GET (and HEAD, OPTIONS) only. */
export const OPS_WRONG_METHOD = { "405": wrongMethod(allowedMethods(["GET"], false), false) };

/** A bearer token, or a DPoP-bound one with its proof (RFC 9449): every authorized route takes both. */
export const BEARER = [{ bearerAuth: [] }, { dpopAuth: [] }];

/** RFC 9470 §3: the challenge of a step-up refusal. */
export const STEP_UP_REQUIRED = {
  "WWW-Authenticate": {
    description:
      'For step_up_required: `Bearer error="insufficient_user_authentication", max_age=<STEP_UP_MAX_AGE_SECONDS>`.',
    schema: { type: "string" },
  },
};
/** Explicitly public: no credentials are looked at (Redocly's security-defined asks it be said). */
export const PUBLIC: never[] = [];

/** A parameter's documentation; its name and place (path or query) come from the route. */
export interface ParameterDoc {
  /** Path parameters are always required. */
  required?: boolean;
  description?: string;
  schema: JsonSchema;
  example?: unknown;
}

/** The documentation of the query parameters an object schema reads, by name. */
export function schemaParameters<Schema extends z.ZodObject>(
  schema: Schema,
  descriptions: Partial<Record<keyof Schema["shape"], string>> = {},
): Record<keyof Schema["shape"] & string, ParameterDoc> {
  const object = jsonSchema(schema, "input") as {
    properties?: Record<string, JsonSchema>;
    required?: string[];
  };
  return Object.fromEntries(
    Object.entries(object.properties ?? {}).map(([name, property]) => [
      name,
      {
        required: object.required?.includes(name) ?? false,
        ...(descriptions[name as keyof Schema["shape"]]
          ? { description: descriptions[name as keyof Schema["shape"]] }
          : {}),
        schema: property,
      },
    ]),
  ) as Record<keyof Schema["shape"] & string, ParameterDoc>;
}

export const reasonParameter: ParameterDoc = {
  required: false,
  description: "Why (shown to the member in their access history and kept in the audit log).",
  schema: jsonSchema(impersonateInput.shape.reason, "input"),
};
export const modeParameter: ParameterDoc = {
  required: false,
  description:
    "`readonly` issues a read-only impersonation: every change from its session answers 403 `read_only`. Default `full`.",
  schema: jsonSchema(impersonationModeSchema, "input"),
};

/** The parameters of the two issue routes: the coworker (in the query or the path), reason, mode. */
export const impersonationParameters = (coworker: string, example: number) => ({
  coworkerId: {
    required: true,
    description: coworker,
    schema: jsonSchema(impersonateInput.shape.coworkerId, "input"),
    example,
  },
  reason: reasonParameter,
  mode: modeParameter,
  reasonCategory: {
    required: false,
    description:
      "Why, as a category (required with reason where the location's policy asks for a justification).",
    schema: jsonSchema(impersonateInput.shape.reasonCategory, "input"),
  },
  ticket: {
    required: false,
    description: "A ticket reference: 1–64 letters, digits or `._#/-`.",
    schema: jsonSchema(impersonateInput.shape.ticket, "input"),
  },
});

/** POST /api/token's body: the OAuth 2.0 password grant over the sign-in input's fields. */
export const tokenRequest = z.object({
  grant_type: z.literal("password"),
  username: signInInput.shape.email.meta({ description: "The account's email." }),
  password: signInInput.shape.password,
  location_id: z
    .union([idSchema, idTextSchema])
    .optional()
    .meta({ description: "The active location to start in (CONTRACT §4)." }),
});

export const PRAGMA = {
  Pragma: {
    description: "Always `no-cache`, as OAuth 2.0 asks of token answers (RFC 6749 §5.1).",
    schema: { type: "string", const: "no-cache" },
  },
};
/** Every answer of /api/token: OAuth's `error_description` beside `message`, and `Pragma`. */
export const tokenFailure = (status: number, description: string, codes?: ErrorCode[]) =>
  failure(status, description, codes, { body: "TokenError", headers: PRAGMA });
