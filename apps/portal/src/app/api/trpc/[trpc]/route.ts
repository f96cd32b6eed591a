// /api/trpc/*: the typed door. Other services are authorized by their bearer header only and get
// tokens in the body; the portal UI (which marks its calls with BROWSER_CLIENT_HEADER, a header
// no cross-site form can send) by its session cookie, with an origin check on every POST.
import { appRouter, createContext, domainErrorOf, logFailure } from "@cowork/api";
import { bearerToken, errorResponse, readBody } from "@cowork/api/rest";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { BROWSER_CLIENT_HEADER, browserSession, sameOrigin } from "~/server/browser-session";
import { getServices, requestMeta } from "~/server/services";

export const dynamic = "force-dynamic";

async function handler(request: Request): Promise<Response> {
  let services;
  try {
    services = await getServices();
  } catch (error) {
    return errorResponse(domainErrorOf(error));
  }
  const { deps } = services;
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
    responseMeta: () => ({ headers: { "cache-control": "no-store" } }),
    // Bugs and outages are logged with the request id; the caller's own failures are answers only.
    onError: ({ error, path, type }) => {
      logFailure(error, request.headers.get("x-request-id"), { door: "trpc", path, type });
    },
  });
}

export { handler as GET, handler as POST };
