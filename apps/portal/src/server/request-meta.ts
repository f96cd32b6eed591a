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

/** The last entry of a comma-separated forwarding header: the one the nearest proxy wrote. */
const nearest = (value: string | null): string | null =>
  value?.split(",").at(-1)?.trim().toLowerCase() || null;

/**
 * `scheme://host` the request was sent to, as its client named it: the Host header, over plain
 * HTTP (this server does not terminate TLS). Only when the socket is a configured proxy are its
 * X-Forwarded-Proto and X-Forwarded-Host believed (the entry it wrote, the last). A DPoP proof's
 * `htu` must name this origin; null when it cannot be told (no Host, a scheme that is not http(s)).
 */
export function requestOrigin(header: HeaderLookup, trustedProxies: TrustedProxies): string | null {
  const peer = canonicalAddress(header(PEER_HEADER) ?? "");
  const viaProxy = peer !== null && trustedProxies.has(peer);
  const scheme = (viaProxy ? nearest(header("x-forwarded-proto")) : null) ?? "http";
  const host = (viaProxy ? nearest(header("x-forwarded-host")) : null) ?? header("host");
  if ((scheme !== "http" && scheme !== "https") || !host || !/^[A-Za-z0-9.:[\]-]+$/.test(host))
    return null;
  return `${scheme}://${host}`;
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
