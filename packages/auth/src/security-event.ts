// Security Event Tokens (RFC 8417) for CAEP receivers: a compact JWS signed with the service's
// signing key, `typ: secevent+jwt` (RFC 8417 §2.3), so it can never pass for an access token or a
// checkpoint (each has its own typ, and a SET has no `exp` or `sub` an access token would need).
import { sign } from "node:crypto";
import { SIGNING_ALG } from "./keys";
import { type TokenSigner } from "./tokens";

export const SECURITY_EVENT_TYP = "secevent+jwt";

/** The CAEP event that a session was revoked (OpenID CAEP 1.0 §3.1). */
export const CAEP_SESSION_REVOKED =
  "https://schemas.openid.net/secevent/caep/event-type/session-revoked";

export interface SessionRevokedEvent {
  /** The session's id, as the receiver knows it (the `sid` of its tokens). */
  sessionId: string;
  /** When the session ended, in seconds. */
  eventTimestamp: number;
  /** Why, for the receiver's administrators (CAEP `reason_admin`). */
  reasonAdmin?: string;
}

const base64url = (text: string) => Buffer.from(text, "utf8").toString("base64url");

/**
 * Signs a SET with one CAEP session-revoked event for `audience` (the receiver's URL), with the
 * first key of the set. `jti` is the message's id: the same on every attempt to deliver it.
 */
export function signSessionRevoked(
  signer: TokenSigner,
  set: { jti: string; iat: number; audience: string; event: SessionRevokedEvent },
): string {
  const header = { alg: SIGNING_ALG, typ: SECURITY_EVENT_TYP, kid: signer.keys.signing.kid };
  const claims = {
    iss: signer.issuer,
    iat: set.iat,
    jti: set.jti,
    aud: set.audience,
    events: {
      [CAEP_SESSION_REVOKED]: {
        subject: { format: "opaque", id: set.event.sessionId },
        event_timestamp: set.event.eventTimestamp,
        ...(set.event.reasonAdmin ? { reason_admin: { en: set.event.reasonAdmin } } : {}),
      },
    },
  };
  const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  const signature = sign(null, Buffer.from(input), signer.keys.signing.privateKey);
  return `${input}.${signature.toString("base64url")}`;
}
