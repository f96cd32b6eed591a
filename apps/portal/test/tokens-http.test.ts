// RFC 8725 over HTTP (security cases C1-C14): the portal runs with a signing key the test owns
// (AUTH_SIGNING_KEYS), so each attack token is valid in every respect but one. Every forgery is
// refused with 401 at the exchange and as a bearer; after each refusal the genuine token it was
// made from still works, which proves the single defect was the reason. Key rotation: the first
// configured key signs, every configured key verifies.
import { createServer, type Server } from "node:http";
import { exportSPKI } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EMAIL, exchangeReply, issue, issueReply, login, me } from "./support/flows";
import { call, expectError, fields, type Reply } from "./support/http";
import { errorLinesSince, startPortal, type Portal } from "./support/portal";
import { createStore, onPostgres, type Store } from "./support/store";
import {
  b64json,
  b64url,
  decodeJwt,
  generateTestKey,
  nowS,
  signEdDSA,
  signHmac,
  signingKeysEnv,
  type Decoded,
  type TestKey,
} from "./support/tokens";

type Forge = (real: Decoded, key: TestKey) => Promise<string> | string;

const unsigned = (
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  signature = "",
) => `${b64json(header)}.${b64json(payload)}.${signature}`;
const without = (object: Record<string, unknown>, ...names: string[]) =>
  Object.fromEntries(Object.entries(object).filter(([name]) => !names.includes(name)));

