// Attacks on this service's JWTs: real tokens signed with generated keys, then forged, mangled,
// re-typed and re-timed. Every forged token is built with the real key unless the attack is the
// key itself, so a refusal can only come from the one defect under test.
import {
  createHmac,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomUUID,
  sign,
  type JsonWebKey,
} from "node:crypto";
import { createServer, type Server } from "node:http";
import { type AddressInfo } from "node:net";
import {
  CompactEncrypt,
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  FlattenedSign,
  GeneralSign,
  generateKeyPair,
  UnsecuredJWT,
  type JWK,
} from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generatePrivateJwk, loadKeySet, type KeySet, type PrivateJwk } from "./keys";
import {
  CLOCK_TOLERANCE_S,
  IMPERSONATION_TOKEN_MAX_S,
  InvalidTokenError,
  signToken,
  TOKEN_KINDS,
  type TokenSigner,
  verifyAccessToken,
  verifyImpersonationToken,
  verifyToken,
} from "./tokens";

const ISSUER = "https://portal.test";
const IMP_TYP = TOKEN_KINDS.impersonation.typ;
const IMP_AUD = TOKEN_KINDS.impersonation.audience(ISSUER);
const ACCESS_TYP = TOKEN_KINDS.access.typ;
const ACCESS_AUD = TOKEN_KINDS.access.audience(ISSUER);

// One fixed instant (whole seconds) for every verification, so no test depends on the wall clock.
const NOW_S = Math.floor(Date.now() / 1000);
const NOW = new Date(NOW_S * 1000);

let realJwk: PrivateJwk;
let keys: KeySet;
let signer: TokenSigner;
let attackerJwk: JWK;

beforeAll(async () => {
  realJwk = await generatePrivateJwk();
  keys = await loadKeySet([realJwk]);
  signer = { keys, issuer: ISSUER };
  const attacker = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
  attackerJwk = await exportJWK(attacker.privateKey);
});

type Json = Record<string, unknown>;

function encode(part: unknown): string {
  return Buffer.from(typeof part === "string" ? part : JSON.stringify(part)).toString("base64url");
}

function edSign(input: string, jwk: JWK): string {
  const key = createPrivateKey({ key: jwk as JsonWebKey, format: "jwk" });
  return sign(null, Buffer.from(input), key).toString("base64url");
}

/** A compact JWS over exactly this header and payload, with a real Ed25519 signature. */
function forge(header: Json, payload: unknown, jwk: JWK = realJwk): string {
  const input = `${encode(header)}.${encode(payload)}`;
  return `${input}.${edSign(input, jwk)}`;
}

function impHeader(overrides: Json = {}): Json {
  return { alg: "EdDSA", typ: IMP_TYP, kid: keys.signing.kid, ...overrides };
}

function impClaims(overrides: Json = {}): Json {
  return {
    iss: ISSUER,
    aud: IMP_AUD,
    sub: "4",
    coworker_id: 42,
    act: { sub: "2" },
    jti: randomUUID(),
    iat: NOW_S,
    exp: NOW_S + 60,
    ...overrides,
  };
}

function accessHeader(overrides: Json = {}): Json {
  return { alg: "EdDSA", typ: ACCESS_TYP, kid: keys.signing.kid, ...overrides };
}

function accessClaims(overrides: Json = {}): Json {
  return {
    iss: ISSUER,
    aud: ACCESS_AUD,
    sub: "2",
    sid: randomUUID(),
    jti: randomUUID(),
    iat: NOW_S,
    exp: NOW_S + 3600,
    ...overrides,
  };
}

function without(object: Json, ...names: string[]): Json {
  const copy = { ...object };
  for (const name of names) delete copy[name];
  return copy;
}

function segments(token: string): [string, string, string] {
  const [header = "", payload = "", signature = ""] = token.split(".");
  return [header, payload, signature];
}

const verifyImp = (token: string) => verifyImpersonationToken(signer, token, NOW);
const verifyAccess = (token: string) => verifyAccessToken(signer, token, NOW);

/** Awaits a verification that must fail and returns its InvalidTokenError. */
async function refusal(promise: Promise<unknown>, label = "token"): Promise<InvalidTokenError> {
  try {
    await promise;
  } catch (error) {
    expect(error, label).toBeInstanceOf(InvalidTokenError);
    return error as InvalidTokenError;
  }
  return expect.fail(`${label}: the token was accepted`);
}

async function reasonOf(promise: Promise<unknown>): Promise<string> {
  return (await refusal(promise)).reason;
}

