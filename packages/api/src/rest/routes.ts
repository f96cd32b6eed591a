// The REST surface of CONTRACT §5: thin adapters that parse, call the same procedure through a
// server-side caller, and shape the answer. One code path, two doors.
import { impersonationModeSchema, parseIdText, type TokenResponse } from "@cowork/validators";
import { createContext } from "../context";
import { restContract } from "./contract";
import { createCaller } from "../root";
import { type RequestMeta, type ServiceDeps } from "../services/deps";
import {
  answer,
  invalidRequest,
  json,
  noContent,
  parseJsonObject,
  type RestAnswer,
  type RestCall,
  searchParams,
  singleParam,
} from "./http";
import { DomainError } from "../errors";
import { unknownClient } from "./oauth";
import { credentialOf, dpopRequest } from "../services/dpop";
import { auditExportAnswer } from "./audit-export";

export interface RestRequest {
  request: RestCall;
  deps: ServiceDeps;
  meta: RequestMeta;
  /** Path parameters, as matched by the router. */
  params?: Record<string, string>;
}

type Handler = (input: RestRequest) => Promise<RestAnswer>;

interface RouteInput extends RestRequest {
  body: string;
  contentType: string;
}

/** A REST call's credentials: the token of its Authorization header and the call's DPoP side. */
function credentialsOf(request: RestCall) {
  const authorization = request.header("authorization");
  return {
    token: credentialOf(authorization)?.token ?? null,
    dpop: dpopRequest({
      method: request.method,
      url: request.url,
      origin: request.origin ?? null,
      authorization,
      proof: request.header("dpop"),
    }),
  };
}

/** Runs a handler with a caller whose context comes from the Authorization header only. */
const route =
  (
    handler: (caller: ReturnType<typeof createCaller>, input: RouteInput) => Promise<RestAnswer>,
  ): Handler =>
  (input) =>
    answer(async () => {
      const { request } = input;
      const context = await createContext({
        deps: input.deps,
        meta: input.meta,
        ...credentialsOf(request),
      });
      return handler(createCaller(context), {
        ...input,
        body: request.body,
        contentType: request.header("content-type") ?? "",
      });
    }, input.meta.requestId);

/** An id from text: anything but plain digits becomes NaN, which the procedure's schema refuses with 400. */
const idOrInvalid = (value: string | undefined) => parseIdText(value) ?? Number.NaN;

// REST callers are never browser callers, so the token is always in the result.
const tokenResponse = (result: {
  accessToken: string | null;
  expiresIn: number;
  tokenType: "Bearer" | "DPoP";
}) =>
  json({
    access_token: result.accessToken!,
    token_type: result.tokenType,
    expires_in: result.expiresIn,
  } satisfies TokenResponse);

/**
 * The query parameters a route does not declare (contract.ts), handed on to the procedure so that its strict
 * schema refuses them exactly where and how the tRPC door does (after the session check, with
 * the same message): ignoring them would let `?readOnly=true`, meant as read-only, mint a full
 * token. Names the procedure's schema knows but REST spells otherwise are refused here, since
 * the schema would accept them.
 */
function extraParams(
  query: URLSearchParams,
  known: readonly string[],
  otherDoor: Record<string, string> = {},
): Record<string, string> {
  // No prototype: a parameter named __proto__ becomes a key (and is refused), not a no-op.
  const extras = Object.create(null) as Record<string, string>;
  for (const [name, value] of query) {
    if (known.includes(name)) continue;
    const instead = otherDoor[name];
    if (instead !== undefined) throw invalidRequest(`Unknown query parameter ${name}: ${instead}.`);
    extras[name] = value;
  }
  return extras;
}

/** A whole number from query text: anything but plain digits becomes NaN, which the schema refuses. */
const wholeNumber = (value: string | undefined) =>
  value === undefined ? undefined : /^[0-9]{1,16}$/.test(value) ? Number(value) : Number.NaN;

/** The named whole-number parameters of a query that were given (each at most once). */
const numberParams = (query: URLSearchParams, names: readonly string[]) =>
  Object.fromEntries(
    names
      .map((name) => [name, wholeNumber(singleParam(query, name))] as const)
      .filter(([, value]) => value !== undefined),
  );

