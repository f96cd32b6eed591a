// The REST paths of CONTRACT §5, answered by server.ts itself with the handlers of
// @cowork/api/rest, before Next's router: on these paths Next's routing and request conversion
// cost more than the whole service (BENCHMARKS.md). Pages, tRPC and the ops endpoints stay in Next.
import type { IncomingMessage, ServerResponse } from "node:http";
import { DomainError, type ServiceDeps } from "@cowork/api";
import {
  bodyTooLarge,
  errorAnswer,
  matchRestRoute,
  MAX_BODY_BYTES,
  oauthAnswer,
  repeatedAuthorization,
  type RestAnswer,
  type RestCall,
  type RestMatch,
} from "@cowork/api/rest";
import { AUTHORIZATION_COUNT_HEADER } from "./peer-header";
import { requestMeta } from "./request-meta";
import { SECURITY_HEADERS } from "./security-headers";

type Handled = Extract<RestMatch, { kind: "handler" }>;

/** The body as text, at most 64 KiB (a larger one is refused before it is read whole). */
function readBody(req: IncomingMessage): Promise<string> {
  const declared = Number(req.headers["content-length"] ?? "0");
  if (declared > MAX_BODY_BYTES) return Promise.reject(bodyTooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > MAX_BODY_BYTES) {
        req.removeAllListeners("data");
        req.resume();
        reject(bodyTooLarge());
      } else chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function header(req: IncomingMessage, name: string): string | null {
  const value = req.headers[name];
  if (value === undefined) return null;
  return Array.isArray(value) ? value.join(", ") : value;
}

async function toCall(req: IncomingMessage, method: string): Promise<RestCall> {
  const hasBody = method !== "GET" && method !== "HEAD";
  return {
    method,
    url: req.url ?? "/",
    header: (name) => header(req, name.toLowerCase()),
    body: hasBody ? await readBody(req) : "",
  };
}

function write(res: ServerResponse, answer: RestAnswer, withBody: boolean): void {
  for (const { key, value } of SECURITY_HEADERS) res.setHeader(key, value);
  for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
  const body = answer.body === null ? null : Buffer.from(answer.body, "utf8");
  if (body) res.setHeader("content-length", body.byteLength);
  res.writeHead(answer.status);
  res.end(withBody && body ? body : undefined);
}

async function serve(req: IncomingMessage, res: ServerResponse, match: Handled, deps: ServiceDeps) {
  const method = req.method ?? "GET";
  let answer: RestAnswer;
  try {
    if (Number(req.headers[AUTHORIZATION_COUNT_HEADER]) > 1) throw repeatedAuthorization();
    const call = await toCall(req, method);
    answer = await match.handler({
      request: call,
      deps,
      meta: requestMeta(call.header, deps),
      params: match.params,
    });
  } catch (error) {
    // Only the body read throws here; the handlers answer every failure themselves.
    answer = errorAnswer(
      error instanceof DomainError
        ? error
        : new DomainError("invalid_request", "The request body could not be read."),
    );
  }
  write(res, match.oauth ? oauthAnswer(answer) : answer, method !== "HEAD");
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
      const answer: RestAnswer =
        req.method === "OPTIONS"
          ? { status: 204, headers: {}, body: null }
          : errorAnswer(
              new DomainError("method_not_allowed", `This path answers ${match.allow} only.`),
            );
      write(res, match.oauth ? oauthAnswer(answer) : answer, req.method !== "HEAD");
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