describe("tokens over HTTP (RFC 8725; cases C1-C14)", () => {
  let portal: Portal;
  let key: TestKey;
  let attacker: TestKey;
  let otto: string;
  let tess: string;
  let keyServer: Server;
  let keyServerHits = 0;
  let keyServerUrl: string;
  let publicPem: string;
  let jwksText: string;

  const resign = (
    real: Decoded,
    header: Record<string, unknown>,
    payload: Record<string, unknown>,
  ) => signEdDSA(header, payload, key.privateKey);
  const withHeader =
    (extra: Record<string, unknown>): Forge =>
    (real) =>
      resign(real, { ...real.header, ...extra }, real.payload);
  const withClaims =
    (extra: Record<string, unknown>, ...drop: string[]): Forge =>
    (real) =>
      resign(real, real.header, { ...without(real.payload, ...drop), ...extra });
  const keepSignature =
    (extra: Record<string, unknown>): Forge =>
    (real) =>
      unsigned(real.header, { ...real.payload, ...extra }, real.signature);

  /** Forgeries that apply to any token of the service, impersonation or access. */
  const common = (): [string, Forge][] => {
    const now = nowS();
    return [
      // C1: alg none, in any case, with the signature dropped or kept
      ...["none", "None", "NONE", "nOnE"].flatMap((alg): [string, Forge][] => [
        [`alg ${alg}, no signature`, (real) => unsigned({ ...real.header, alg }, real.payload)],
        [
          `alg ${alg}, signature kept`,
          (real) => unsigned({ ...real.header, alg }, real.payload, real.signature),
        ],
      ]),
      // C2: HMAC keyed with the public key, in every spelling an attacker can get
      ...(["SHA-256", "SHA-384", "SHA-512"] as const).flatMap((hash): [string, Forge][] => {
        const alg = `HS${hash.slice(4)}`;
        return [
          [
            `${alg} keyed with the raw public key`,
            (real) =>
              signHmac(
                { ...real.header, alg },
                real.payload,
                new Uint8Array(Buffer.from(key.publicJwk.x!, "base64url")),
                hash,
              ),
          ],
          [
            `${alg} keyed with the public JWK`,
            (real) =>
              signHmac(
                { ...real.header, alg },
                real.payload,
                new Uint8Array(Buffer.from(JSON.stringify(key.publicJwk))),
                hash,
              ),
          ],
          [
            `${alg} keyed with the PEM`,
            (real) =>
              signHmac(
                { ...real.header, alg },
                real.payload,
                new Uint8Array(Buffer.from(publicPem)),
                hash,
              ),
          ],
          [
            `${alg} keyed with the JWKS document`,
            (real) =>
              signHmac(
                { ...real.header, alg },
                real.payload,
                new Uint8Array(Buffer.from(jwksText)),
                hash,
              ),
          ],
        ];
      }),
      // C3: the attacker's key, under the service's kid or announced in the header
      [
        "attacker key with the real kid",
        (real) => signEdDSA(real.header, real.payload, attacker.privateKey),
      ],
      [
        "embedded jwk (attacker key)",
        (real) =>
          signEdDSA({ ...real.header, jwk: attacker.publicJwk }, real.payload, attacker.privateKey),
      ],
      [
        "embedded jwk (attacker key, own kid)",
        (real) =>
          signEdDSA(
            { ...real.header, kid: attacker.kid, jwk: attacker.publicJwk },
            real.payload,
            attacker.privateKey,
          ),
      ],
      [
        "jku to an attacker server",
        (real) =>
          signEdDSA(
            { ...real.header, kid: attacker.kid, jku: `${keyServerUrl}/jwks.json` },
            real.payload,
            attacker.privateKey,
          ),
      ],
      [
        "x5u to an attacker server",
        (real) =>
          signEdDSA(
            { ...real.header, kid: attacker.kid, x5u: `${keyServerUrl}/cert.pem` },
            real.payload,
            attacker.privateKey,
          ),
      ],
      [
        "x5c with an attacker certificate",
        (real) =>
          signEdDSA(
            {
              ...real.header,
              kid: attacker.kid,
              x5c: [b64url("not really a certificate").replace(/-/g, "+")],
            },
            real.payload,
            attacker.privateKey,
          ),
      ],
      ["jku beside the real kid, real key", withHeader({ jku: `${keyServerUrl}/jwks.json` })],
      ["jwk beside the real kid, real key", withHeader({ jwk: key.publicJwk })],
      // C4: kid
      ["unknown kid", withHeader({ kid: "nope" })],
      ["no kid", (real) => resign(real, without(real.header, "kid"), real.payload)],
      ["kid path traversal", withHeader({ kid: "../../../../dev/null" })],
      ["kid SQL injection", withHeader({ kid: "' OR '1'='1" })],
      ["kid of 10 KB", withHeader({ kid: "k".repeat(10_000) })],
      ["kid as a number", withHeader({ kid: 1 })],
      // C6: crit
      ["crit with an unknown extension", withHeader({ crit: ["x-foo"], "x-foo": 1 })],
      ["crit empty", withHeader({ crit: [] })],
      // C8: issuer and audience
      ["another issuer", withClaims({ iss: "http://evil.test" })],
      ["no issuer", withClaims({}, "iss")],
      ["another audience", withClaims({ aud: "https://other" })],
      ["audience list of others", withClaims({ aud: ["https://other"] })],
      ["no audience", withClaims({}, "aud")],
      // C9: time
      ["expired", withClaims({ iat: now - 600, exp: now - 300 })],
      ["not yet valid (nbf)", withClaims({ nbf: now + 300 })],
      ["issued in the future", withClaims({ iat: now + 300, exp: now + 330 })],
      // C10: required claims
      ["no exp", withClaims({}, "exp")],
      ["no jti", withClaims({}, "jti")],
      ["no iat", withClaims({}, "iat")],
      ["no sub", withClaims({}, "sub")],
      ["sub not a user id", withClaims({ sub: "ada" })],
      // C5: tampered payload under the original signature
      ["sub changed, signature kept", keepSignature({ sub: "5" })],
      [
        "exp extended, signature kept",
        (real) => keepSignature({ exp: (real.payload.exp as number) + 3600 })(real, key),
      ],
      ["aud changed, signature kept", keepSignature({ aud: "https://other" })],
      ["act changed, signature kept", keepSignature({ act: { sub: "1" } })],
      // C6: segment mangling
      ["signature removed", (real) => unsigned(real.header, real.payload)],
      [
        "signature truncated",
        (real) => unsigned(real.header, real.payload, real.signature.slice(0, -1)),
      ],
      [
        "signature with a bit flipped",
        (real) => {
          const bytes = Buffer.from(real.signature, "base64url");
          bytes[5] = bytes[5]! ^ 1;
          return unsigned(real.header, real.payload, bytes.toString("base64url"));
        },
      ],
      [
        "standard base64 segments",
        async (real) =>
          (await resign(real, real.header, real.payload)).replace(/-/g, "+").replace(/_/g, "/") +
          "==",
      ],
      ["a fourth segment", async (real) => `${await resign(real, real.header, real.payload)}.e30`],
      ["leading whitespace", async (real) => ` ${await resign(real, real.header, real.payload)}`],
      ["trailing newline", async (real) => `${await resign(real, real.header, real.payload)}\n`],
      // C12: format confusion and size
      [
        "JSON serialization",
        async (real) => {
          const [protectedHeader, payload, signature] = (
            await resign(real, real.header, real.payload)
          ).split(".");
          return JSON.stringify({ payload, protected: protectedHeader, signature });
        },
      ],
      [
        "JWE with zip",
        () =>
          `${b64json({ alg: "dir", enc: "A256GCM", zip: "DEF", kid: key.kid })}..${b64url("iv")}.${b64url("x".repeat(64))}.${b64url("tag")}`,
      ],
      [
        "JWE with PBES2 p2c 2^31",
        () =>
          `${b64json({ alg: "PBES2-HS256+A128KW", enc: "A128GCM", p2c: 2 ** 31, p2s: b64url("salt") })}.${b64url("k")}.${b64url("iv")}.${b64url("c")}.${b64url("t")}`,
      ],
      ["a 5 KB token", withClaims({ pad: "p".repeat(5_000) })],
      ["an 8 KB token", withClaims({ pad: "p".repeat(8_000) })],
    ];
  };

  /** Forgeries specific to impersonation tokens, checked at the exchange. */
  const impersonationOnly = (): [string, Forge][] => {
    const now = nowS();
    return [
      ["typ JWT", withHeader({ typ: "JWT" })],
      ["no typ", (real) => resign(real, without(real.header, "typ"), real.payload)],
      [
        "typ of an access token",
        (real) => resign(real, { ...real.header, typ: decodeJwt(otto).header.typ }, real.payload),
      ],
      ["audience of access tokens", withClaims({ aud: decodeJwt(otto).payload.aud })],
      ["lifetime of 301 s", withClaims({ iat: now, exp: now + 301 })],
      ["lifetime of one hour", withClaims({ iat: now, exp: now + 3600 })],
      ["no act", withClaims({}, "act")],
      ["act as a string", withClaims({ act: "2" })],
      ["act empty", withClaims({ act: {} })],
      ["act without sub, nested act", withClaims({ act: { act: { sub: "2" } } })],
      ["nested act", withClaims({ act: { sub: "2", act: { sub: "1" } } })],
      ["may_act instead of act", withClaims({ may_act: { sub: "2" } }, "act")],
      ["no coworker_id", withClaims({}, "coworker_id")],
      // Correctly signed, but the server-side grant says otherwise.
      ["another target, re-signed", withClaims({ sub: "5", coworker_id: 43 })],
      ["another profile of no one, re-signed", withClaims({ coworker_id: 43 })],
      ["another actor, re-signed", withClaims({ act: { sub: "1" } })],
      ["a jti never issued", withClaims({ jti: crypto.randomUUID() })],
    ];
  };

  beforeAll(async () => {
    key = await generateTestKey("test-key-1");
    attacker = await generateTestKey();
    publicPem = await exportSPKI(key.publicKey);
    keyServer = createServer((_req, res) => {
      keyServerHits++;
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ keys: [attacker.publicJwk] }));
    });
    await new Promise<void>((resolve) => keyServer.listen(0, "127.0.0.1", resolve));
    const address = keyServer.address();
    keyServerUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
    portal = await startPortal({
      env: { AUTH_SIGNING_KEYS: signingKeysEnv(key), IMPERSONATE_LIMIT_PER_MINUTE: "100000" },
    });
    jwksText = (await call(portal, "GET", "/.well-known/jwks.json")).text;
    otto = await login(portal, EMAIL.otto);
    tess = await login(portal, EMAIL.tess);
  });

  afterAll(async () => {
    await portal?.stop();
    await new Promise((resolve) => keyServer?.close(resolve));
  });

  it("serves exactly the configured public key and signs with it", async () => {
    const keys = fields(await call(portal, "GET", "/.well-known/jwks.json")).keys as Record<
      string,
      unknown
    >[];
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: "OKP", crv: "Ed25519", x: key.publicJwk.x, kid: key.kid });
    expect(keys[0]).not.toHaveProperty("d");
    expect(decodeJwt(otto).header).toMatchObject({ alg: "EdDSA", kid: key.kid });
    expect(decodeJwt(await issue(portal, otto, 42)).header).toMatchObject({
      alg: "EdDSA",
      kid: key.kid,
    });
  });

  it("accepts the control: genuine claims re-signed with the configured key (so every forgery below differs in one defect only)", async () => {
    const real = decodeJwt(await issue(portal, otto, 42));
    const access = fields(
      await exchangeReply(portal, await resign(real, real.header, real.payload)),
    ).access_token as string;
    expect(fields(await me(portal, access)).userId).toBe(4);
    const own = decodeJwt(otto);
    const copy = await resign(own, own.header, own.payload);
    expect((await me(portal, copy)).status).toBe(200);
    expect((await issueReply(portal, copy, 42)).status).toBe(200);
  });

  it("refuses every forged impersonation token at the exchange with 401 invalid_token; the genuine one still exchanges once", async () => {
    const failures: string[] = [];
    for (const [name, forge] of [...common(), ...impersonationOnly()]) {
      const genuine = await issue(portal, otto, 42);
      const forged = await forge(decodeJwt(genuine), key);
      const reply = await exchangeReply(portal, forged);
      if (
        reply.status !== 401 ||
        (reply.json as { error?: string } | undefined)?.error !== "invalid_token"
      ) {
        failures.push(`${name}: ${reply.status} ${reply.text.slice(0, 120)}`);
        continue;
      }
      expectError(reply, 401, "invalid_token");
      expect(reply.text).not.toMatch(/ERR_J|jose|signature verification/i);
      const control = await exchangeReply(portal, genuine);
      if (control.status !== 200)
        failures.push(`${name}: the genuine token no longer exchanged (${control.status})`);
    }
    expect(failures).toEqual([]);
    expect(keyServerHits).toBe(0);
  });

  it("refuses oversized tokens at the exchange with 401, as any bad token (C12)", async () => {
    const real = decodeJwt(await issue(portal, otto, 42));
    // Both stay under the 64 KiB body cap once base64url-encoded (over it, the answer is 413).
    for (const size of [16_000, 40_000]) {
      const reply = await exchangeReply(
        portal,
        await resign(real, real.header, { ...real.payload, pad: "p".repeat(size) }),
      );
      expect({ size, status: reply.status }).toEqual({ size, status: 401 });
      expectError(reply, 401, "invalid_token");
    }
  });

  it("refuses every forged access token as a bearer with 401 on /me and both impersonate routes", async () => {
    const failures: string[] = [];
    const accessOnly: [string, Forge][] = [
      [
        "typ of an impersonation token",
        async (real) =>
          resign(
            real,
            { ...real.header, typ: decodeJwt(await issue(portal, otto, 42)).header.typ },
            real.payload,
          ),
      ],
      ["typ JWT", withHeader({ typ: "JWT" })],
      ["no typ", (real) => resign(real, without(real.header, "typ"), real.payload)],
      [
        "audience of the exchange",
        async (real) =>
          resign(real, real.header, {
            ...real.payload,
            aud: decodeJwt(await issue(portal, otto, 42)).payload.aud,
          }),
      ],
      ["another user's sub, re-signed", withClaims({ sub: "1" })],
      [
        "another session's sid, re-signed",
        (real) => resign(real, real.header, { ...real.payload, sid: decodeJwt(tess).payload.sid }),
      ],
      ["no sid", withClaims({}, "sid")],
      ["an act claim added, re-signed", withClaims({ act: { sub: "1" } })],
      ["a 10 KB token", withClaims({ pad: "p".repeat(7_000) })],
    ];
    for (const [name, forge] of [...common(), ...accessOnly]) {
      const forged = await forge(decodeJwt(otto), key);
      // A line break cannot travel in a header at all (the client refuses to send it).
      if (/[\r\n]/.test(forged)) continue;
      const replies: [string, Reply][] = [
        ["me", await me(portal, forged)],
        ["staff", await issueReply(portal, forged, 42)],
        ["team", await issueReply(portal, forged, 42, { team: true })],
        [
          "stop",
          await call(portal, "POST", "/api/sys/users/stop-impersonating", { token: forged }),
        ],
      ];
      for (const [route, reply] of replies) {
        if (reply.status !== 401)
          failures.push(`${name} on ${route}: ${reply.status} ${reply.text.slice(0, 100)}`);
        else expectError(reply, 401);
      }
    }
    expect(failures).toEqual([]);
    expect(keyServerHits).toBe(0);
    expect((await me(portal, otto)).status).toBe(200);
  });

  it("never accepts one kind of token for the other (C7)", async () => {
    const impersonation = await issue(portal, otto, 42);
    for (const reply of [
      await me(portal, impersonation),
      await issueReply(portal, impersonation, 43),
      await issueReply(portal, impersonation, 43, { team: true }),
      await call(portal, "POST", "/api/sys/users/stop-impersonating", { token: impersonation }),
      await call(portal, "GET", "/api/public/coworkers/profiles", { token: impersonation }),
    ]) {
      expectError(reply, 401);
    }
    expectError(await exchangeReply(portal, otto), 401, "invalid_token");
    const session = fields(await exchangeReply(portal, impersonation)).access_token as string;
    expectError(await exchangeReply(portal, session), 401, "invalid_token");
    expect(fields(await me(portal, session)).userId).toBe(4);
  });

  it("pins the typ comparison: case and the application/ prefix are equivalent (RFC 7515 §4.1.9)", async () => {
    const real = decodeJwt(await issue(portal, otto, 42));
    const typ = String(real.header.typ);
    const upper = await exchangeReply(
      portal,
      await resign(real, { ...real.header, typ: typ.toUpperCase() }, real.payload),
    );
    expect(upper.status).toBe(200);
    const again = decodeJwt(await issue(portal, otto, 42));
    const prefixed = await exchangeReply(
      portal,
      await resign(again, { ...again.header, typ: `application/${typ}` }, again.payload),
    );
    expect(prefixed.status).toBe(200);
  });

  const errorLines = (since: number) => errorLinesSince(portal, since);

  it("refuses correctly signed tokens naming ids beyond PostgreSQL's integer with 401, on both doors, without an error log line", async () => {
    const since = portal.logs().length;
    const failures: string[] = [];
    for (const id of ["2147483648", "9999999999"]) {
      for (const [name, forge] of [
        ["sub", withClaims({ sub: id })],
        ["act.sub", withClaims({ act: { sub: id } })],
        ["coworker_id", withClaims({ coworker_id: Number(id) })],
      ] as [string, Forge][]) {
        const forged = await forge(decodeJwt(await issue(portal, otto, 42)), key);
        const reply = await exchangeReply(portal, forged);
        if (reply.status !== 401) failures.push(`exchange, ${name} ${id}: ${reply.status}`);
        else expectError(reply, 401, "invalid_token");
        const viaTrpc = await call(portal, "POST", "/api/trpc/impersonation.exchange", {
          json: { token: forged },
        });
        if (viaTrpc.status !== 401)
          failures.push(`tRPC exchange, ${name} ${id}: ${viaTrpc.status}`);
      }
      const access = await withClaims({ sub: id })(decodeJwt(otto), key);
      for (const [route, reply] of [
        ["me", await me(portal, access)],
        ["staff", await issueReply(portal, access, 42)],
        ["tRPC me", await call(portal, "GET", "/api/trpc/auth.me", { token: access })],
      ] as const) {
        if (reply.status !== 401) failures.push(`${route}, access sub ${id}: ${reply.status}`);
      }
    }
    expect(failures).toEqual([]);
    expect(errorLines(since)).toEqual([]);
  });

  describe("POST /api/token speaks OAuth (RFC 6749 §5.1-5.2, as oauth4webapi and openid-client read it)", () => {
    const password = { grant_type: "password", username: EMAIL.milo, password: "demo-member-pass" };

    it("sends Pragma: no-cache beside Cache-Control: no-store on success and on every error", async () => {
      const replies = [
        await call(portal, "POST", "/api/token", { json: password }),
        await call(portal, "POST", "/api/token", { form: password }),
        await call(portal, "POST", "/api/token", { json: { ...password, password: "wrong" } }),
        await call(portal, "POST", "/api/token", { json: { grant_type: "client_credentials" } }),
        await call(portal, "POST", "/api/token", {
          body: "x",
          headers: { "content-type": "text/plain" },
        }),
        await call(portal, "GET", "/api/token"),
      ];
      expect(replies.map((reply) => reply.status)).toEqual([200, 200, 400, 400, 400, 405]);
      for (const reply of replies) {
        expect(reply.headers["cache-control"]).toMatch(/\bno-store\b/);
        expect(reply.headers.pragma).toBe("no-cache");
      }
    });

    it("gives every error body error_description, the same text as message", async () => {
      const cases: [Reply, number, string][] = [
        [
          await call(portal, "POST", "/api/token", { json: { ...password, password: "wrong" } }),
          400,
          "invalid_grant",
        ],
        [
          await call(portal, "POST", "/api/token", { json: { grant_type: "refresh_token" } }),
          400,
          "unsupported_grant_type",
        ],
        [
          await call(portal, "POST", "/api/token", { json: { grant_type: "password" } }),
          400,
          "invalid_request",
        ],
        [
          await call(portal, "POST", "/api/token", {
            body: "{",
            headers: { "content-type": "application/json" },
          }),
          400,
          "invalid_request",
        ],
        [await call(portal, "GET", "/api/token"), 405, "method_not_allowed"],
        [
          await call(portal, "POST", "/api/token", {
            body: JSON.stringify({ ...password, password: "p".repeat(70 * 1024) }),
            headers: { "content-type": "application/json" },
          }),
          413,
          "payload_too_large",
        ],
      ];
      for (const [reply, status, code] of cases) {
        expect(Object.keys(fields(reply)).sort(), code).toEqual([
          "error",
          "error_description",
          "message",
        ]);
        expect(fields(reply).error_description).toBe(fields(reply).message);
        expectError(reply, status, code);
      }
      // The other routes keep the contract's two fields.
      const other = await call(portal, "GET", "/api/sys/users/me");
      expect(Object.keys(fields(other)).sort()).toEqual(["error", "message"]);
      expect(other.headers.pragma).toBeUndefined();
    });

    it("refuses HTTP Basic client authentication as an unknown client: 401 invalid_client with a Basic challenge, and no sign-in", async () => {
      const since = portal.logs().length;
      const basic = (id: string, secret: string) =>
        `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString("base64")}`;
      for (const authorization of [
        basic("portal-ui", "s3cret"),
        basic("", ""),
        "Basic",
        "basic Zm9vOmJhcg==",
      ]) {
        for (const body of [{ json: password }, { form: password }]) {
          const reply = await call(portal, "POST", "/api/token", {
            ...body,
            headers: { authorization },
          });
          expect({ authorization, status: reply.status }).toEqual({ authorization, status: 401 });
          expectError(reply, 401, "invalid_client");
          expect(reply.headers["www-authenticate"]).toMatch(/^Basic realm="[^"]+"$/);
          expect(reply.text).not.toContain("access_token");
        }
      }
      // A client secret in the body is client authentication too (RFC 6749 §2.3.1), by no known client.
      const posted = await call(portal, "POST", "/api/token", {
        form: { ...password, client_id: "portal-ui", client_secret: "s3cret" },
      });
      expectError(posted, 401, "invalid_client");
      // A public client naming itself (client_id only) and other unknown parameters are ignored, as §3.2 asks.
      expect(
        (
          await call(portal, "POST", "/api/token", {
            form: { ...password, client_id: "cli", scope: "openid" },
          })
        ).status,
      ).toBe(200);
      expect(errorLines(since)).toEqual([]);
    });
  });
});

