// Who is asking: the client address (proxy-aware) and the request id, from the headers the
// server stamped (api-app.ts).
import {
  canonicalAddress,
  type RequestMeta,
  type ServiceDeps,
  type TrustedProxies,
} from "@cowork/api";
import { requestTimes, type RequestTimes } from "@cowork/api";
import { ARRIVED_HEADER, PEER_HEADER } from "./peer-header";

/** A request header by its lower-case name (Web Headers and node's headers alike). */
export type HeaderLookup = (name: string) => string | null;

/**
 * The client address in its one canonical text (RFC 5952; IPv4-mapped IPv6 as IPv4), since it
 * keys the sign-in limits and goes into the audit log: the socket's, or — only when the socket
 * is a configured proxy — the nearest X-Forwarded-For hop that is not itself a trusted proxy.
 */
export function clientAddress(header: HeaderLookup, trustedProxies: TrustedProxies): string | null {
  const peer = canonicalAddress(header(PEER_HEADER) ?? "");
  if (!peer) return null;
  if (!trustedProxies.has(peer)) return peer;
  const hops = (header("x-forwarded-for") ?? "")
    .split(",")
    .map((hop) => hop.trim())
    .filter(Boolean);
  for (let index = hops.length - 1; index >= 0; index--) {
    const hop = canonicalAddress(hops[index]!);
    // A hop that is not an address (a port, brackets, a name): the chain cannot be read past it.
    if (!hop) return peer;
    if (!trustedProxies.has(hop)) return hop;
  }
  return peer;
}

/**
 * The request's deadlines (services/deadline.ts), counted from when server.ts received it (it
 * stamps ARRIVED_HEADER, replacing whatever a client sent); from now when no time was stamped.
 */
export function requestTimesOf(header: HeaderLookup): RequestTimes {
  const arrived = Number(header(ARRIVED_HEADER) ?? Number.NaN);
  return requestTimes(Number.isSafeInteger(arrived) ? Math.min(arrived, Date.now()) : Date.now());
}

export function requestMeta(header: HeaderLookup, deps: ServiceDeps): RequestMeta {
  return {
    ip: clientAddress(header, deps.config.trustedProxies),
    requestId: header("x-request-id") ?? crypto.randomUUID(),
    ...requestTimesOf(header),
  };
}
