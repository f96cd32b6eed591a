// The portal's one HTTP application (Fastify): it owns every API path (the REST routes of the
// contract from their one table, /api/trpc through tRPC's Fastify adapter, health, ready,
// metrics, the OpenAPI document) and hands every other path, untouched, to Next, which serves
// pages only. Every request, whichever route answers it, is stamped with who sent it and when
// it arrived, carries the security headers, and gets one access log line and one latency sample
// labelled by its route pattern (never a raw path).
import { randomUUID } from "node:crypto";
import { type IncomingMessage, type ServerResponse, STATUS_CODES } from "node:http";
import { type Duplex, Readable } from "node:stream";
import {
  accessLogger,
  appRouter,
  type AppRouter,
  checkMetricsAccess,
  checkReadiness,
  createContext,
  credentialOf,
  dpopRequest,
  DomainError,
  logFailure,
  METRICS_CONTENT_TYPE,
  metrics,
  renderInPageScope,
  renderMetrics,
  scrub,
  type ServiceDeps,
} from "@cowork/api";
import {
  allowedMethods,
  auditExportAnswer,
  bodyTooLarge,
  errorAnswer,
  json,
  MAX_BODY_BYTES,
  oauthAnswer,
  openApiDocument,
  opsPaths,
  repeatedAuthorization,
  restRoutes,
  type RestAnswer,
  type RestRoute,
} from "@cowork/api/rest";
import {
  fastifyTRPCPlugin,
  type CreateFastifyContextOptions,
  type FastifyTRPCPluginOptions,
} from "@trpc/server/adapters/fastify";
import Fastify, {
  type FastifyContextConfig,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type HTTPMethods,
} from "fastify";
import { BROWSER_CLIENT_HEADER, browserSession, sameOrigin } from "./browser-session";
import { AUDIT_EXPORT_PATH } from "./download-paths";
import { trackPageStatus } from "./page-status";
import {
  ARRIVED_HEADER,
  AUTHORIZATION_COUNT_HEADER,
  FORWARDED_HEADER,
  FORWARDING_HEADERS,
  PEER_HEADER,
} from "./peer-header";
import { clientAddress, requestMeta, requestOrigin } from "./request-meta";
import { SECURITY_HEADERS } from "./security-headers";
import { oversizedBatch } from "./trpc-batch";

/** Hands a request Next should answer (a page, a static asset) to Next, untouched. */
export type PageHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;
/** Every method a REST path can be asked with; those it does not take answer 405 (or 204). */
const ALL_METHODS: HTTPMethods[] = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"];
/** The metric label of requests that no route matched (Next's 404). */
const UNMATCHED = "unmatched";
/** The metric label of the pages Next serves: one label, so raw paths never become labels. */
const PAGE = "page";

declare module "fastify" {
  interface FastifyContextConfig {
    /** The route's pattern as metrics and logs name it (the contract's `[name]` spelling). */
    label?: string;
    /** Answers in the OAuth dialect of /api/token. */
    oauth?: boolean;
  }
}

/** The header lookup request-meta.ts reads (lower-case names; repeated headers joined). */
const headerOf = (req: IncomingMessage) => (name: string) => {
  const value = req.headers[name];
  if (value === undefined) return null;
  return Array.isArray(value) ? value.join(", ") : value;
};

/**
 * Writes an answer. The body goes as bytes, so that its Content-Type stays as the route set it
 * (Fastify would add a charset to a JSON text; RFC 8259 defines none). Node sends no body for
 * HEAD, and keeps its length.
 */
const send = (reply: FastifyReply, answer: RestAnswer): FastifyReply => {
  reply.code(answer.status).headers(answer.headers);
  // A streamed body (the audit export) is piped: the next chunk is asked for only once the
  // socket has taken the last one, so a slow client holds back the database reads, not memory.
  if (answer.stream) return reply.send(Readable.from(answer.stream, { objectMode: false }));
  return reply.send(answer.body === null ? undefined : Buffer.from(answer.body, "utf8"));
};

/** What a body that could not be read becomes: 413 over 64 KiB, else 400. */
function bodyFailure(error: FastifyError): DomainError {
  if (error.code === "FST_ERR_CTP_BODY_TOO_LARGE") return bodyTooLarge();
  if (error.statusCode === 415) return new DomainError("invalid_request", error.message);
  return new DomainError("invalid_request", "The request body could not be read.");
}

/**
 * The stamp every request gets before any route sees it: the socket's address, whether it came
 * through a proxy, when it arrived, how many Authorization headers it had, and its request id.
 * Whatever a client sent in these internal headers is replaced. Next's pages read the same
 * headers (they see nothing else of the request).
 */
