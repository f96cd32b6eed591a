// DPoP (RFC 9449, CONTRACT §10) through the REST door: tokens bound at /api/token and at the
// exchange when a valid proof comes, and every request with a bound token refused unless it
// proves the key with a fresh proof, each refusal with its status, code and challenge. Proofs are
// real JWTs signed by keys the test holds (jose); replays are tried in one process and, on
// PostgreSQL, across two services sharing one database.
import { randomUUID } from "node:crypto";
import { accessTokenHash } from "@cowork/auth";
import { createPostgres, queryRows } from "@cowork/db";
import { testDriver } from "@cowork/db/testing";
import {
  calculateJwkThumbprint,
  decodeJwt,
  exportJWK,
  generateKeyPair,
  type JWK,
  SignJWT,
} from "jose";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServiceDeps } from "../services";
import { type ServiceDeps } from "../services/deps";
import { createTestApi, testTimes, type TestApi } from "../testing";
import { type RestAnswer } from "./http";
import { rest } from "./routes";

const ORIGIN = "http://portal.test";
const ME = `${ORIGIN}/api/sys/users/me`;

interface ProofKey {
  alg: "ES256" | "EdDSA";
  privateKey: CryptoKey;
  jwk: JWK;
  jkt: string;
}

async function proofKey(alg: "ES256" | "EdDSA" = "ES256"): Promise<ProofKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(publicKey);
  return { alg, privateKey, jwk, jkt: await calculateJwkThumbprint(jwk, "sha256") };
}

interface ProofOptions {
  htm?: string;
  htu?: string;
  accessToken?: string;
  /** Seconds from now. */
  iatOffset?: number;
  jti?: string;
  header?: Record<string, unknown>;
  claims?: Record<string, unknown>;
}

function makeProof(key: ProofKey, options: ProofOptions = {}): Promise<string> {
  return new SignJWT({
    jti: options.jti ?? randomUUID(),
    htm: options.htm ?? "GET",
    htu: options.htu ?? ME,
    iat: Math.floor(Date.now() / 1000) + (options.iatOffset ?? 0),
    ...(options.accessToken ? { ath: accessTokenHash(options.accessToken) } : {}),
    ...options.claims,
  })
    .setProtectedHeader({ alg: key.alg, typ: "dpop+jwt", jwk: key.jwk, ...options.header })
    .sign(key.privateKey);
}

let api: TestApi;
let requests = 0;

beforeAll(async () => {
  api = await createTestApi({ impersonateLimitPerMinute: 100_000 });
});
afterAll(() => api.close());

interface Call {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: unknown;
  deps?: ServiceDeps;
}

/** Calls a REST handler as the server does, from this test's origin. */
function call(handler: (typeof rest)[keyof typeof rest], input: Call): Promise<RestAnswer> {
  const headers = Object.fromEntries(
    Object.entries(input.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]),
  );
  if (input.body !== undefined) headers["content-type"] ??= "application/json";
  return handler({
    request: {
      method: input.method ?? "GET",
      url: input.path,
      header: (name) => headers[name.toLowerCase()] ?? null,
      body: input.body === undefined ? "" : JSON.stringify(input.body),
      origin: ORIGIN,
    },
    deps: input.deps ?? api.deps,
    meta: { ip: "203.0.113.9", requestId: `dpop-${++requests}`, ...testTimes() },
  });
}

const body = (answer: RestAnswer) => JSON.parse(answer.body ?? "null") as Record<string, unknown>;

async function expectRefusal(
  answer: Promise<RestAnswer>,
  status: number,
  error: string,
  challenge?: string,
): Promise<void> {
  const got = await answer;
  expect({ status: got.status, error: body(got).error }).toEqual({ status, error });
  if (challenge !== undefined) expect(got.headers["www-authenticate"]).toBe(challenge);
}

const INVALID_PROOF = 'DPoP error="invalid_dpop_proof"';
const INVALID_TOKEN = 'DPoP error="invalid_token"';

