import "server-only";
// Server components call the router in-process, as the signed-in browser: same procedures,
// same checks, full types, no HTTP hop, with the services the server created at start (handed
// to the render through its page scope, @cowork/api page-scope.ts).
import { cookies } from "next/headers";
import { cache } from "react";
import { SESSION_COOKIE } from "~/server/browser-session";
import { service } from "~/server/service";

/**
 * One caller per request (React `cache`), so the session is resolved once per render. Every
 * wait is bounded by the request's answer time, as on the HTTP doors; whatever ends `unavailable`
 * (the session, any call) makes the page answer 503 (page-status.ts).
 * `sessionError` says the session could not be looked up: the page must not act as signed out.
 */
export const serverApi = cache(async () => {
  // Request data first: it marks the render as dynamic before anything touches the database
  // (a page must never be prerendered, with a database query, at build time).
  const token = (await cookies()).get(SESSION_COOKIE)?.value ?? null;
  const { createCaller, createContext, domainErrorOf, pageScope } = await service();
  const { deps, meta, markUnavailable } = pageScope();
  const noteFailure = (error: unknown) => {
    if (domainErrorOf(error).code === "unavailable") markUnavailable();
  };
  const context = await createContext({ deps, token, meta });
  if (context.sessionError) noteFailure(context.sessionError);
  return {
    api: createCaller(context, { onError: ({ error }) => noteFailure(error) }),
    session: context.session,
    sessionError: context.sessionError,
  };
});