function stamp(req: IncomingMessage): string {
  req.headers[PEER_HEADER] = req.socket.remoteAddress ?? "";
  req.headers[ARRIVED_HEADER] = String(Date.now());
  req.headers[FORWARDED_HEADER] = FORWARDING_HEADERS.some((name) => name in req.headers)
    ? "1"
    : "0";
  // Node's parsed headers keep only the first Authorization: the raw list has them all.
  let authorizations = 0;
  for (let index = 0; index < req.rawHeaders.length; index += 2)
    if (req.rawHeaders[index]!.toLowerCase() === "authorization") authorizations++;
  req.headers[AUTHORIZATION_COUNT_HEADER] = String(authorizations);
  const incoming = req.headers["x-request-id"];
  const requestId =
    typeof incoming === "string" && REQUEST_ID.test(incoming) ? incoming : randomUUID();
  req.headers["x-request-id"] = requestId;
  return requestId;
}

/** One access log line and one latency sample per request, when its answer is done. */
function observe(request: FastifyRequest, reply: FastifyReply, requestId: string): void {
  const started = performance.now();
  const method = request.method;
  // The path alone: the query string is never logged, and nothing token-shaped either.
  const path = scrub((request.raw.url ?? "/").split("?")[0]!.slice(0, 512));
  const res = reply.raw;
  res.once("close", () => {
    const durationMs = performance.now() - started;
    const label = request.routeOptions.config.label;
    const route = label === PAGE && res.statusCode === 404 ? UNMATCHED : (label ?? UNMATCHED);
    metrics.observeRequest(route, method, res.statusCode, durationMs / 1000);
    accessLogger.info(
      {
        requestId,
        method,
        path,
        route,
        status: res.statusCode,
        durationMs: Math.round(durationMs * 10) / 10,
        ...(res.writableFinished ? {} : { aborted: true }),
      },
      "request",
    );
  });
}

/** /api/token speaks OAuth's dialect in every answer (RFC 6749 §5.1-5.2), its failures too. */
const dialect = (request: FastifyRequest, answer: RestAnswer) =>
  request.routeOptions.config.oauth ? oauthAnswer(answer) : answer;

/**
 * The path is ours but not the method: 405 naming the methods it takes in Allow (RFC 9110
 * §15.5.6), and 204 to OPTIONS. `allow` is the Allow header's value.
 */
function refuseOtherMethods(
  app: FastifyInstance,
  url: string,
  config: FastifyContextConfig,
  allow: string,
): void {
  const allowed = allow.split(", ");
  app.route({
    method: ALL_METHODS.filter((method) => method === "OPTIONS" || !allowed.includes(method)),
    url,
    config,
    exposeHeadRoute: false,
    handler: (request, reply) => {
      reply.header("allow", allow);
      const answer: RestAnswer =
        request.method === "OPTIONS"
          ? { status: 204, headers: {}, body: null }
          : errorAnswer(new DomainError("method_not_allowed", `This path answers ${allow} only.`));
      return send(reply, dialect(request, answer));
    },
  });
}

/** The REST routes of the contract, each from its one line in `restRoutes`. */
function restDoor(app: FastifyInstance, deps: ServiceDeps): void {
  // Every body is read as text (at most 64 KiB); each route parses its own media types.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "string", bodyLimit: MAX_BODY_BYTES }, (_, body, done) =>
    done(null, body),
  );
  app.setErrorHandler((error: FastifyError, request, reply) =>
    send(reply, dialect(request, errorAnswer(bodyFailure(error)))),
  );

  for (const route of restRoutes) {
    const url = route.pattern.replace(/\[(\w+)\]/g, ":$1");
    const config = { label: route.pattern, oauth: route.oauth === true };
    const taken = Object.keys(route.methods) as (keyof RestRoute["methods"])[];
    // HEAD is GET without the body (Fastify's HEAD route beside each GET), except where GET
    // mints: there HEAD is refused, since a HEAD must change nothing (RestRoute.getMints).
    const exposeHead = taken.includes("GET") && !route.getMints;
    for (const method of taken) {
      const handler = route.methods[method]!;
      app.route({
        method,
        url,
        config,
        exposeHeadRoute: method === "GET" && exposeHead,
        handler: async (request, reply) => {
          const raw = request.raw;
          const header = headerOf(raw);
          const answer =
            Number(raw.headers[AUTHORIZATION_COUNT_HEADER]) > 1
              ? errorAnswer(repeatedAuthorization())
              : await handler({
                  request: {
                    method: request.method,
                    url: raw.url ?? "/",
                    header: (name) => header(name.toLowerCase()),
                    body: typeof request.body === "string" ? request.body : "",
                    origin: requestOrigin(header, deps.config.trustedProxies),
                  },
                  deps,
                  meta: requestMeta(header, deps),
                  params: request.params as Record<string, string>,
                });
          return send(reply, dialect(request, answer));
        },
      });
    }
    refuseOtherMethods(app, url, config, allowedMethods(taken, route.getMints === true));
  }
}

