// A page the service could not serve because the database is unavailable answers 503, not 200:
// crawlers, monitors and proxies must not take the "temporarily unavailable" page for the page.
// Next's app router has no way for a server component to choose a 503 (only 404, 401, 403 and
// redirects), so the custom server, which hands the request to Next, sets it: the render marks
// its request here, and the status is replaced as Next writes the head. Pages render in full
// before their head is written (no Suspense boundary delays a page's own data), so a mark made
// while rendering comes in time. server.ts and the Next bundle are two module graphs: the state
// is on globalThis. Used inside and outside the Next bundle: no "server-only" here.
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";

/** Internal header naming a request Next renders; server.ts replaces whatever a client sent. */
export const RENDER_HEADER = "x-portal-render-id";

/** The open requests Next renders, by render id: whether the render found the service unavailable. */
const holder = globalThis as typeof globalThis & { __coworkPageRenders?: Map<string, boolean> };
const renders = (holder.__coworkPageRenders ??= new Map<string, boolean>());

/** server.ts: a request handed to Next answers 503 if its render says the service is unavailable. */
export function trackPageStatus(req: IncomingMessage, res: ServerResponse): void {
  const id = randomUUID();
  req.headers[RENDER_HEADER] = id;
  renders.set(id, false);
  const writeHead = res.writeHead.bind(res) as (
    status: number,
    ...rest: unknown[]
  ) => ServerResponse;
  // Every head goes through writeHead, an implicit one too (node calls it with statusCode).
  res.writeHead = (status: number, ...rest: unknown[]) => {
    // Redirects and client errors stand; a success or a failed render of an outage is a 503.
    const unavailable = renders.get(id) === true && (status < 300 || status >= 500);
    return writeHead(unavailable ? 503 : status, ...rest);
  };
  res.once("close", () => renders.delete(id));
}

/** The Next bundle: this render could not be served, the database being unavailable. */
export function markPageUnavailable(renderId: string | null): void {
  // Only a request still open, with an id server.ts handed out, can be marked.
  if (renderId && renders.has(renderId)) renders.set(renderId, true);
}
