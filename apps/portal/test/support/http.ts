// Raw HTTP for the black-box suites: node:http rather than fetch, so a test controls every byte
// (duplicated headers, huge headers, odd content types) and sees every header of the answer.
import { Agent, request, type IncomingHttpHeaders, type OutgoingHttpHeaders } from "node:http";
import { expect } from "vitest";

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The parsed body, or undefined when it is not JSON. */
  json: unknown;
  /** Wall time of the exchange, in milliseconds. */
  ms: number;
  /** The request's path (with its query), so checks can know the route's dialect. */
  path?: string;
}

export interface CallOptions {
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string | null;
  /** A JSON body (sets the content type). */
  json?: unknown;
  /** A form body (sets the content type). */
  form?: Record<string, string>;
  /** A raw body, sent as given. */
  body?: string | Buffer;
  headers?: OutgoingHttpHeaders;
  agent?: Agent;
  /** The address to connect from/to: "127.0.0.1" (default) or "::1" (another client address). */
  host?: string;
  /** The request fails (rejects) when no answer came within this time. */
  timeoutMs?: number;
}

export interface Target {
  url: string;
}

const defaultAgent = new Agent({ keepAlive: true, maxSockets: 64 });

/** One HTTP request to a portal; never throws on an HTTP status, only on a transport failure. */
export function call(
  target: Target | string,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<Reply> {
  const base = new URL(typeof target === "string" ? target : target.url);
  const headers: OutgoingHttpHeaders = { host: base.host, ...options.headers };
  let body: Buffer | undefined;
  if (options.json !== undefined) {
    body = Buffer.from(JSON.stringify(options.json));
    headers["content-type"] ??= "application/json";
  } else if (options.form) {
    body = Buffer.from(new URLSearchParams(options.form).toString());
    headers["content-type"] ??= "application/x-www-form-urlencoded";
  } else if (options.body !== undefined) {
    body = Buffer.isBuffer(options.body) ? options.body : Buffer.from(options.body);
  }
  if (
    body &&
    headers["content-length"] === undefined &&
    headers["transfer-encoding"] === undefined
  ) {
    headers["content-length"] = body.length;
  }
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const started = performance.now();
  return new Promise<Reply>((resolve, reject) => {
    const req = request(
      {
        host: options.host ?? "127.0.0.1",
        port: Number(base.port),
        method,
        path,
        headers,
        agent: options.agent ?? defaultAgent,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", reject);
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json: unknown;
          try {
            json = text ? (JSON.parse(text) as unknown) : undefined;
          } catch {
            json = undefined;
          }
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            json,
            ms: performance.now() - started,
            path,
          });
        });
      },
    );
    req.setTimeout(options.timeoutMs ?? 20_000, () =>
      req.destroy(
        new Error(`no answer to ${method} ${path} within ${options.timeoutMs ?? 20_000} ms`),
      ),
    );
    req.on("error", reject);
    if (body) req.write(body);
    req.end();
  });
}

/** The body as an object, for reading fields (tests assert the shape separately). */
export function fields(reply: Reply): Record<string, unknown> {
  expect(typeof reply.json, `expected a JSON object, got: ${reply.text.slice(0, 200)}`).toBe(
    "object",
  );
  return reply.json as Record<string, unknown>;
}

/** Text that must never reach a client: stack frames, SQL, driver and library error codes. */
const LEAKS = [
  /\bat .+:\d+:\d+/, // stack frame
  /\n\s+at /,
  /\b(select|insert|update|delete)\b.+\b(from|into|set|where)\b/i,
  /\b(syntax error|relation "|violates|duplicate key|out of range for type)\b/i,
  /ERR_J[WO]/,
  /ECONNREFUSED|ECONNRESET|postgres|pglite|drizzle|zod|TRPCError|node_modules/i,
];

export function expectNoLeak(reply: Reply): void {
  for (const leak of LEAKS)
    expect(reply.text, `leaked ${String(leak)} in ${reply.status}`).not.toMatch(leak);
}

/**
 * CONTRACT §5: an error answers exactly `{ error, message }` with the given status and code,
 * a message for people, and nothing from inside the service.
 */
export function expectError(reply: Reply, status: number, code?: string): void {
  expect({ status: reply.status, body: reply.text.slice(0, 300) }).toMatchObject({ status });
  const body = fields(reply);
  if (isTokenEndpoint(reply)) {
    // RFC 6749 §5.2 as OAuth clients read it: error_description too, the same text.
    expect(Object.keys(body).sort()).toEqual(["error", "error_description", "message"]);
    expect(body.error_description).toBe(body.message);
    expect(reply.headers.pragma).toBe("no-cache");
    expect(reply.headers["cache-control"]).toMatch(/\bno-store\b/);
  } else {
    expect(Object.keys(body).sort()).toEqual(["error", "message"]);
  }
  expect(typeof body.error).toBe("string");
  expect(typeof body.message).toBe("string");
  expect((body.message as string).length).toBeGreaterThan(0);
  if (code) expect(body.error).toBe(code);
  expect(reply.headers["content-type"]).toMatch(/^application\/json/);
  expectNoLeak(reply);
}

/** Whether a reply is from POST /api/token, whose errors speak OAuth (CONTRACT §5). */
export const isTokenEndpoint = (reply: Reply) => reply.path?.split("?")[0] === "/api/token";

/** RFC 6749 §5.1: every answer that carries a token is never stored by a cache. */
export function expectNoStore(reply: Reply): void {
  expect(reply.headers["cache-control"]).toMatch(/\bno-store\b/);
  expect(reply.headers.location).toBeUndefined();
}

/** Runs the jobs with at most `limit` in flight; results keep the jobs' order. */
export async function pool<T>(jobs: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array<T>(jobs.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, jobs.length) }, async () => {
    for (let index = next++; index < jobs.length; index = next++)
      results[index] = await jobs[index]!();
  });
  await Promise.all(workers);
  return results;
}
