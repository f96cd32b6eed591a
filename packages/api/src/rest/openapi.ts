// The OpenAPI 3.1 document of the REST surface (CONTRACT §5), generated from the zod schemas the
// procedures and REST adapters use: inputs from @cowork/validators, outputs from its responses.
// The REST paths come from the routes' declarations (contract.ts, declarations.ts), the same the
// server dispatches from; the operational and tRPC paths are described here.
import { allowedMethods, opsPaths, pathParams } from "./contract";
import { restRouteDeclarations } from "./declarations";
import {
  components,
  failure,
  json,
  jsonComponents,
  jsonSchema,
  OPS_WRONG_METHOD,
  type ParameterDoc,
  BEARER,
  PUBLIC,
  ref,
  success,
  UNAVAILABLE_TEXT,
  wrongMethod,
} from "./openapi-parts";

/** The operations of the REST routes, by path and method, from their declarations. */
function restPaths() {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of restRouteDeclarations) {
    const onPath = restRouteDeclarations.filter((other) => other.path === route.path);
    const allow = allowedMethods(
      onPath.map((other) => other.method),
      onPath.some((other) => "getMints" in other),
    );
    const oauth = onPath.some((other) => "oauth" in other);
    const { parameters: docs, requestBody: body, responses, ...operation } = route.doc();
    const parameterDocs = (docs ?? {}) as Record<string, ParameterDoc>;
    const parameter = (name: string, place: "path" | "query") => {
      const { required, description, schema, example } = parameterDocs[name]!;
      return {
        name,
        in: place,
        required: place === "path" || (required ?? false),
        ...(description === undefined ? {} : { description }),
        schema,
        ...(example === undefined ? {} : { example }),
      };
    };
    const parameters = [
      ...pathParams(route.path).map((name) => parameter(name, "path")),
      ...("query" in route ? route.query : []).map((name) => parameter(name, "query")),
    ];
    const media = "body" in route ? route.body : [];
    paths[route.path] = {
      ...paths[route.path],
      [route.method.toLowerCase()]: {
        ...operation,
        ...(parameters.length ? { parameters } : {}),
        ...(body && media.length
          ? {
              requestBody: {
                required: true,
                content: Object.fromEntries(
                  media.map((type) => [
                    type,
                    {
                      schema: body.schema,
                      ...(body.example === undefined ? {} : { example: body.example }),
                    },
                  ]),
                ),
              },
            }
          : {}),
        responses: {
          ...(operation.security === BEARER ? withDpopRefusals(responses) : responses),
          "405": wrongMethod(allow, oauth),
        },
      },
    };
  }
  return paths;
}

/**
 * Every route that takes an access token also answers a DPoP-bound one's misuse (RFC 9449 §7):
 * its 401 names those codes too, and the DPoP challenge.
 */
function withDpopRefusals(responses: Record<string, unknown>): Record<string, unknown> {
  const unauthorized = responses["401"] as
    | {
        description: string;
        headers?: Record<string, unknown>;
        content: { "application/json": { schema: { properties?: { error: { enum: string[] } } } } };
      }
    | undefined;
  const codes = unauthorized?.content["application/json"].schema.properties?.error.enum;
  if (!unauthorized || !codes) return responses;
  return {
    ...responses,
    "401": {
      ...unauthorized,
      description: `${unauthorized.description}; a DPoP-bound token without a valid fresh proof of its key (error: invalid_dpop_proof, invalid_token)`,
      headers: {
        "WWW-Authenticate": {
          description:
            'The challenge: `DPoP error="invalid_dpop_proof"` or `DPoP error="invalid_token"` for a DPoP-bound token\'s misuse' +
            (unauthorized.headers?.["WWW-Authenticate"]
              ? ', `Bearer error="insufficient_user_authentication", max_age=<seconds>` for step_up_required'
              : "") +
            ', else `Bearer realm="portal"`.',
          schema: { type: "string" },
        },
      },
      content: {
        "application/json": {
          schema: {
            ...unauthorized.content["application/json"].schema,
            properties: {
              error: { type: "string", enum: [...codes, "invalid_token", "invalid_dpop_proof"] },
            },
          },
        },
      },
    },
  };
}

function paths() {
  return {
    ...restPaths(),
    [opsPaths.health]: {
      get: {
        operationId: "health",
        tags: ["operations"],
        summary: "Liveness: the process is up (no database work, so never 503)",
        security: PUBLIC,
        responses: { "200": success("Up", "Health"), ...OPS_WRONG_METHOD },
      },
    },
    [opsPaths.ready]: {
      get: {
        operationId: "ready",
        tags: ["operations"],
        summary:
          "Readiness: database reachable, migrations applied, signing keys loaded; answers within 5 s",
        security: PUBLIC,
        responses: {
          "200": success("Ready", "Ready"),
          ...OPS_WRONG_METHOD,
          "503": success("Not ready; `checks` says which check failed", "Ready"),
        },
      },
    },
    [opsPaths.metrics]: {
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
          ...OPS_WRONG_METHOD,
        },
      },
    },
    [opsPaths.openapi]: {
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
          ...OPS_WRONG_METHOD,
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
      { name: "policy", description: "The location's impersonation policy" },
      { name: "consent", description: "Members' consent to support access, and ending it" },
      { name: "oversight", description: "Live impersonated sessions of a location" },
      { name: "trpc", description: "The typed door to the same procedures" },
      { name: "notices", description: "What members are told when their account is entered" },
      { name: "webhooks", description: "Audit events and session ends pushed to receivers" },
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
        dpopAuth: {
          type: "http",
          scheme: "dpop",
          description:
            "A DPoP-bound access token (RFC 9449) as `Authorization: DPoP <token>`, with a fresh proof in the `DPoP` header. " +
            'A missing, invalid or replayed proof answers 401 invalid_dpop_proof (`WWW-Authenticate: DPoP error="invalid_dpop_proof"`); ' +
            'the token sent as Bearer, or with another key\'s proof, 401 invalid_token (`WWW-Authenticate: DPoP error="invalid_token"`).',
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
