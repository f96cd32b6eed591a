// One delivery's HTTP request, to the address outbound.ts checked: the socket connects to that
// address (the `lookup` the connection uses answers it), while the Host header and TLS (SNI and
// the certificate's name) keep the URL's host. Redirects are not followed (node's client never
// does: a 3xx is an answer like any other, and not a 2xx). A receiver that does not answer within
// `timeoutMs` fails the attempt.
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { type LookupFunction } from "node:net";
import { type OutboundAllowList, outboundTarget, type Resolve } from "../../outbound";

export interface PostOptions {
  allow: OutboundAllowList;
  resolve: Resolve;
  timeoutMs: number;
}

/** Answers the receiver's status; rejects when there was no answer (refused, unreachable, slow). */
export async function postMessage(
  url: URL,
  headers: Record<string, string>,
  body: string,
  options: PostOptions,
): Promise<number> {
  const target = await outboundTarget(url, options.allow, options.resolve);
  const lookup: LookupFunction | undefined = target
    ? (_host, lookupOptions, callback) => {
        // Node asks for every address (`all`) when it may race IPv4 and IPv6; one is checked.
        if (lookupOptions.all) callback(null, [target]);
        else callback(null, target.address, target.family);
      }
    : undefined;
  const send = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise<number>((resolve, reject) => {
    const request = send(
      url,
      {
        method: "POST",
        headers: { ...headers, "content-length": String(Buffer.byteLength(body)) },
        ...(lookup ? { lookup } : {}),
        signal: AbortSignal.timeout(options.timeoutMs),
        // No connection is kept for the next message: each is checked and connected anew.
        agent: false,
      },
      (response: IncomingMessage) => {
        // Only the status counts: the body is not read, so a receiver that sends one without end
        // holds nothing (the connection is not kept for another message anyway).
        resolve(response.statusCode ?? 0);
        response.destroy();
      },
    );
    request.on("error", (error: Error) =>
      reject(
        error.name === "AbortError" ? new Error(`no answer within ${options.timeoutMs} ms`) : error,
      ),
    );
    request.end(body);
  });
}