const sessionCount = async () =>
  (
    await queryRows<{ n: number }>(api.database.db, sql`select count(*)::int as n from sessions`)
  )[0]!.n;

/** Signs in over /api/token with a proof of `key`: a DPoP-bound access token. */
async function boundSignIn(key: ProofKey, email = "milo.member@demo.test"): Promise<string> {
  const answer = await call(rest.token, {
    method: "POST",
    path: "/api/token",
    headers: {
      dpop: await makeProof(key, { htm: "POST", htu: `${ORIGIN}/api/token` }),
    },
    body: { grant_type: "password", username: email, password: passwordOf(email) },
  });
  expect(answer.status).toBe(200);
  expect(body(answer).token_type).toBe("DPoP");
  return body(answer).access_token as string;
}

const passwordOf = (email: string) =>
  email.startsWith("ada.") ? "demo-admin-pass" : "demo-member-pass";

/** GET /api/sys/users/me with a bound token and a proof made for this request. */
async function meWith(token: string, key: ProofKey, options: ProofOptions = {}) {
  return call(rest.me, {
    path: "/api/sys/users/me",
    headers: {
      authorization: `DPoP ${token}`,
      dpop: await makeProof(key, { accessToken: token, ...options }),
    },
  });
}

describe("binding at the token endpoints", () => {
  it("binds /api/token's session to the proof's key: token_type DPoP and cnf.jkt its RFC 7638 thumbprint", async () => {
    for (const alg of ["ES256", "EdDSA"] as const) {
      const key = await proofKey(alg);
      const token = await boundSignIn(key);
      expect(decodeJwt(token).cnf).toEqual({ jkt: key.jkt });
      const answer = await meWith(token, key);
      expect(answer.status, alg).toBe(200);
      expect(body(answer).email).toBe("milo.member@demo.test");
    }
  });

  it("answers 400 invalid_dpop_proof to every invalid proof at /api/token, and opens no session", async () => {
    const key = await proofKey();
    const other = await proofKey();
    const at = { htm: "POST", htu: `${ORIGIN}/api/token` };
    const { privateKey: hmacLike } = await generateKeyPair("ES384", { extractable: true });
    const bad: [string, Promise<string>][] = [
      ["another method", makeProof(key, { ...at, htm: "GET" })],
      ["another URL", makeProof(key, { ...at, htu: `${ORIGIN}/api/sys/users/exchange` })],
      ["another host", makeProof(key, { ...at, htu: "http://elsewhere.test/api/token" })],
      ["iat 61 s old", makeProof(key, { ...at, iatOffset: -61 })],
      // Ahead, with room for the time the proof takes to arrive (it only gets nearer).
      ["iat 70 s ahead", makeProof(key, { ...at, iatOffset: 70 })],
      ["an ath at the token endpoint", makeProof(key, { ...at, accessToken: "whatever" })],
      ["another typ", makeProof(key, { ...at, header: { typ: "jwt" } })],
      ["no jti", makeProof(key, { ...at, claims: { jti: undefined } })],
      // The header names one key, another signed.
      ["a jwk that did not sign", makeProof(key, { ...at, header: { jwk: other.jwk } })],
      [
        "a private key in jwk",
        (async () => {
          const { privateKey } = await generateKeyPair("ES256", { extractable: true });
          return makeProof({ ...key, privateKey, jwk: await exportJWK(privateKey) }, { ...at });
        })(),
      ],
      [
        "ES384",
        new SignJWT({ jti: randomUUID(), ...at, iat: Math.floor(Date.now() / 1000) })
          .setProtectedHeader({
            alg: "ES384",
            typ: "dpop+jwt",
            jwk: await exportJWK((await generateKeyPair("ES384", { extractable: true })).publicKey),
          })
          .sign(hmacLike),
      ],
      ["not a JWT", Promise.resolve("not-a-proof")],
    ];
    const before = await sessionCount();
    for (const [label, proof] of bad) {
      const answer = await call(rest.token, {
        method: "POST",
        path: "/api/token",
        headers: { dpop: await proof },
        body: {
          grant_type: "password",
          username: "milo.member@demo.test",
          password: "demo-member-pass",
        },
      });
      expect({ label, status: answer.status, error: body(answer).error }).toEqual({
        label,
        status: 400,
        error: "invalid_dpop_proof",
      });
    }
    expect(await sessionCount()).toBe(before);
  });

  it("refuses an invalid proof at the exchange with 400 and leaves the impersonation token unused", async () => {
    const ada = await api.signIn("ada.admin@demo.test");
    const { token } = await (await api.caller(ada)).impersonation.impersonate({ coworkerId: 43 });
    const key = await proofKey();
    const exchangeAt = { htm: "POST", htu: `${ORIGIN}/api/sys/users/exchange` };
    const refused = await call(rest.exchange, {
      method: "POST",
      path: "/api/sys/users/exchange",
      headers: { dpop: await makeProof(key, { ...exchangeAt, iatOffset: -61 }) },
      body: { token },
    });
    expect({ status: refused.status, error: body(refused).error }).toEqual({
      status: 400,
      error: "invalid_dpop_proof",
    });
    const bound = await call(rest.exchange, {
      method: "POST",
      path: "/api/sys/users/exchange",
      headers: { dpop: await makeProof(key, exchangeAt) },
      body: { token },
    });
    expect(bound.status).toBe(200);
    expect(body(bound).token_type).toBe("DPoP");
    const access = body(bound).access_token as string;
    expect(decodeJwt(access)).toMatchObject({ cnf: { jkt: key.jkt }, act: { sub: "1" } });
    const me = await meWith(access, key);
    expect(body(me).impersonation).toMatchObject({ actor: { userId: 1 } });
  });

  it("refuses a proof already used at a token endpoint", async () => {
    const key = await proofKey();
    const proof = await makeProof(key, { htm: "POST", htu: `${ORIGIN}/api/token` });
    const signIn = () =>
      call(rest.token, {
        method: "POST",
        path: "/api/token",
        headers: { dpop: proof },
        body: {
          grant_type: "password",
          username: "milo.member@demo.test",
          password: "demo-member-pass",
        },
      });
    expect((await signIn()).status).toBe(200);
    await expectRefusal(signIn(), 400, "invalid_dpop_proof");
  });
});

