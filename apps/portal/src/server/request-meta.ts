// Who is asking: the client address (proxy-aware) and the request id, from the headers the
// custom server stamped. Used inside and outside the Next bundle: no "server-only" here.
import type { RequestMeta, ServiceDeps } from "@cowork/api";
import { isIP } from "node:net";
import { PEER_HEADER } from "./peer-header";

const normalize = (address: string) => address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, "");

/**
 * The client address: the socket's, or — only when the socket is a configured proxy — the
 * nearest X-Forwarded-For hop that is not itself a trusted proxy.
 */
export function clientAddress(
  headers: Headers,
  trustedProxies: ReadonlySet<string>,
): string | null {
  const peer = normalize(headers.get(PEER_HEADER) ?? "");
  if (!peer) return null;
  if (!trustedProxies.has(peer)) return peer;
  const hops = (headers.get("x-forwarded-for") ?? "")
    .split(",")
    .map((hop) => normalize(hop.trim()))
    .filter(Boolean);
  for (let index = hops.length - 1; index >= 0; index--) {
    const hop = hops[index]!;
    if (!isIP(hop)) return peer;
    if (!trustedProxies.has(hop)) return hop;
  }
  return peer;
}

export function requestMeta(headers: Headers, deps: ServiceDeps): RequestMeta {
  return {
    ip: clientAddress(headers, deps.config.trustedProxies),
    requestId: headers.get("x-request-id") ?? crypto.randomUUID(),
  };
}