describe("key rotation (AUTH_SIGNING_KEYS: the first key signs, every key verifies)", () => {
  let store: Store;
  let oldKey: TestKey;
  let newKey: TestKey;
  const running: Portal[] = [];
  const start = async (...keys: TestKey[]) => {
    const portal = await startPortal({
      ...store.options,
      env: { AUTH_SIGNING_KEYS: signingKeysEnv(...keys), AUTH_ISSUER: "http://portal.test" },
    });
    running.push(portal);
    return portal;
  };
  const stop = async (portal: Portal) => {
    if (!onPostgres()) await portal.stop();
  };

  beforeAll(async () => {
    store = await createStore();
    oldKey = await generateTestKey("2026-01");
    newKey = await generateTestKey("2026-06");
  });

  afterAll(async () => {
    for (const portal of running) await portal.stop();
    await store?.close();
  });

  it("keeps tokens of the old key valid after rotation, signs with the new one, and drops the old key's tokens once it is removed", async () => {
    const before = await start(oldKey);
    const oldSession = await login(before, EMAIL.otto);
    expect(decodeJwt(oldSession).header.kid).toBe(oldKey.kid);
    const oldGrant = await issue(before, oldSession, 42);
    await stop(before);

    const rotated = await start(newKey, oldKey);
    const keys = fields(await call(rotated, "GET", "/.well-known/jwks.json")).keys as Record<
      string,
      unknown
    >[];
    expect(keys.map((jwk) => jwk.kid)).toEqual([newKey.kid, oldKey.kid]);
    for (const jwk of keys) expect(jwk).not.toHaveProperty("d");
    expect(fields(await me(rotated, oldSession)).userId).toBe(2);
    const newSession = await login(rotated, EMAIL.otto);
    expect(decodeJwt(newSession).header.kid).toBe(newKey.kid);
    expect(decodeJwt(await issue(rotated, newSession, 42)).header.kid).toBe(newKey.kid);
    // A token the old key signed (the grant issued before the rotation) still exchanges.
    const exchanged = await exchangeReply(rotated, oldGrant);
    expect(exchanged.status, exchanged.text).toBe(200);
    expect(decodeJwt(fields(exchanged).access_token as string).header.kid).toBe(newKey.kid);
    // The old key verifies only under its own kid.
    const real = decodeJwt(newSession);
    const mislabelled = await signEdDSA(
      { ...real.header, kid: newKey.kid },
      real.payload,
      oldKey.privateKey,
    );
    expectError(await me(rotated, mislabelled), 401);
    await stop(rotated);

    const retired = await start(newKey);
    expectError(await me(retired, oldSession), 401);
    expect(fields(await me(retired, newSession)).userId).toBe(2);
  });
});
