// Who is asking: the client address (proxy-aware) and the request id, from the headers the
// custom server stamped. Used inside and outside the Next bundle: no "server-only" here.
import type { RequestMeta, ServiceDeps } from "@cowork/api";
import { isIP } from "node:net";
import { PEER_HEADER } from "./peer-header";

/** A request header by its lower-case name (Web Headers and node's headers alike). */
export type HeaderLookup = (name: string) => string | null;

const normalize = (address: string) => address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, "");

/**
 * The client address: the socket's, or — only when the socket is a configured proxy — the
 * nearest X-Forwarded-For hop that is not itself a trusted proxy.
 */
export function clientAddress(
  header: HeaderLookup,
  trustedProxies: ReadonlySet<string>,
): string | null {
  const peer = normalize(header(PEER_HEADER) ?? "");
  if (!peer) return null;
  if (!trustedProxies.has(peer)) return peer;
  const hops = (header("x-forwarded-for") ?? "")
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

export function requestMeta(header: HeaderLookup, deps: ServiceDeps): RequestMeta {
  return {
    ip: clientAddress(header, deps.config.trustedProxies),
    requestId: header("x-request-id") ?? crypto.randomUUID(),
  };
}
