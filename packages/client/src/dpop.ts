// DPoP (RFC 9449) for services that call the portal with sender-constrained tokens: a key pair
// in, a fresh proof made for every request (its method and URL, the token's hash, a new jti),
// so a token copied off the wire is useless without the private key. Plain jose and fetch:
// nothing of the server.
import {
  base64url,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  type JWK,
  SignJWT,
} from "jose";

export type DpopAlgorithm = "ES256" | "EdDSA";

/** The key a client proves possession of: its private half signs, its public half is sent. */
export interface DpopKey {
  alg: DpopAlgorithm;
  privateKey: CryptoKey;
  publicJwk: JWK;
  /** RFC 7638 SHA-256 thumbprint of the public key: what a bound token's `cnf.jkt` names. */
  thumbprint: string;
}

/** A DpopKey from a key pair the service already keeps (ES256 or Ed25519). */
export async function dpopKeyFrom(pair: CryptoKeyPair, alg: DpopAlgorithm): Promise<DpopKey> {
  const { kty, crv, x, y } = await exportJWK(pair.publicKey);
  const publicJwk: JWK = { kty, crv, x, ...(y === undefined ? {} : { y }) };
  return {
    alg,
    privateKey: pair.privateKey,
    publicJwk,
    thumbprint: await calculateJwkThumbprint(publicJwk, "sha256"),
  };
}

/** A new key pair for DPoP; the private key is not extractable. */
export async function createDpopKey(alg: DpopAlgorithm = "ES256"): Promise<DpopKey> {
  const pair = await generateKeyPair(alg, { extractable: false });
  // The public half is always exportable.
  return dpopKeyFrom(pair, alg);
}

const sha256Base64url = async (text: string) =>
  base64url.encode(
    new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text))),
  );

/**
 * One proof for one request (RFC 9449 §4.2): `htm` its method, `htu` its URL without query and
 * fragment, `iat` now, a fresh `jti`, and `ath` when it carries an access token.
 */
export async function createDpopProof(
  key: DpopKey,
  request: { method: string; url: string | URL; accessToken?: string | null },
): Promise<string> {
  const url = new URL(request.url);
  return new SignJWT({
    jti: crypto.randomUUID(),
    htm: request.method.toUpperCase(),
    htu: `${url.protocol}//${url.host}${url.pathname}`,
    iat: Math.floor(Date.now() / 1000),
    ...(request.accessToken ? { ath: await sha256Base64url(request.accessToken) } : {}),
  })
    .setProtectedHeader({ alg: key.alg, typ: "dpop+jwt", jwk: key.publicJwk })
    .sign(key.privateKey);
}

/**
 * A fetch that adds a fresh DPoP proof to every request it sends, for its final URL and method;
 * when the request carries `Authorization: DPoP <token>`, the proof names the token's hash.
 */
export function dpopFetch(key: DpopKey, base: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    const request = new Request(input, init);
    const authorization = /^DPoP (\S+)$/i.exec(request.headers.get("authorization") ?? "");
    const headers = new Headers(request.headers);
    headers.set(
      "dpop",
      await createDpopProof(key, {
        method: request.method,
        url: request.url,
        accessToken: authorization?.[1] ?? null,
      }),
    );
    return base(new Request(request, { headers }));
  };
}

export interface TokenRequest {
  /** The portal's origin, e.g. https://portal.example.com */
  baseUrl: string;
  username: string;
  password: string;
  /** With a key: the token is bound to it (token_type DPoP). */
  dpop?: DpopKey;
  fetch?: typeof fetch;
}

export interface IssuedToken {
  accessToken: string;
  tokenType: "Bearer" | "DPoP";
  expiresIn: number;
}

/** Signs in at POST /api/token (password grant); with `dpop`, the session is bound to the key. */
export async function requestToken(options: TokenRequest): Promise<IssuedToken> {
  const send = options.dpop ? dpopFetch(options.dpop, options.fetch) : (options.fetch ?? fetch);
  const response = await send(new URL("/api/token", options.baseUrl), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      grant_type: "password",
      username: options.username,
      password: options.password,
    }),
  });
  const body = (await response.json()) as {
    access_token?: string;
    token_type?: "Bearer" | "DPoP";
    expires_in?: number;
    error?: string;
    message?: string;
  };
  if (!response.ok || !body.access_token || !body.token_type) {
    throw new Error(
      `sign-in refused: ${response.status} ${body.error ?? ""} ${body.message ?? ""}`,
    );
  }
  return {
    accessToken: body.access_token,
    tokenType: body.token_type,
    expiresIn: body.expires_in ?? 0,
  };
}