/**
 * /api/trpc/*: the typed door. Other services are authorized by their bearer header only and
 * get tokens in the body; the portal UI (which marks its calls with BROWSER_CLIENT_HEADER, a
 * header no cross-site form can send) by its session cookie, with an origin check on every POST.
 */
function trpcDoor(app: FastifyInstance, deps: ServiceDeps): void {
  const refuse = (reply: FastifyReply, error: DomainError) => send(reply, errorAnswer(error));
  app.addHook("onRequest", async (request, reply) => {
    const raw = request.raw;
    // Before anything runs: a batch over the cap is refused whole (CONTRACT §5).
    const oversized = oversizedBatch(raw.url ?? "/");
    if (oversized) return refuse(reply, oversized);
    // As on the REST door: which of two credentials is meant is not guessed.
    if (Number(raw.headers[AUTHORIZATION_COUNT_HEADER]) > 1)
      return refuse(reply, repeatedAuthorization());
    const fromBrowser = isBrowserCall(raw);
    // Every browser POST, signed in or not (sign-in itself must not be forgeable cross-site).
    if (fromBrowser && request.method === "POST" && !sameOrigin(headerOf(raw)))
      return refuse(reply, new DomainError("forbidden", "Cross-site request refused."));
  });
  // Bodies of every media type reach tRPC as text (at most 64 KiB), so that tRPC itself answers a
  // body that is not JSON (415) in its own error shape.
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      "*",
      { parseAs: "string", bodyLimit: MAX_BODY_BYTES },
      (_, body, done) => done(null, body),
    );
    scope.setErrorHandler((error: FastifyError, request, reply) =>
      refuse(reply, bodyFailure(error)),
    );
    scope.addHook("onRoute", (options) => {
      options.config = { ...options.config, label: "/api/trpc/[trpc]" };
    });
    // 405 names the method that works (RFC 9110 §15.5.6): tRPC takes GET for queries and POST
    // for mutations, so a procedure that refused this request's method takes the other one.
    // The adapter answers with a Web Response, whose status Fastify applies after this hook.
    scope.addHook("onSend", (request, reply, payload, next) => {
      const status = payload instanceof Response ? payload.status : reply.statusCode;
      if (status === 405) reply.header("allow", request.method === "GET" ? "POST" : "GET");
      next(null, payload);
    });
    await scope.register(fastifyTRPCPlugin, {
      prefix: "/api/trpc",
      trpcOptions: {
        router: appRouter,
        createContext: ({ req, res }: CreateFastifyContextOptions) => {
          const header = headerOf(req.raw);
          const meta = requestMeta(header, deps);
          if (!isBrowserCall(req.raw)) {
            const authorization = header("authorization");
            return createContext({
              deps,
              token: credentialOf(authorization)?.token ?? null,
              meta,
              dpop: dpopRequest({
                method: req.method,
                url: req.raw.url ?? "/",
                origin: requestOrigin(header, deps.config.trustedProxies),
                authorization,
                proof: header("dpop"),
              }),
            });
          }
          const browser = browserSession(
            header("cookie"),
            (name, value) => void res.header(name, value),
            deps.config.production,
          );
          return createContext({ deps, token: browser.sessionToken, meta, browser });
        },
        responseMeta: ({ info }) => ({
          headers: {
            "cache-control": "no-store",
            // A request tRPC could not read (an unsupported Content-Type: 415) gets its JSON error
            // body without a Content-Type from the adapter.
            ...(info ? {} : { "content-type": "application/json" }),
          },
        }),
        // Bugs and outages are logged with the request id; the caller's own failures are answers.
        onError: ({ error, path, type, req }) => {
          logFailure(error, headerOf(req.raw)("x-request-id"), { door: "trpc", path, type });
        },
      },
    } satisfies FastifyTRPCPluginOptions<AppRouter>);
  });
}

const isBrowserCall = (req: IncomingMessage) =>
  req.headers.authorization === undefined && req.headers[BROWSER_CLIENT_HEADER] === "web";

