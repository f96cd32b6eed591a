// Verifies this service's access tokens against its published JWKS, with the same pins as the
// service itself: EdDSA only, typ at+jwt, issuer, audience, required claims, bounded skew.
// A signature proves who issued the token, not that its session is still live: for decisions
// that must honour sign-out or revocation at once, ask the service (GET /api/sys/users/me).
import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from "jose";

export interface VerifiedAccessToken {
  userId: number;
  sessionId: string;
  /** Who is really acting, for an impersonated session (RFC 8693 `act`). */
  actorUserId: number | null;
  expiresAt: Date;
}

export interface TokenVerifierOptions {
  /** The service's AUTH_ISSUER, e.g. https://portal.example.com */
  issuer: string;
  /** Defaults to `${issuer}/.well-known/jwks.json`. */
  jwksUrl?: string;
  /** For tests: a key resolver instead of fetching the JWKS. */
  keys?: JWTVerifyGetKey;
}

export function createTokenVerifier(options: TokenVerifierOptions) {
  const issuer = options.issuer.replace(/\/+$/, "");
  const keys =
    options.keys ??
    createRemoteJWKSet(new URL(options.jwksUrl ?? `${issuer}/.well-known/jwks.json`));
  return async function verify(token: string): Promise<VerifiedAccessToken> {
    const { payload } = await jwtVerify(token, keys, {
      algorithms: ["EdDSA"],
      typ: "at+jwt",
      issuer,
      audience: `${issuer}/api`,
      requiredClaims: ["exp", "iat", "jti", "sub", "sid"],
      clockTolerance: 30,
    });
    const act = payload.act as { sub?: unknown } | undefined;
    if (typeof payload.sid !== "string" || (act !== undefined && typeof act.sub !== "string")) {
      throw new Error("access token claims are not valid");
    }
    return {
      userId: Number(payload.sub),
      sessionId: payload.sid,
      actorUserId: act ? Number(act.sub) : null,
      expiresAt: new Date(payload.exp! * 1000),
    };
  };
}
