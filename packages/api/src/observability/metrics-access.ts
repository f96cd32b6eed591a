// Who may scrape /api/metrics. With METRICS_TOKEN set: whoever sends it as a bearer token
// (compared in constant time). Without it: only clients on this machine (loopback), and never a
// request that came through a proxy, since a local proxy would make every client look local.
import { createHash, timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";
import { DomainError } from "../errors";

export interface MetricsRequest {
  /** The Authorization header as sent. */
  authorization: string | null;
  /** The client's address (the socket's, or the forwarded one from a trusted proxy). */
  clientAddress: string | null;
  /** True when the request carries forwarding headers (X-Forwarded-For, Forwarded, X-Real-IP). */
  forwarded: boolean;
}

const digest = (value: string) => createHash("sha256").update(value, "utf8").digest();

/** Constant-time comparison: hashing first makes the time independent of length and content. */
export function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

export function isLoopback(address: string | null): boolean {
  if (!address) return false;
  const plain = address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, "");
  if (isIP(plain) === 4) return plain.startsWith("127.");
  return isIP(plain) === 6 && /^(0{0,4}:){2,7}0{0,3}1$|^::1$/.test(plain);
}

/** Null when the scrape may proceed; else the refusal (401 without the right token, 403 not local). */
export function checkMetricsAccess(
  request: MetricsRequest,
  metricsToken: string | null,
): DomainError | null {
  if (metricsToken !== null) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.authorization ?? "");
    if (match?.[1] !== undefined && sameSecret(match[1], metricsToken)) return null;
    return new DomainError("unauthorized", "Send the metrics token as a bearer token.");
  }
  if (isLoopback(request.clientAddress) && !request.forwarded) return null;
  return new DomainError(
    "forbidden",
    "Metrics are served to this machine only (or set METRICS_TOKEN).",
  );
}
