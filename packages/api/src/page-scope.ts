// What the server hands to the pages it lets Next render: the process's services, who is asking,
// and a way to say "this page could not be served". Next renders pages in the request's own
// asynchronous context, so the server runs Next's handler inside this scope and a server
// component reads it back; nothing is kept on globalThis. The pages load this package unbundled
// (the portal's src/server/service.ts), so the server and the pages share this one module, and
// with it the one set of services created at start.
import { AsyncLocalStorage } from "node:async_hooks";
import { type RequestMeta, type ServiceDeps } from "./services/deps";

export interface PageScope {
  deps: ServiceDeps;
  /** The request's client address, id and deadlines, as the server read them. */
  meta: RequestMeta;
  /** The page is answered 503: the service was unavailable while rendering it. */
  markUnavailable: () => void;
}

const pageScopes = new AsyncLocalStorage<PageScope>();

/** Runs `render` (Next's request handler) with `scope` readable by every page it renders. */
export function renderInPageScope<T>(scope: PageScope, render: () => T): T {
  return pageScopes.run(scope, render);
}

/** The scope of the page being rendered; only a request the server handed to Next has one. */
export function pageScope(): PageScope {
  const scope = pageScopes.getStore();
  if (!scope) throw new Error("No page scope: pages are rendered by the portal's server.");
  return scope;
}