/** Health, readiness, metrics and the OpenAPI document. */
function opsDoor(app: FastifyInstance, deps: ServiceDeps): void {
  for (const path of Object.values(opsPaths))
    refuseOtherMethods(app, path, { label: path }, allowedMethods(["GET"], false));
  app.get(opsPaths.health, { config: { label: opsPaths.health } }, (_, reply) =>
    send(reply, json({ status: "ok" })),
  );
  app.get(opsPaths.ready, { config: { label: opsPaths.ready } }, async (_, reply) => {
    const result = await checkReadiness(() => Promise.resolve(deps));
    return send(reply, json(result, result.status === "ok" ? 200 : 503));
  });
  app.get(opsPaths.metrics, { config: { label: opsPaths.metrics } }, async (request, reply) => {
    const header = headerOf(request.raw);
    const refusal = checkMetricsAccess(
      {
        authorization: header("authorization"),
        clientAddress: clientAddress(header, deps.config.trustedProxies),
        forwarded: header(FORWARDED_HEADER) !== "0",
      },
      deps.config.metricsToken,
    );
    if (refusal) return send(reply, errorAnswer(refusal));
    return reply
      .header("content-type", METRICS_CONTENT_TYPE)
      .header("cache-control", "no-store")
      .send(await renderMetrics(deps));
  });
  const document = json(openApiDocument(), 200, { "cache-control": "public, max-age=300" });
  app.get(opsPaths.openapi, { config: { label: opsPaths.openapi } }, (_, reply) =>
    send(reply, document),
  );
}

/**
 * The audit export for the browser: the same answer as GET /api/sys/audit/export, authorized by
 * the session cookie, since a link cannot send a bearer (REST paths never read cookies). It is a
 * GET that changes nothing, so no origin check; another site cannot read what it downloads.
 */
function browserDownloads(app: FastifyInstance, deps: ServiceDeps): void {
  app.get(AUDIT_EXPORT_PATH, { config: { label: AUDIT_EXPORT_PATH } }, async (request, reply) => {
    const header = headerOf(request.raw);
    const browser = browserSession(
      header("cookie"),
      (name, value) => void reply.header(name, value),
      deps.config.production,
    );
    return send(
      reply,
      await auditExportAnswer({
        deps,
        meta: requestMeta(header, deps),
        token: browser.sessionToken,
        dpop: null,
        url: request.raw.url ?? "/",
      }),
    );
  });
}

/** Every path no API route declares: Next's pages and assets, the raw request handed over whole. */
function pageDoor(app: FastifyInstance, deps: ServiceDeps, pages: PageHandler): void {
  app.register((scope, _, registered) => {
    // The body is Next's to read (a server action's form): Fastify leaves the stream alone.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", (_request, _payload, done) => done(null));
    scope.all("/*", { config: { label: PAGE } }, async (request, reply) => {
      reply.hijack();
      const markUnavailable = trackPageStatus(reply.raw);
      const meta = requestMeta(headerOf(request.raw), deps);
      await renderInPageScope({ deps, meta, markUnavailable }, () => pages(request.raw, reply.raw));
    });
    registered();
  });
}

/**
 * A request node could not parse (headers over the limit: 431; anything else: 400), answered in
 * the contract's error shape. The answer is ended, not followed by an immediate destroy: a
 * client still sending its oversized headers would otherwise get a reset instead of the answer
 * (closing a socket with unread input sends RST). What it still sends is read and dropped, and
 * the socket is destroyed a moment later whatever happens.
 */
function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  const overflow = error.code === "HPE_HEADER_OVERFLOW";
  const status = overflow ? 431 : 400;
  const body = JSON.stringify(
    overflow
      ? { error: "header_too_large", message: "The request headers are larger than 16 KiB." }
      : { error: "invalid_request", message: "The request could not be read." },
  );
  socket.on("data", () => undefined);
  if (socket.writable)
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  setTimeout(() => socket.destroy(), 1000).unref();
}

export interface ApiAppOptions {
  deps: ServiceDeps;
  /** Next's request handler; without it (tests of the API alone) other paths answer 404. */
  pages?: PageHandler;
}

export async function buildApiApp({ deps, pages }: ApiAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    // One access line per request is written by `observe`, in the service's own log format.
    logger: false,
    // Node's header limit as before; a request that never finishes arriving is dropped.
    http: { maxHeaderSize: 16 * 1024 },
    requestTimeout: 30_000,
    bodyLimit: MAX_BODY_BYTES,
    // A path parameter of any length reaches its route, whose schema refuses it with 400 (the
    // header limit bounds the URL); find-my-way's default would send a long one to Next's 404.
    routerOptions: { maxParamLength: 16 * 1024 },
    return503OnClosing: true,
    clientErrorHandler: answerClientError,
  });
  app.addHook("onRequest", (request, reply, next) => {
    const requestId = stamp(request.raw);
    for (const { key, value } of SECURITY_HEADERS) reply.raw.setHeader(key, value);
    reply.raw.setHeader("x-request-id", requestId);
    observe(request, reply, requestId);
    next();
  });
  app.register((scope, _, registered) => {
    restDoor(scope, deps);
    registered();
  });
  app.register((scope, _, registered) => {
    trpcDoor(scope, deps);
    registered();
  });
  opsDoor(app, deps);
  browserDownloads(app, deps);
  if (pages) pageDoor(app, deps, pages);
  await app.ready();
  return app;
}
