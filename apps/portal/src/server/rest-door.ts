// The REST paths of CONTRACT §5, answered by server.ts itself with the handlers of
// @cowork/api/rest, before Next's router: on these paths Next's routing and request conversion
// cost more than the whole service (BENCHMARKS.md). Pages, tRPC and the ops endpoints stay in Next.
import type { IncomingMessage, ServerResponse } from "node:http";
import { DomainError, type ServiceDeps } from "@cowork/api";
import { errorResponse, matchRestRoute, MAX_BODY_BYTES, type RestMatch } from "@cowork/api/rest";
import { requestMeta } from "./request-meta";
import { SECURITY_HEADERS } from "./security-headers";

type Handled = Extract<RestMatch, { kind: "handler" }>;

/** The body, at most 64 KiB (a larger one is refused before it is read whole). */
function readNodeBody(req: IncomingMessage): Promise<Uint8Array<ArrayBuffer>> {
  const declared = Number(req.headers["content-length"] ?? "0");
  if (declared > MAX_BODY_BYTES) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > MAX_BODY_BYTES) {
        req.removeAllListeners("data");
        req.resume();
        reject(tooLarge());
      } else chunks.push(chunk);
    });
    req.on("end", () => resolve(new Uint8Array(Buffer.concat(chunks))));
    req.on("error", reject);
  });
}

const tooLarge = () =>
  new DomainError("payload_too_large", "The request body is larger than 64 KiB.");

function toHeaders(req: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else headers.set(name, value);
  }
  return headers;
}

async function toRequest(req: IncomingMessage, method: string): Promise<Request> {
  const host = req.headers.host ?? "localhost";
  let url: string;
  try {
    url = new URL(req.url ?? "/", `http://${host}`).href;
  } catch {
    url = new URL(req.url ?? "/", "http://localhost").href;
  }
  const hasBody = method !== "GET" && method !== "HEAD";
  return new Request(url, {
    method,
    headers: toHeaders(req),
    ...(hasBody ? { body: await readNodeBody(req) } : {}),
  });
}

async function write(res: ServerResponse, response: Response, withBody: boolean): Promise<void> {
  const body = Buffer.from(await response.arrayBuffer());
  for (const { key, value } of SECURITY_HEADERS) res.setHeader(key, value);
  response.headers.forEach((value, name) => res.setHeader(name, value));
  if (body.byteLength > 0 || response.status !== 204)
    res.setHeader("content-length", body.byteLength);
  res.writeHead(response.status);
  res.end(withBody ? body : undefined);
}

async function serve(req: IncomingMessage, res: ServerResponse, match: Handled, deps: ServiceDeps) {
  const method = req.method ?? "GET";
  let response: Response;
  try {
    const request = await toRequest(req, method);
    response = await match.handler({
      request,
      deps,
      meta: requestMeta(request.headers, deps),
      params: match.params,
    });
  } catch (error) {
    // Only the body read throws here; the handlers answer every failure themselves.
    response = errorResponse(
      error instanceof DomainError
        ? error
        : new DomainError("invalid_request", "The request body could not be read."),
    );
  }
  await write(res, response, method !== "HEAD");
}

/**
 * Answers `req` when its path is a REST path and returns the route pattern it answered under
 * (for logs and metrics); returns null, touching nothing, for every other path.
 */
export function restDoor(deps: ServiceDeps) {
  return (req: IncomingMessage, res: ServerResponse, path: string): string | null => {
    const match = matchRestRoute(req.method ?? "GET", path);
    if (!match) return null;
    if (match.kind === "method") {
      res.setHeader("allow", match.allow);
      const response =
        req.method === "OPTIONS"
          ? new Response(null, { status: 204 })
          : errorResponse(
              new DomainError("method_not_allowed", `This path answers ${match.allow} only.`),
            );
      void write(res, response, req.method !== "HEAD");
      return match.pattern;
    }
    serve(req, res, match, deps).catch(() => {
      // The client went away mid-answer: nothing is left to tell it.
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
    return match.pattern;
  };
}
