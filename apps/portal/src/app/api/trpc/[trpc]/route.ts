// /api/trpc/*: the typed door. Other services are authorized by their bearer header only and get
// tokens in the body; the portal UI (which marks its calls with BROWSER_CLIENT_HEADER, a header
// no cross-site form can send) by its session cookie, with an origin check on every POST.
import {
  appRouter,
  createContext,
  domainErrorOf,
  logFailure,
  toTRPCError,
  withinAnswerTime,
} from "@cowork/api";
import { bearerToken, errorResponse, readBody, repeatedAuthorization } from "@cowork/api/rest";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { BROWSER_CLIENT_HEADER, browserSession, sameOrigin } from "~/server/browser-session";
import { AUTHORIZATION_COUNT_HEADER } from "~/server/peer-header";
import { getServices, requestMeta, requestTimesOf } from "~/server/services";
import { refuseOversizedBatch } from "~/server/trpc-batch";

export const dynamic = "force-dynamic";

async function handler(request: Request): Promise<Response> {
  // Before anything runs: a batch over the cap is refused whole (CONTRACT §5).
  const oversized = refuseOversizedBatch(request);
  if (oversized) return oversized;
  let services;
  try {
    // Bounded like every wait of a request (the first call may load the keys from the database);
    // the procedures bound their own waits by the same answer time (trpc.ts, context.ts).
    services = await withinAnswerTime(
      requestTimesOf((name) => request.headers.get(name)),
      getServices(),
    );
  } catch (error) {
    // No services (the database is down at the first call): still tRPC's own error shape, with
    // the domain code, for every call of the batch; the body is not read (no input is needed).
    logFailure(error, request.headers.get("x-request-id"), { door: "trpc" });
    const failure = toTRPCError(domainErrorOf(error));
    return fetchRequestHandler({
      endpoint: "/api/trpc",
      req: new Request(request.url, { method: request.method, headers: request.headers }),
      router: appRouter,
      createContext: () => Promise.reject(failure),
      responseMeta: () => ({ headers: { "cache-control": "no-store" } }),
    });
  }
  const { deps } = services;
  // As on the REST door (rest-door.ts): which of two credentials is meant is not guessed.
  if (Number(request.headers.get(AUTHORIZATION_COUNT_HEADER)) > 1)
    return errorResponse(repeatedAuthorization());
  const bearer = request.headers.has("authorization");
  const fromBrowser = !bearer && request.headers.get(BROWSER_CLIENT_HEADER) === "web";
  // Every browser POST, signed in or not (sign-in itself must not be forgeable cross-site).
  if (fromBrowser && request.method === "POST" && !sameOrigin(request)) {
    return Response.json(
      { error: "forbidden", message: "Cross-site request refused." },
      { status: 403 },
    );
  }
  let req = request;
  if (request.method === "POST") {
    // Bodies are bounded here as on the REST door (64 KiB, else 413).
    try {
      req = new Request(request.url, {
        method: "POST",
        headers: request.headers,
        body: await readBody(request),
      });
    } catch (error) {
      return errorResponse(domainErrorOf(error));
    }
  }
  return fetchRequestHandler({
    endpoint: "/api/trpc",
    req,
    router: appRouter,
    createContext: ({ resHeaders }) => {
      const meta = requestMeta((name) => request.headers.get(name), deps);
      if (!fromBrowser)
        return createContext({
          deps,
          token: bearerToken(request.headers.get("authorization")),
          meta,
        });
      const browser = browserSession(
        request.headers.get("cookie"),
        resHeaders,
        deps.config.production,
      );
      return createContext({ deps, token: browser.sessionToken, meta, browser });
    },
    responseMeta: ({ errors, info }) => ({
      headers: {
        "cache-control": "no-store",
        // A request tRPC could not read (an unsupported Content-Type: 415) gets its JSON error
        // body without a Content-Type from the adapter, which Response then calls text/plain.
        ...(info ? {} : { "content-type": "application/json" }),
        // 405 names the method that works (RFC 9110 §15.5.6). tRPC takes only GET (queries) and
        // POST (mutations), so a procedure refusing this request's method takes the other one.
        ...(errors.some((error) => error.code === "METHOD_NOT_SUPPORTED")
          ? { allow: request.method === "GET" ? "POST" : "GET" }
          : {}),
      },
    }),
    // Bugs and outages are logged with the request id; the caller's own failures are answers only.
    onError: ({ error, path, type }) => {
      logFailure(error, request.headers.get("x-request-id"), { door: "trpc", path, type });
    },
  });
}

export { handler as GET, handler as POST };
