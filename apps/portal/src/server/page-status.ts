// A page the service could not serve because the database is unavailable answers 503, not 200:
// crawlers, monitors and proxies must not take the "temporarily unavailable" page for the page.
// Next's app router has no way for a server component to choose a 503 (only 404, 401, 403 and
// redirects), so the server, which hands the request to Next, sets it: the render says so through
// its page scope (@cowork/api page-scope.ts), and the status is replaced as Next writes the head.
// Pages render in full before their head is written (no Suspense boundary delays a page's own
// data), so a mark made while rendering comes in time.
import type { ServerResponse } from "node:http";

/** Watches `res` as Next writes it; returns the mark that makes its page a 503. */
export function trackPageStatus(res: ServerResponse): () => void {
  let unavailable = false;
  const writeHead = res.writeHead.bind(res) as (
    status: number,
    ...rest: unknown[]
  ) => ServerResponse;
  // Every head goes through writeHead, an implicit one too (node calls it with statusCode).
  res.writeHead = (status: number, ...rest: unknown[]) =>
    // Redirects and client errors stand; a success or a failed render of an outage is a 503.
    writeHead(unavailable && (status < 300 || status >= 500) ? 503 : status, ...rest);
  return () => {
    unavailable = true;
  };
}
