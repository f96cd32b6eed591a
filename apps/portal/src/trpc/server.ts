import "server-only";
// Server components call the router in-process, as the signed-in browser: same procedures,
// same checks, full types, no HTTP hop.
import { createCaller, createContext } from "@cowork/api";
import { cookies, headers } from "next/headers";
import { cache } from "react";
import { SESSION_COOKIE } from "~/server/browser-session";
import { getServices, requestMeta } from "~/server/services";

/** One caller per request (React `cache`), so the session is resolved once per render. */
export const serverApi = cache(async () => {
  // Request data first: it marks the render as dynamic before anything touches the database
  // (a page must never be prerendered, with a database query, at build time).
  const token = (await cookies()).get(SESSION_COOKIE)?.value ?? null;
  const requestHeaders = await headers();
  const { deps } = await getServices();
  const context = await createContext({
    deps,
    token,
    meta: requestMeta((name) => requestHeaders.get(name), deps),
  });
  return { api: createCaller(context), session: context.session };
});
