// The HTTP plumbing shared by every REST route: bearer parsing, bounded bodies, the error body
// of the contract, no-store on tokens, and the 5 s answer guarantee.
import { DomainError } from "../errors";
import { ANSWER_WITHIN_MS } from "../services/deadline";
import { logFailure } from "../observability/failures";
import { requestLogger } from "../observability/logger";

export const MAX_BODY_BYTES = 64 * 1024;
/**
 * The contract promises an answer (503 at worst) within 5 s. The procedures themselves give up at
 * the request's answer time (services/deadline.ts), and its writes at its SQL deadline; the timer
 * of `answer` is the backstop for whatever runs outside them.
 */
export { ANSWER_WITHIN_MS };

/**
 * A REST call as the server read it: plain data, so that the hot paths build no Web Request
 * (its Headers, AbortSignal and body stream cost more than the service's own work on `me`).
 */
export interface RestCall {
  method: string;
  /** The path and query string, as sent. */
  url: string;
  /** A header's value (repeated ones joined with ", "), or null. */
  header: (name: string) => string | null;
  /** The body as text, at most 64 KiB (read by the server); "" for GET and HEAD. */
  body: string;
  /**
   * `scheme://host` the request was sent to, as the server tells it (the Host header; behind a
   * trusted proxy its X-Forwarded-Proto and -Host): the `htu` a DPoP proof must name.
   */
  origin?: string | null;
}

/** What a REST route answers; the server writes it. */
export interface RestAnswer {
  status: number;
  headers: Record<string, string>;
  body: string | null;
  /**
   * A body too large to hold (the audit export), written as it is produced: the server pulls the
   * next chunk only when the client has taken the last one. `body` is null beside it.
   */
  stream?: AsyncIterable<string>;
}

/** The query parameters of a call. */
export const searchParams = (call: RestCall) => new URL(call.url, "http://portal").searchParams;

export function json(
  body: unknown,
  status = 200,
  headers: Record<string, string> = {},
): RestAnswer {
  return {
    status,
    headers: {
      // No charset parameter: RFC 8259 defines none for application/json (JSON is UTF-8), and
      // every other answer of the portal (Next's Response.json, tRPC's adapter) sends it bare.
      "content-type": "application/json",
      "cache-control": "no-store",
      ...headers,
    },
    body: JSON.stringify(body),
  };
}

export function noContent(): RestAnswer {
  return { status: 204, headers: { "cache-control": "no-store" }, body: null };
}

/** The contract's error body: `{ error, message }`, with Retry-After and WWW-Authenticate. */
export function errorAnswer(error: DomainError): RestAnswer {
  const headers: Record<string, string> = {};
  if (error.retryAfterS) headers["retry-after"] = String(error.retryAfterS);
  if (error.challenge) headers["www-authenticate"] = error.challenge;
  else if (error.status === 401) headers["www-authenticate"] = 'Bearer realm="portal"';
  return json({ error: error.code, message: error.message }, error.status, headers);
}

export const invalidRequest = (message: string) => new DomainError("invalid_request", message);

/**
 * Two Authorization headers: node keeps the first, a Web Headers object joins both, so the doors
 * would each pick a different credential. Neither guesses: RFC 6750 §3.1 calls more than one
 * credential in a request invalid_request (400), and both doors answer that.
 */
export const repeatedAuthorization = () =>
  invalidRequest("Send one Authorization header: this request has several.");

/** 413: the body is over MAX_BODY_BYTES (whichever server read it). */
export const bodyTooLarge = () =>
  new DomainError("payload_too_large", "The request body is larger than 64 KiB.");

/** A JSON object body (already read, with its Content-Type), or a 400. */
export function parseJsonObject(text: string, type: string): Record<string, unknown> {
  if (!/^application\/(.+\+)?json\b/i.test(type))
    throw invalidRequest("Send a JSON body (Content-Type: application/json).");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalidRequest("The body is not valid JSON.");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw invalidRequest("The body must be a JSON object.");
  return value as Record<string, unknown>;
}

/** A query parameter given at most once; a repeated one is ambiguous and refused. */
export function singleParam(query: URLSearchParams, name: string): string | undefined {
  const values = query.getAll(name);
  if (values.length > 1) throw invalidRequest(`Give ${name} only once.`);
  return values[0];
}

/**
 * Runs a route, mapping every failure to the contract's status and body; never hangs past 5 s.
 * Failures that are ours are logged with the request id.
 */
export async function answer(
  run: () => Promise<RestAnswer>,
  requestId?: string,
): Promise<RestAnswer> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<RestAnswer>((resolve) => {
    timer = setTimeout(() => {
      requestLogger(requestId).warn(
        { afterMs: ANSWER_WITHIN_MS },
        "no answer in time; answered 503",
      );
      resolve(
        errorAnswer(
          new DomainError(
            "unavailable",
            "The service is temporarily unavailable. Please try again shortly.",
          ),
        ),
      );
    }, ANSWER_WITHIN_MS);
  });
  try {
    return await Promise.race([
      run().catch((error: unknown) => failure(error, requestId)),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

// A schema's refusal becomes `Invalid <field>: …` in domainErrorOf, as on the tRPC door.
const failure = (error: unknown, requestId: string | undefined): RestAnswer =>
  errorAnswer(logFailure(error, requestId, { door: "rest" }));