describe("controls: tokens without a defect are accepted", () => {
  it("a forged impersonation token with the real key and correct claims verifies (the attacks below differ in one thing)", async () => {
    const claims = impClaims();
    await expect(verifyImp(forge(impHeader(), claims))).resolves.toEqual({
      sub: "4",
      coworker_id: 42,
      act: { sub: "2" },
      jti: claims.jti,
    });
  });

  it("a forged access token with the real key and correct claims verifies", async () => {
    const claims = accessClaims({ act: { sub: "1" } });
    await expect(verifyAccess(forge(accessHeader(), claims))).resolves.toEqual({
      sub: "2",
      sid: claims.sid,
      act: { sub: "1" },
    });
  });

  it("signToken issues an impersonation token with the contract's header and claims", async () => {
    const jti = randomUUID();
    const token = signToken(
      signer,
      "impersonation",
      { sub: "4", coworker_id: 42, act: { sub: "2" }, ro: true },
      { expiresAt: new Date((NOW_S + 60) * 1000), jti, now: NOW },
    );
    expect(decodeProtectedHeader(token)).toEqual({
      alg: "EdDSA",
      typ: IMP_TYP,
      kid: keys.signing.kid,
    });
    expect(decodeJwt(token)).toEqual({
      iss: ISSUER,
      aud: IMP_AUD,
      sub: "4",
      coworker_id: 42,
      act: { sub: "2" },
      ro: true,
      jti,
      iat: NOW_S,
      exp: NOW_S + 60,
    });
    await expect(verifyImp(token)).resolves.toEqual({
      sub: "4",
      coworker_id: 42,
      act: { sub: "2" },
      jti,
      ro: true,
    });
  });

  it("signToken's JWS is exactly what jose signs over the same header and claims", async () => {
    // Ed25519 signatures are deterministic, so the whole token must match byte for byte.
    const token = signToken(
      signer,
      "access",
      { sub: "2", sid: randomUUID(), act: { sub: "1" } },
      { expiresAt: new Date((NOW_S + 600) * 1000), now: NOW },
    );
    const [header, payload] = token.split(".");
    const byJose = await new FlattenedSign(Buffer.from(payload!, "base64url"))
      .setProtectedHeader(decodeProtectedHeader(token))
      .sign(keys.signing.privateKey);
    expect(byJose.protected).toBe(header);
    expect(`${byJose.protected}.${byJose.payload}.${byJose.signature}`).toBe(token);
  });

  it("signToken gives every token a fresh jti unless one is given", () => {
    const expiresAt = new Date((NOW_S + 600) * 1000);
    const first = signToken(
      signer,
      "access",
      { sub: "2", sid: randomUUID() },
      { expiresAt, now: NOW },
    );
    const second = signToken(
      signer,
      "access",
      { sub: "2", sid: randomUUID() },
      { expiresAt, now: NOW },
    );
    expect(decodeJwt(first).jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(decodeJwt(first).jti).not.toBe(decodeJwt(second).jti);
    expect(decodeProtectedHeader(first).typ).toBe(ACCESS_TYP);
    expect(decodeJwt(first).aud).toBe(ACCESS_AUD);
  });

  it("only a literal true makes a token read-only", async () => {
    const token = forge(impHeader(), impClaims({ ro: "true" }));
    expect(await verifyImp(token)).not.toHaveProperty("ro");
  });
});

describe("alg none", () => {
  const spellings = ["none", "None", "NONE", "nOnE"];

  for (const alg of spellings) {
    it(`refuses alg "${alg}" with an empty signature and with the original signature kept`, async () => {
      const valid = forge(impHeader(), impClaims());
      const [, payload, signature] = segments(valid);
      const header = encode(impHeader({ alg }));
      expect(await reasonOf(verifyImp(`${header}.${payload}.`))).toBe("malformed");
      expect(await reasonOf(verifyImp(`${header}.${payload}.${signature}`))).toBe("algorithm");
      // Same attack on the access-token door.
      const access = forge(accessHeader(), accessClaims());
      const [, accessPayload, accessSignature] = segments(access);
      const accessNone = encode(accessHeader({ alg }));
      expect(await reasonOf(verifyAccess(`${accessNone}.${accessPayload}.`))).toBe("malformed");
      expect(
        await reasonOf(verifyAccess(`${accessNone}.${accessPayload}.${accessSignature}`)),
      ).toBe("algorithm");
    });
  }

  it("refuses jose's own unsecured JWT", async () => {
    const unsecured = new UnsecuredJWT(impClaims()).encode();
    await refusal(verifyImp(unsecured));
  });

  it("refuses a missing, empty or non-string alg", async () => {
    const claims = impClaims();
    expect(await reasonOf(verifyImp(forge(without(impHeader(), "alg"), claims)))).toBe("algorithm");
    expect(await reasonOf(verifyImp(forge(impHeader({ alg: "" }), claims)))).toBe("algorithm");
    expect(await reasonOf(verifyImp(forge(impHeader({ alg: ["EdDSA"] }), claims)))).toBe(
      "algorithm",
    );
    expect(await reasonOf(verifyImp(forge(impHeader({ alg: "eddsa" }), claims)))).toBe("algorithm");
  });
});

describe("HMAC / asymmetric key confusion", () => {
  function hmacToken(
    alg: "HS256" | "HS384" | "HS512",
    secret: string | Buffer,
    header: Json = impHeader({ alg }),
  ): string {
    const input = `${encode(header)}.${encode(impClaims())}`;
    const digest = { HS256: "sha256", HS384: "sha384", HS512: "sha512" }[alg];
    return `${input}.${createHmac(digest, secret).update(input).digest("base64url")}`;
  }

  function secrets(): Record<string, string | Buffer> {
    const publicJwk = keys.jwks.keys[0]!;
    const pem = createPublicKey({ key: publicJwk as JsonWebKey, format: "jwk" }).export({
      type: "spki",
      format: "pem",
    });
    return {
      "raw public key bytes": Buffer.from(publicJwk.x!, "base64url"),
      "public JWK JSON": JSON.stringify(publicJwk),
      "public PEM": pem.toString(),
      "JWKS JSON": JSON.stringify(keys.jwks),
    };
  }

  for (const alg of ["HS256", "HS384", "HS512"] as const) {
    it(`refuses ${alg} signed with the public key in every encoding`, async () => {
      for (const [name, secret] of Object.entries(secrets())) {
        const token = hmacToken(alg, secret);
        expect(await reasonOf(verifyImp(token)), name).toBe("algorithm");
        expect(await reasonOf(verifyToken(signer, "impersonation", token, NOW)), name).toBe(
          "algorithm",
        );
      }
    });
  }

  it("refuses an HMAC signature presented under alg EdDSA", async () => {
    const token = hmacToken("HS256", Buffer.from(keys.jwks.keys[0]!.x!, "base64url"), impHeader());
    await refusal(verifyImp(token));
  });

  it("refuses ES256 and RS256 tokens signed by an attacker with the real kid", async () => {
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const es256Input = `${encode(impHeader({ alg: "ES256" }))}.${encode(impClaims())}`;
    const es256 = sign("sha256", Buffer.from(es256Input), {
      key: ec.privateKey,
      dsaEncoding: "ieee-p1363",
    }).toString("base64url");
    expect(await reasonOf(verifyImp(`${es256Input}.${es256}`))).toBe("algorithm");
    // An RSA signature is longer than any Ed25519 one, so the cheap format check already refuses it.
    const rs256Input = `${encode(impHeader({ alg: "RS256" }))}.${encode(impClaims())}`;
    const rs256 = sign("sha256", Buffer.from(rs256Input), rsa.privateKey).toString("base64url");
    expect(["algorithm", "malformed"]).toContain(
      await reasonOf(verifyImp(`${rs256Input}.${rs256}`)),
    );
  });
});

describe("attacker keys and key-pointing headers", () => {
  let server: Server;
  let requests = 0;
  let baseUrl = "";

  beforeAll(async () => {
    server = createServer((_request, response) => {
      requests += 1;
      response.setHeader("content-type", "application/json");
      response.end(JSON.stringify({ keys: [] }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("refuses a token signed by an attacker key that carries the real kid", async () => {
    const token = forge(impHeader(), impClaims(), attackerJwk);
    expect(await reasonOf(verifyImp(token))).toBe("ERR_JWS_SIGNATURE_VERIFICATION_FAILED");
    const access = forge(accessHeader(), accessClaims(), attackerJwk);
    expect(await reasonOf(verifyAccess(access))).toBe("ERR_JWS_SIGNATURE_VERIFICATION_FAILED");
  });

  it("refuses an embedded jwk header, even when it is the real public key and the real key signed", async () => {
    const attackerPublic = without(attackerJwk, "d");
    expect(
      await reasonOf(
        verifyImp(forge(impHeader({ jwk: attackerPublic }), impClaims(), attackerJwk)),
      ),
    ).toBe("header");
    expect(
      await reasonOf(verifyImp(forge(impHeader({ jwk: keys.jwks.keys[0] }), impClaims()))),
    ).toBe("header");
  });

  it("refuses jku, x5u, x5c, x5t headers and never fetches what they point at", async () => {
    const pointers: Json[] = [
      { jku: `${baseUrl}/jwks.json` },
      { x5u: `${baseUrl}/cert.pem` },
      { x5c: ["MIIBszCCAVmgAwIBAgIUQ"] },
      { x5t: "dGh1bWJwcmludA" },
      { "x5t#S256": "dGh1bWJwcmludA" },
    ];
    for (const pointer of pointers) {
      for (const jwk of [attackerJwk, realJwk]) {
        expect(
          await reasonOf(verifyImp(forge(impHeader(pointer), impClaims(), jwk))),
          JSON.stringify(pointer),
        ).toBe("header");
        expect(
          await reasonOf(verifyAccess(forge(accessHeader(pointer), accessClaims(), jwk))),
        ).toBe("header");
      }
    }
    // Give any stray request time to arrive before asserting none did.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(requests).toBe(0);
  });
});

describe("kid", () => {
  const cases: Record<string, unknown> = {
    unknown: "no-such-key",
    "path traversal": "../../../../dev/null",
    "SQL injection": "' OR '1'='1",
    "prototype key": "__proto__",
    "Object method": "constructor",
    empty: "",
    "a number": 1,
    "an array": ["x"],
    null: null,
  };

  for (const [name, kid] of Object.entries(cases)) {
    it(`refuses kid: ${name}`, async () => {
      expect(await reasonOf(verifyImp(forge(impHeader({ kid }), impClaims())))).toBe("unknown key");
    });
  }

  it("refuses an absent kid even with the real signature", async () => {
    expect(await reasonOf(verifyImp(forge(without(impHeader(), "kid"), impClaims())))).toBe(
      "unknown key",
    );
  });

  it("refuses a 10 KB kid before any lookup", async () => {
    expect(
      await reasonOf(verifyImp(forge(impHeader({ kid: "k".repeat(10 * 1024) }), impClaims()))),
    ).toBe("malformed");
  });

  it("refuses the real kid with different case or whitespace", async () => {
    expect(
      await reasonOf(verifyImp(forge(impHeader({ kid: ` ${keys.signing.kid}` }), impClaims()))),
    ).toBe("unknown key");
    expect(
      await reasonOf(
        verifyImp(forge(impHeader({ kid: keys.signing.kid.toUpperCase() + "x" }), impClaims())),
      ),
    ).toBe("unknown key");
  });
});

describe("crit and other processing headers", () => {
  it("refuses crit, even for an extension that is present", async () => {
    expect(
      await reasonOf(verifyImp(forge(impHeader({ crit: ["x-foo"], "x-foo": 1 }), impClaims()))),
    ).toBe("header");
    expect(
      await reasonOf(verifyImp(forge(impHeader({ crit: ["b64"], b64: false }), impClaims()))),
    ).toBe("header");
    expect(await reasonOf(verifyImp(forge(impHeader({ crit: [] }), impClaims())))).toBe("header");
  });

  it("refuses JWE-only headers (enc, zip) on a signed token", async () => {
    expect(await reasonOf(verifyImp(forge(impHeader({ zip: "DEF" }), impClaims())))).toBe("header");
    expect(await reasonOf(verifyImp(forge(impHeader({ enc: "A256GCM" }), impClaims())))).toBe(
      "header",
    );
  });
});

describe("typ", () => {
  it("refuses an absent typ, JWT, and the other kind's typ", async () => {
    for (const typ of [undefined, "JWT", "jwt", ACCESS_TYP, "", "cowork-impersonation"]) {
      const header = typ === undefined ? without(impHeader(), "typ") : impHeader({ typ });
      expect(await reasonOf(verifyImp(forge(header, impClaims()))), String(typ)).toBe(
        "ERR_JWT_CLAIM_VALIDATION_FAILED",
      );
    }
    for (const typ of [undefined, "JWT", IMP_TYP]) {
      const header = typ === undefined ? without(accessHeader(), "typ") : accessHeader({ typ });
      expect(await reasonOf(verifyAccess(forge(header, accessClaims()))), String(typ)).toBe(
        "ERR_JWT_CLAIM_VALIDATION_FAILED",
      );
    }
  });

  it("compares typ case-insensitively and without the application/ prefix (RFC 7515 §4.1.9)", async () => {
    await expect(
      verifyImp(forge(impHeader({ typ: IMP_TYP.toUpperCase() }), impClaims())),
    ).resolves.toMatchObject({ sub: "4" });
    await expect(
      verifyImp(forge(impHeader({ typ: `application/${IMP_TYP}` }), impClaims())),
    ).resolves.toMatchObject({ sub: "4" });
  });
});

describe("issuer and audience", () => {
  it("refuses a wrong or missing iss", async () => {
    for (const claims of [
      impClaims({ iss: "https://evil.test" }),
      impClaims({ iss: `${ISSUER}/` }),
      without(impClaims(), "iss"),
    ]) {
      expect(await reasonOf(verifyImp(forge(impHeader(), claims)))).toBe(
        "ERR_JWT_CLAIM_VALIDATION_FAILED",
      );
    }
  });

  it("refuses a wrong, missing, or other-kind aud", async () => {
    for (const claims of [
      impClaims({ aud: ACCESS_AUD }),
      impClaims({ aud: ["https://other"] }),
      impClaims({ aud: ISSUER }),
      without(impClaims(), "aud"),
    ]) {
      expect(await reasonOf(verifyImp(forge(impHeader(), claims)))).toBe(
        "ERR_JWT_CLAIM_VALIDATION_FAILED",
      );
    }
    expect(
      await reasonOf(verifyAccess(forge(accessHeader(), accessClaims({ aud: IMP_AUD })))),
    ).toBe("ERR_JWT_CLAIM_VALIDATION_FAILED");
  });

  it("refuses tokens of a signer with the same keys but another issuer", async () => {
    const other: TokenSigner = { keys, issuer: "https://other-portal.test" };
    const token = signToken(
      other,
      "impersonation",
      { sub: "4", coworker_id: 42, act: { sub: "2" } },
      {
        expiresAt: new Date((NOW_S + 60) * 1000),
        jti: randomUUID(),
        now: NOW,
      },
    );
    await refusal(verifyImp(token));
  });
});

describe("required claims", () => {
  for (const claim of ["exp", "iat", "jti", "sub"]) {
    it(`refuses an impersonation token and an access token without ${claim}`, async () => {
      expect(await reasonOf(verifyImp(forge(impHeader(), without(impClaims(), claim))))).toBe(
        "ERR_JWT_CLAIM_VALIDATION_FAILED",
      );
      expect(
        await reasonOf(verifyAccess(forge(accessHeader(), without(accessClaims(), claim)))),
      ).toBe("ERR_JWT_CLAIM_VALIDATION_FAILED");
    });
  }

  it("refuses an impersonation token without act or coworker_id, or with may_act in place of act", async () => {
    expect(await reasonOf(verifyImp(forge(impHeader(), without(impClaims(), "act"))))).toBe(
      "claims",
    );
    expect(await reasonOf(verifyImp(forge(impHeader(), without(impClaims(), "coworker_id"))))).toBe(
      "claims",
    );
    expect(
      await reasonOf(
        verifyImp(forge(impHeader(), { ...without(impClaims(), "act"), may_act: { sub: "2" } })),
      ),
    ).toBe("claims");
  });

  it("refuses malformed sub, jti and coworker_id values", async () => {
    for (const sub of [4, "0", "04", "4abc", "-4", "", "12345678901", "1e3"]) {
      expect(
        await reasonOf(verifyImp(forge(impHeader(), impClaims({ sub })))),
        JSON.stringify(sub),
      ).toBe("claims");
    }
    expect(await reasonOf(verifyImp(forge(impHeader(), impClaims({ jti: 7 }))))).toBe("claims");
    expect(await reasonOf(verifyImp(forge(impHeader(), impClaims({ jti: "not-a-uuid" }))))).toBe(
      "claims",
    );
    // Beyond PostgreSQL's integer: a signed token naming such an id is refused, not queried.
    for (const sub of ["2147483648", "9999999999"]) {
      expect(await reasonOf(verifyImp(forge(impHeader(), impClaims({ sub })))), sub).toBe("claims");
      expect(
        await reasonOf(verifyImp(forge(impHeader(), impClaims({ act: { sub } })))),
        `act.sub ${sub}`,
      ).toBe("act");
      expect(
        await reasonOf(verifyAccess(forge(accessHeader(), accessClaims({ sub })))),
        `access ${sub}`,
      ).toBe("claims");
    }
    await expect(
      verifyImp(forge(impHeader(), impClaims({ sub: "2147483647", coworker_id: 2_147_483_647 }))),
    ).resolves.toMatchObject({ sub: "2147483647", coworker_id: 2_147_483_647 });
    for (const coworkerId of ["42", 0, -1, 1.5, null, [42], 2_147_483_648, 1e300]) {
      expect(
        await reasonOf(verifyImp(forge(impHeader(), impClaims({ coworker_id: coworkerId })))),
        JSON.stringify(coworkerId),
      ).toBe("claims");
    }
  });

  it("refuses an access token whose sid is missing or not a session id", async () => {
    for (const sid of [undefined, "", "../../sessions", 42, "x".repeat(36), "-".repeat(36)]) {
      const claims = sid === undefined ? without(accessClaims(), "sid") : accessClaims({ sid });
      expect(await reasonOf(verifyAccess(forge(accessHeader(), claims))), String(sid)).toBe(
        "claims",
      );
    }
  });

  it("refuses time claims that are not numbers", async () => {
    await refusal(verifyImp(forge(impHeader(), impClaims({ exp: String(NOW_S + 60) }))));
    await refusal(verifyImp(forge(impHeader(), impClaims({ iat: String(NOW_S) }))));
    await refusal(verifyImp(forge(impHeader(), impClaims({ nbf: "now" }))));
  });

  it("refuses a payload that is not a JSON object", async () => {
    for (const payload of ["just text", [impClaims()], 42, null]) {
      await refusal(
        verifyImp(forge(impHeader(), JSON.stringify(payload))),
        JSON.stringify(payload),
      );
    }
    const [header] = segments(forge(impHeader(), impClaims()));
    const input = `${header}.${Buffer.from("{not json").toString("base64url")}`;
    await refusal(verifyImp(`${input}.${edSign(input, realJwk)}`));
  });
});

describe("lifetime and clock skew", () => {
  it(`caps impersonation tokens at ${IMPERSONATION_TOKEN_MAX_S} s`, async () => {
    await expect(
      verifyImp(forge(impHeader(), impClaims({ exp: NOW_S + 300 }))),
    ).resolves.toMatchObject({ sub: "4" });
    expect(await reasonOf(verifyImp(forge(impHeader(), impClaims({ exp: NOW_S + 301 }))))).toBe(
      "lifetime",
    );
    expect(await reasonOf(verifyImp(forge(impHeader(), impClaims({ exp: NOW_S + 3600 }))))).toBe(
      "lifetime",
    );
    // An old iat with a fresh exp is a long lifetime too.
    expect(
      await reasonOf(
        verifyImp(forge(impHeader(), impClaims({ iat: NOW_S - 10_000, exp: NOW_S + 30 }))),
      ),
    ).toBe("lifetime");
  });

  it("caps access tokens at the session lifetime", async () => {
    await expect(
      verifyAccess(forge(accessHeader(), accessClaims({ exp: NOW_S + 12 * 3600 }))),
    ).resolves.toMatchObject({ sub: "2" });
    expect(
      await reasonOf(
        verifyAccess(forge(accessHeader(), accessClaims({ exp: NOW_S + 12 * 3600 + 1 }))),
      ),
    ).toBe("lifetime");
  });

  it("refuses nbf in the future beyond the tolerance and accepts it within", async () => {
    const tolerance = CLOCK_TOLERANCE_S;
    expect(
      await reasonOf(verifyImp(forge(impHeader(), impClaims({ nbf: NOW_S + tolerance + 5 })))),
    ).toBe("ERR_JWT_CLAIM_VALIDATION_FAILED");
    await expect(
      verifyImp(forge(impHeader(), impClaims({ nbf: NOW_S + tolerance - 5 }))),
    ).resolves.toMatchObject({ sub: "4" });
  });

  it("refuses iat in the future beyond the tolerance and accepts it within", async () => {
    const tolerance = CLOCK_TOLERANCE_S;
    const future = NOW_S + tolerance + 5;
    expect(
      await reasonOf(verifyImp(forge(impHeader(), impClaims({ iat: future, exp: future + 60 })))),
    ).toBe("issued in the future");
    const within = NOW_S + tolerance - 5;
    await expect(
      verifyImp(forge(impHeader(), impClaims({ iat: within, exp: within + 60 }))),
    ).resolves.toMatchObject({ sub: "4" });
    expect(
      await reasonOf(
        verifyAccess(forge(accessHeader(), accessClaims({ iat: future, exp: future + 60 }))),
      ),
    ).toBe("issued in the future");
  });

  it("refuses a token expired beyond the tolerance, with its claims for the record", async () => {
    const tolerance = CLOCK_TOLERANCE_S;
    const claims = impClaims({ iat: NOW_S - 100, exp: NOW_S - tolerance - 1 });
    const error = await refusal(verifyImp(forge(impHeader(), claims)));
    expect(error.reason).toBe("expired");
    expect(error.expiredPayload).toMatchObject({ jti: claims.jti, sub: "4" });
  });

  it("accepts a token expired within the tolerance", async () => {
    const tolerance = CLOCK_TOLERANCE_S;
    await expect(
      verifyImp(forge(impHeader(), impClaims({ iat: NOW_S - 60, exp: NOW_S - tolerance + 1 }))),
    ).resolves.toMatchObject({ sub: "4" });
    await expect(
      verifyAccess(
        forge(accessHeader(), accessClaims({ iat: NOW_S - 60, exp: NOW_S - tolerance + 1 })),
      ),
    ).resolves.toMatchObject({ sub: "2" });
  });

  it("hands out claims of an expired token only when its signature is genuine", async () => {
    const claims = impClaims({ iat: NOW_S - 100, exp: NOW_S - 60 });
    const forged = await refusal(verifyImp(forge(impHeader(), claims, attackerJwk)));
    expect(forged.reason).not.toBe("expired");
    expect(forged.expiredPayload).toBeUndefined();
    const wrongType = await refusal(verifyImp(forge(impHeader({ typ: ACCESS_TYP }), claims)));
    expect(wrongType.expiredPayload).toBeUndefined();
  });

  it("uses the real clock when no time is given", async () => {
    const fresh = Math.floor(Date.now() / 1000);
    await expect(
      verifyImpersonationToken(
        signer,
        forge(impHeader(), impClaims({ iat: fresh, exp: fresh + 60 })),
      ),
    ).resolves.toMatchObject({ sub: "4" });
    const old = fresh - 3600;
    expect(
      await reasonOf(
        verifyImpersonationToken(
          signer,
          forge(impHeader(), impClaims({ iat: old, exp: old + 60 })),
        ),
      ),
    ).toBe("expired");
  });
});

describe("tampering with a genuine token", () => {
  function genuine(): string {
    return signToken(
      signer,
      "impersonation",
      { sub: "4", coworker_id: 42, act: { sub: "2" } },
      {
        expiresAt: new Date((NOW_S + 60) * 1000),
        jti: randomUUID(),
        now: NOW,
      },
    );
  }

  function withPayload(token: string, change: (payload: Json) => Json): string {
    const [header, payload, signature] = segments(token);
    const decoded = JSON.parse(Buffer.from(payload, "base64url").toString()) as Json;
    return `${header}.${encode(change(decoded))}.${signature}`;
  }

  it("refuses sub, act.sub, coworker_id, exp and aud changes under the original signature", async () => {
    const token = genuine();
    await expect(verifyImp(token)).resolves.toMatchObject({ sub: "4" });
    const changes: Record<string, (payload: Json) => Json> = {
      sub: (p) => ({ ...p, sub: "5" }),
      "act.sub": (p) => ({ ...p, act: { sub: "1" } }),
      coworker_id: (p) => ({ ...p, coworker_id: 43 }),
      exp: (p) => ({ ...p, exp: (p.exp as number) + 3600 }),
      aud: (p) => ({ ...p, aud: ACCESS_AUD }),
      "an added claim": (p) => ({ ...p, ro: true }),
    };
    for (const [name, change] of Object.entries(changes)) {
      expect(await reasonOf(verifyImp(withPayload(token, change))), name).toBe(
        "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
      );
    }
  });

  it("refuses a header change under the original signature", async () => {
    const token = genuine();
    const [, payload, signature] = segments(token);
    const reordered = encode({ typ: IMP_TYP, alg: "EdDSA", kid: keys.signing.kid });
    expect(await reasonOf(verifyImp(`${reordered}.${payload}.${signature}`))).toBe(
      "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
    );
  });

  it("refuses a mangled signature", async () => {
    const token = genuine();
    const [header, payload, signature] = segments(token);
    const bytes = Buffer.from(signature, "base64url");
    const flipped = Buffer.from(bytes);
    flipped[10] = flipped[10]! ^ 0x01;
    const variants: Record<string, string> = {
      "signature removed": `${header}.${payload}.`,
      "two segments": `${header}.${payload}`,
      "truncated by one character": `${header}.${payload}.${signature.slice(0, -1)}`,
      "truncated to half": `${header}.${payload}.${signature.slice(0, 43)}`,
      "one bit flipped": `${header}.${payload}.${flipped.toString("base64url")}`,
      "standard base64 with padding": `${header}.${payload}.${bytes.toString("base64")}`,
      "a fourth segment": `${token}.${signature}`,
      "an empty fourth segment": `${token}.`,
      "leading whitespace": ` ${token}`,
      "trailing whitespace": `${token} `,
      "trailing newline": `${token}\n`,
      "whitespace inside": `${header}.${payload} .${signature}`,
      "another token's signature": `${header}.${payload}.${segments(forge(impHeader(), impClaims()))[2]}`,
      empty: "",
    };
    for (const [name, variant] of Object.entries(variants)) {
      await refusal(verifyImp(variant), name);
    }
  });
});

describe("size and serialization", () => {
  for (const [name, size] of [
    ["8 KB", 8 * 1024],
    ["64 KB", 64 * 1024],
    ["1 MB", 1024 * 1024],
  ] as const) {
    it(`refuses a ${name} token fast, before any signature work`, async () => {
      const token = forge(impHeader(), impClaims({ pad: "a".repeat(size) }));
      expect(token.length).toBeGreaterThan(size);
      const started = performance.now();
      expect(await reasonOf(verifyImp(token))).toBe("malformed");
      expect(await reasonOf(verifyAccess(token))).toBe("malformed");
      expect(performance.now() - started).toBeLessThan(100);
    });
  }

  it("refuses a JSON-serialized JWS of a token that would otherwise verify", async () => {
    const payload = new TextEncoder().encode(JSON.stringify(impClaims()));
    const key = keys.signing.privateKey;
    const flattened = await new FlattenedSign(payload).setProtectedHeader(impHeader()).sign(key);
    const general = await new GeneralSign(payload)
      .addSignature(key)
      .setProtectedHeader(impHeader())
      .sign();
    expect(await reasonOf(verifyImp(JSON.stringify(flattened)))).toBe("malformed");
    expect(await reasonOf(verifyImp(JSON.stringify(general)))).toBe("malformed");
    // The same parts in compact form do verify: only the serialization is refused.
    await expect(
      verifyImp(`${flattened.protected}.${flattened.payload}.${flattened.signature}`),
    ).resolves.toMatchObject({ sub: "4" });
  });

  it("refuses 5-segment JWEs fast, with no decryption attempted", async () => {
    const secret = new Uint8Array(32).fill(7);
    const jwe = await new CompactEncrypt(new TextEncoder().encode(JSON.stringify(impClaims())))
      .setProtectedHeader({ alg: "dir", enc: "A256GCM", typ: IMP_TYP, kid: keys.signing.kid })
      .encrypt(secret);
    expect(jwe.split(".")).toHaveLength(5);
    const pbes2 = [
      encode({
        alg: "PBES2-HS256+A128KW",
        enc: "A128GCM",
        p2c: 2 ** 31,
        p2s: "c2FsdHNhbHQ",
        zip: "DEF",
        kid: keys.signing.kid,
      }),
      "AAAA",
      "AAAA",
      "AAAA",
      "AAAA",
    ].join(".");
    for (const token of [jwe, pbes2]) {
      const started = performance.now();
      expect(await reasonOf(verifyImp(token))).toBe("malformed");
      expect(performance.now() - started).toBeLessThan(100);
    }
  });
});

describe("act", () => {
  const shapes: Record<string, unknown> = {
    nested: { sub: "2", act: { sub: "1" } },
    "a string": "2",
    "a number": 2,
    "an empty object": {},
    "an array": [{ sub: "2" }],
    null: null,
    "a numeric sub": { sub: 2 },
    "a non-numeric sub": { sub: "admin" },
    "an extra member": { sub: "2", iss: "https://elsewhere" },
    "only a nested act": { act: { sub: "2" } },
  };

  for (const [name, act] of Object.entries(shapes)) {
    it(`refuses act as ${name}, on both kinds of token`, async () => {
      expect(await reasonOf(verifyImp(forge(impHeader(), impClaims({ act }))))).toBe("act");
      expect(await reasonOf(verifyAccess(forge(accessHeader(), accessClaims({ act }))))).toBe(
        "act",
      );
    });
  }
});

describe("one kind of token never stands in for the other", () => {
  it("refuses an access token as an impersonation token and vice versa", async () => {
    const expiresAt = new Date((NOW_S + 60) * 1000);
    const access = signToken(
      signer,
      "access",
      { sub: "4", sid: randomUUID(), act: { sub: "2" } },
      { expiresAt, now: NOW },
    );
    const impersonation = signToken(
      signer,
      "impersonation",
      { sub: "4", coworker_id: 42, act: { sub: "2" }, sid: randomUUID() },
      { expiresAt, jti: randomUUID(), now: NOW },
    );
    await expect(verifyAccess(access)).resolves.toMatchObject({ sub: "4" });
    await expect(verifyImp(impersonation)).resolves.toMatchObject({ sub: "4" });
    expect(await reasonOf(verifyImp(access))).toBe("ERR_JWT_CLAIM_VALIDATION_FAILED");
    expect(await reasonOf(verifyAccess(impersonation))).toBe("ERR_JWT_CLAIM_VALIDATION_FAILED");
    expect(await reasonOf(verifyToken(signer, "access", impersonation, NOW))).toBe(
      "ERR_JWT_CLAIM_VALIDATION_FAILED",
    );
    expect(await reasonOf(verifyToken(signer, "impersonation", access, NOW))).toBe(
      "ERR_JWT_CLAIM_VALIDATION_FAILED",
    );
  });

  it("refuses the right typ with the other kind's audience", async () => {
    expect(await reasonOf(verifyImp(forge(impHeader(), impClaims({ aud: ACCESS_AUD }))))).toBe(
      "ERR_JWT_CLAIM_VALIDATION_FAILED",
    );
    expect(
      await reasonOf(verifyAccess(forge(accessHeader(), accessClaims({ aud: IMP_AUD })))),
    ).toBe("ERR_JWT_CLAIM_VALIDATION_FAILED");
  });
});