describe("requests with a bound token (RFC 9449 §7)", () => {
  let key: ProofKey;
  let token: string;

  beforeAll(async () => {
    key = await proofKey();
    token = await boundSignIn(key);
  });

  it("answers with a fresh proof; the request's query is not part of htu", async () => {
    expect((await meWith(token, key)).status).toBe(200);
    const withQuery = await call(rest.me, {
      path: "/api/sys/users/me?x=1",
      headers: {
        authorization: `DPoP ${token}`,
        dpop: await makeProof(key, { accessToken: token, htu: `${ME}?y=2#z` }),
      },
    });
    expect(withQuery.status).toBe(200);
  });

  // iat is whole seconds and the proof takes a moment to arrive: an old proof only gets older on
  // the way (61 s is refused whatever the delay), one ahead only nearer (so 70 s, not 61).
  it("takes iat up to 60 s either way: 5 s ahead and 55 s old pass, 61 s old and 70 s ahead are refused", async () => {
    expect((await meWith(token, key, { iatOffset: 5 })).status).toBe(200);
    expect((await meWith(token, key, { iatOffset: -55 })).status).toBe(200);
    await expectRefusal(
      meWith(token, key, { iatOffset: -61 }),
      401,
      "invalid_dpop_proof",
      INVALID_PROOF,
    );
    await expectRefusal(
      meWith(token, key, { iatOffset: 70 }),
      401,
      "invalid_dpop_proof",
      INVALID_PROOF,
    );
  });

  it("refuses a replayed proof with 401 invalid_dpop_proof", async () => {
    const proof = await makeProof(key, { accessToken: token });
    const send = () =>
      call(rest.me, {
        path: "/api/sys/users/me",
        headers: { authorization: `DPoP ${token}`, dpop: proof },
      });
    expect((await send()).status).toBe(200);
    await expectRefusal(send(), 401, "invalid_dpop_proof", INVALID_PROOF);
  });

  it("refuses a missing or wrong proof with 401 invalid_dpop_proof and the DPoP challenge", async () => {
    await expectRefusal(
      call(rest.me, { path: "/api/sys/users/me", headers: { authorization: `DPoP ${token}` } }),
      401,
      "invalid_dpop_proof",
      INVALID_PROOF,
    );
    const cases: [string, ProofOptions][] = [
      ["no ath", { accessToken: undefined }],
      ["the ath of another token", { accessToken: `${token}x` }],
      ["another method", { htm: "POST" }],
      ["another path", { htu: `${ORIGIN}/api/sys/users/sign-out` }],
      ["another scheme", { htu: "https://portal.test/api/sys/users/me" }],
      ["another host", { htu: "http://evil.test/api/sys/users/me" }],
      ["typ jwt", { header: { typ: "jwt" } }],
    ];
    for (const [label, options] of cases) {
      const answer = await call(rest.me, {
        path: "/api/sys/users/me",
        headers: {
          authorization: `DPoP ${token}`,
          dpop: await makeProof(key, { accessToken: token, ...options }),
        },
      });
      expect({ label, status: answer.status, error: body(answer).error }).toEqual({
        label,
        status: 401,
        error: "invalid_dpop_proof",
      });
      expect(answer.headers["www-authenticate"], label).toBe(INVALID_PROOF);
    }
  });

  it("refuses the bound token sent as Bearer, and with another key's proof: 401 invalid_token", async () => {
    await expectRefusal(
      call(rest.me, {
        path: "/api/sys/users/me",
        headers: {
          authorization: `Bearer ${token}`,
          dpop: await makeProof(key, { accessToken: token }),
        },
      }),
      401,
      "invalid_token",
      INVALID_TOKEN,
    );
    await expectRefusal(
      call(rest.me, { path: "/api/sys/users/me", headers: { authorization: `Bearer ${token}` } }),
      401,
      "invalid_token",
      INVALID_TOKEN,
    );
    await expectRefusal(meWith(token, await proofKey()), 401, "invalid_token", INVALID_TOKEN);
  });

  it("is no session where no proof can come (the browser's cookie door, the pages)", async () => {
    // api.caller builds its context without a DPoP side, as the cookie door does.
    const error = await (await api.caller(token)).auth.me().then(
      () => null,
      (failure: unknown) => failure as { code?: string },
    );
    expect(error?.code).toBe("UNAUTHORIZED");
  });

  it("leaves unbound tokens as they were: Bearer works, DPoP is refused", async () => {
    const plain = await api.signIn("milo.member@demo.test");
    expect(
      (
        await call(rest.me, {
          path: "/api/sys/users/me",
          headers: { authorization: `Bearer ${plain}` },
        })
      ).status,
    ).toBe(200);
    await expectRefusal(meWith(plain, key), 401, "invalid_token", INVALID_TOKEN);
  });

  if (testDriver() === "postgres") {
    it("accepts a proof in exactly one of two services sharing one database", async () => {
      const second = createPostgres(api.database.url!, 4);
      try {
        const other = await createServiceDeps(second.db, api.deps.config);
        for (let round = 0; round < 10; round++) {
          const proof = await makeProof(key, { accessToken: token });
          const send = (deps: ServiceDeps) =>
            call(rest.me, {
              path: "/api/sys/users/me",
              headers: { authorization: `DPoP ${token}`, dpop: proof },
              deps,
            });
          const answers = await Promise.all([
            send(api.deps),
            send(other),
            send(api.deps),
            send(other),
          ]);
          expect(answers.map((answer) => answer.status).sort()).toEqual([200, 401, 401, 401]);
        }
      } finally {
        await second.close();
      }
    });
  }
});
