// /api/trpc/*: the typed door. Bearer callers (other services) are authorized by the header only;
// the portal UI by its session cookie, with an origin check on every state-changing (POST) call.
import { appRouter, createContext, domainErrorOf, logFailure } from "@cowork/api";
import { bearerToken, errorResponse } from "@cowork/api/rest";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { browserSession, sameOrigin } from "~/server/browser-session";
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
  const cookieHeader = request.headers.get("cookie");
  // Every browser POST, signed in or not (sign-in itself must not be forgeable cross-site).
  if (!bearer && request.method === "POST" && !sameOrigin(request)) {
    return Response.json({ error: "forbidden", message: "Cross-site request refused." }, { status: 403 });
  }
  return fetchRequestHandler({
    endpoint: "/api/trpc",
    req: request,
    router: appRouter,
    createContext: ({ resHeaders }) => {
      const meta = requestMeta(request.headers, deps);
      if (bearer) return createContext({ deps, token: bearerToken(request), meta });
      const browser = browserSession(cookieHeader, resHeaders, deps.config.production);
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