/** The tRPC names of the issue routes' inputs that REST does not take. */
const ISSUE_OTHER_DOOR = {
  readOnly: "use mode=readonly",
  returnPath: "only the portal's pages set it",
};

/** `mode`: read-only, full, or not given (undefined: the location's policy decides). */
const modeParam = (query: URLSearchParams): Record<string, boolean> => {
  const mode = impersonationModeSchema.optional().safeParse(singleParam(query, "mode"));
  if (!mode.success) throw invalidRequest('mode must be "readonly" or "full".');
  return mode.data === undefined ? {} : { readOnly: mode.data === "readonly" };
};

/** The issue routes' optional query parameters, as the procedures' input names them. */
const issueParams = (query: URLSearchParams) => {
  const defined: Record<string, string | boolean> = { ...modeParam(query) };
  for (const name of ["reason", "reasonCategory", "ticket"] as const) {
    const value = singleParam(query, name);
    if (value !== undefined) defined[name] = value;
  }
  return defined;
};

export const rest = {
  /** POST /api/token: password grant, JSON or form body. */
  token: route(async (caller, { body: text, contentType: type, request }) => {
    // Client authentication comes first (RFC 6749 §2.3, §5.2). There are no confidential
    // clients here, so any Basic credentials name an unknown client: refused, not ignored.
    if (/^Basic(\s|$)/i.test(request.header("authorization") ?? "")) throw unknownClient();
    let fields: Record<string, unknown>;
    if (/^application\/x-www-form-urlencoded\b/i.test(type)) {
      fields = Object.fromEntries(new URLSearchParams(text));
    } else if (/^application\/(.+\+)?json\b/i.test(type)) {
      try {
        const value: unknown = JSON.parse(text);
        if (typeof value !== "object" || value === null || Array.isArray(value))
          throw new Error("not an object");
        fields = value as Record<string, unknown>;
      } catch {
        throw invalidRequest("The body is not valid JSON.");
      }
    } else {
      throw invalidRequest("Send a JSON or form-encoded body.");
    }
    // RFC 6749 §3.2 asks token endpoints to ignore parameters they do not know (clients send
    // scope, client_id), so unlike the JSON routes nothing else is refused; a client secret,
    // though, is client authentication (§2.3.1) by a client nobody registered.
    if (fields.client_secret !== undefined) throw unknownClient();
    if (fields.grant_type === undefined) throw invalidRequest("grant_type is required.");
    if (fields.grant_type !== "password") {
      throw new DomainError("unsupported_grant_type", "Only grant_type=password is supported.");
    }
    const { username, password, location_id: location } = fields;
    if (typeof username !== "string" || typeof password !== "string" || !username || !password) {
      throw invalidRequest("username and password are required.");
    }
    let locationId: number | undefined;
    if (location !== undefined && location !== "") {
      locationId =
        typeof location === "number"
          ? location
          : typeof location === "string"
            ? idOrInvalid(location)
            : Number.NaN;
    }
    return tokenResponse(
      await caller.auth.signIn({
        email: username,
        password,
        ...(locationId === undefined ? {} : { locationId }),
      }),
    );
  }),

  /** GET /api/sys/users/impersonate?coworkerId=N&reason=…&mode=readonly */
  impersonateCoworker: route(async (caller, { request }) => {
    const query = searchParams(request);
    const extras = extraParams(query, restContract.impersonateCoworker.query, ISSUE_OTHER_DOOR);
    const coworkerId = idOrInvalid(singleParam(query, "coworkerId"));
    const { token } = await caller.impersonation.impersonate({
      ...extras,
      ...issueParams(query),
      coworkerId,
    });
    return json({ token });
  }),

  /** GET /api/public/coworkers/{coworkerId}/impersonate */
  impersonateTeamMember: route(async (caller, { request, params }) => {
    const query = searchParams(request);
    const extras = extraParams(query, restContract.impersonateTeamMember.query, {
      ...ISSUE_OTHER_DOOR,
      coworkerId: "the coworker is named in the path",
    });
    const coworkerId = idOrInvalid(params?.coworkerId);
    const { token } = await caller.impersonation.impersonateTeamMember({
      ...extras,
      ...issueParams(query),
      coworkerId,
    });
    return json({ token });
  }),

  /** POST /api/sys/users/exchange { token } */
  exchange: route(async (caller, input) => {
    const body = parseJsonObject(input.body, input.contentType);
    if (typeof body.token !== "string" || body.token === "")
      throw invalidRequest("token is required.");
    // The whole body: the schema refuses unknown fields, as on the tRPC door.
    return tokenResponse(await caller.impersonation.exchange({ ...body, token: body.token }));
  }),

  /** GET /api/public/coworkers/profiles */
  profiles: route(async (caller) => json(await caller.profiles.listProfiles())),

  /** PUT /api/public/coworkers/profiles/current { coworkerId } */
  setCurrentProfile: route(async (caller, input) => {
    const body = parseJsonObject(input.body, input.contentType);
    const coworkerId = typeof body.coworkerId === "number" ? body.coworkerId : Number.NaN;
    return json(await caller.profiles.setCurrentProfile({ ...body, coworkerId }));
  }),

  /** GET /api/sys/users/me */
  me: route(async (caller) => {
    const me = await caller.auth.me();
    return json(me);
  }),

  /** POST /api/sys/users/stop-impersonating */
  stopImpersonating: route(async (caller) => {
    await caller.impersonation.stopImpersonating();
    return noContent();
  }),

  /** POST /api/sys/users/sign-out */
  signOut: route(async (caller) => {
    await caller.auth.signOut();
    return noContent();
  }),

  /** GET /api/sys/audit?limit&cursor&actorUserId&targetCoworkerId&person&type&outcome&from&to */
  audit: route(async (caller, { request }) => {
    const query = searchParams(request);
    const extras = extraParams(query, restContract.audit.query);
    const optionalId = (name: string) => {
      const value = singleParam(query, name);
      return value === undefined ? undefined : idOrInvalid(value);
    };
    const limitText = singleParam(query, "limit");
    const limit =
      limitText === undefined
        ? undefined
        : /^[0-9]{1,4}$/.test(limitText)
          ? Number(limitText)
          : Number.NaN;
    const filter = {
      limit,
      cursor: optionalId("cursor"),
      actorUserId: optionalId("actorUserId"),
      targetCoworkerId: optionalId("targetCoworkerId"),
      // Texts as given: the procedure's schema (shared with the export) refuses a bad one.
      person: singleParam(query, "person"),
      type: singleParam(query, "type"),
      outcome: singleParam(query, "outcome"),
      from: singleParam(query, "from"),
      to: singleParam(query, "to"),
    };
    const defined = Object.fromEntries(
      Object.entries(filter).filter(([, value]) => value !== undefined),
    );
    return json(await caller.audit.listEvents({ ...extras, ...defined }));
  }),

  /** GET /api/public/coworkers/access-history */
  accessHistory: route(async (caller) => json(await caller.profiles.accessHistory())),

  /** GET /api/sys/policy */
  getPolicy: route(async (caller) => json(await caller.policy.getPolicy())),

  /** PUT /api/sys/policy { …any subset of the fields } */
  updatePolicy: route(async (caller, input) => {
    const body = parseJsonObject(input.body, input.contentType);
    // The whole body: the procedure's strict schema refuses unknown fields and bad values.
    return json(await caller.policy.updatePolicy(body));
  }),

  /** GET /api/public/coworkers/support-access */
  supportAccess: route(async (caller) => json(await caller.supportAccess.listSupportAccess())),

  /** POST /api/public/coworkers/support-access { grantedTo, hours, mode } */
  grantSupportAccess: route(async (caller, input) => {
    const body = parseJsonObject(input.body, input.contentType);
    return json(
      await caller.supportAccess.grantSupportAccess(
        body as Parameters<typeof caller.supportAccess.grantSupportAccess>[0],
      ),
      201,
    );
  }),

  /** DELETE /api/public/coworkers/support-access/{grantId} */
  revokeSupportAccess: route(async (caller, { params }) => {
    await caller.supportAccess.revokeSupportAccess({ grantId: idOrInvalid(params?.grantId) });
    return noContent();
  }),

  /** POST /api/public/coworkers/support-access/sessions/{sessionId}/end */
  endSupportSession: route(async (caller, { params }) => {
    await caller.supportAccess.endImpersonation({ sessionId: params?.sessionId ?? "" });
    return noContent();
  }),

  /** GET /api/sys/impersonations */
  liveImpersonations: route(async (caller) => json(await caller.oversight.listImpersonations())),

  /** POST /api/sys/impersonations/{sessionId}/end */
  endImpersonation: route(async (caller, { params }) => {
    await caller.oversight.endImpersonation({ sessionId: params?.sessionId ?? "" });
    return noContent();
  }),

  /** POST /api/sys/users/reauthenticate { password, otp? } */
  reauthenticate: route(async (caller, input) => {
    const body = parseJsonObject(input.body, input.contentType);
    const password = typeof body.password === "string" ? body.password : "";
    // The whole body: the schema refuses unknown fields and a missing password (400).
    await caller.security.reauthenticate({ ...body, password });
    return noContent();
  }),

  /** POST /api/sys/users/otp/enroll */
  enrolOtp: route(async (caller) => json(await caller.security.enrolOtp())),

  /** POST /api/sys/users/otp/confirm { code } */
  confirmOtp: route(async (caller, input) => {
    const body = parseJsonObject(input.body, input.contentType);
    const code = typeof body.code === "string" ? body.code : "";
    await caller.security.confirmOtp({ ...body, code });
    return noContent();
  }),

  /** DELETE /api/sys/users/otp */
  removeOtp: route(async (caller) => {
    await caller.security.removeOtp();
    return noContent();
  }),

  /** GET /api/sys/impersonations/{sessionId}/actions */
  sessionActions: route(async (caller, { params }) =>
    json(
      await caller.impersonationActions.listSessionActions({ sessionId: params?.sessionId ?? "" }),
    ),
  ),

  /** GET /api/sys/audit/checkpoints?limit&cursor */
  auditCheckpoints: route(async (caller, { request }) => {
    const query = searchParams(request);
    const extras = extraParams(query, restContract.auditCheckpoints.query);
    return json(
      await caller.audit.listCheckpoints({
        ...extras,
        ...numberParams(query, restContract.auditCheckpoints.query),
      }),
    );
  }),

  /** GET /api/sys/audit/proof?seq=N&size=M */
  auditProof: route(async (caller, { request }) => {
    const query = searchParams(request);
    const extras = extraParams(query, restContract.auditProof.query);
    const { seq, size } = numberParams(query, restContract.auditProof.query);
    return json(await caller.audit.proof({ ...extras, seq: seq!, size: size! }));
  }),

  /** GET /api/sys/audit/export?format=csv|ndjson&… (streamed; audit-export.ts) */
  auditExport: ({ request, deps, meta }) =>
    auditExportAnswer({ deps, meta, ...credentialsOf(request), url: request.url }),

  /** GET /.well-known/jwks.json */
  jwks: (({ deps }) =>
    Promise.resolve(
      json(deps.signer.keys.jwks, 200, { "cache-control": "public, max-age=300" }),
    )) as Handler,

  /** GET /api/public/coworkers/notices */
  listNotices: route(async (caller) => json(await caller.notices.listNotices())),

  /** POST /api/public/coworkers/notices/{id}/read */
  markNoticeRead: route(async (caller, { params }) => {
    await caller.notices.markNoticeRead({ id: idOrInvalid(params?.id) });
    return noContent();
  }),

  /** GET /api/sys/webhooks */
  listWebhooks: route(async (caller) => json(await caller.webhooks.listWebhooks())),

  /** POST /api/sys/webhooks { url, events, format } */
  registerWebhook: route(async (caller, input) => {
    const body = parseJsonObject(input.body, input.contentType);
    return json(
      await caller.webhooks.registerWebhook(
        body as Parameters<typeof caller.webhooks.registerWebhook>[0],
      ),
      201,
    );
  }),

  /** DELETE /api/sys/webhooks/{id} */
  removeWebhook: route(async (caller, { params }) => {
    await caller.webhooks.removeWebhook({ id: idOrInvalid(params?.id) });
    return noContent();
  }),

  /** GET /api/sys/webhooks/{id}/deliveries */
  webhookDeliveries: route(async (caller, { params }) =>
    json(await caller.webhooks.listDeliveries({ id: idOrInvalid(params?.id) })),
  ),
} satisfies Record<string, Handler>;
