// The client's DPoP proofs are what the portal verifies (@cowork/auth's verifyDpopProof, the
// server's own check): for each algorithm, with and without an access token, and as dpopFetch
// sends them on a real HTTP request to a local receiver.
import { createServer, type IncomingHttpHeaders } from "node:http";
import { type AddressInfo } from "node:net";
import { verifyDpopProof } from "@cowork/auth";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDpopKey, createDpopProof, dpopFetch } from "./dpop";

let received: { method: string; url: string; headers: IncomingHttpHeaders }[] = [];
const server = createServer((req, res) => {
  received.push({ method: req.method!, url: req.url!, headers: req.headers });
  res.end("{}");
});
let origin: string;

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("DPoP proofs of @cowork/client", () => {
  it("makes proofs the portal accepts, ES256 and EdDSA, binding the key's thumbprint", async () => {
    for (const alg of ["ES256", "EdDSA"] as const) {
      const key = await createDpopKey(alg);
      const proof = await createDpopProof(key, {
        method: "get",
        url: "https://portal.example.com/api/sys/users/me?x=1#y",
        accessToken: "a.b.c",
      });
      const verified = await verifyDpopProof(proof, {
        htm: "GET",
        htu: "https://portal.example.com/api/sys/users/me",
        accessToken: "a.b.c",
      });
      expect(verified.jkt).toBe(key.thumbprint);
      expect(JSON.stringify(key.publicJwk)).not.toContain('"d"');
    }
  });

  it("sends a fresh proof with every request, naming the token of a DPoP Authorization", async () => {
    received = [];
    const key = await createDpopKey();
    const send = dpopFetch(key);
    await send(`${origin}/api/trpc/auth.me?batch=1`, { headers: { authorization: "DPoP t.o.k" } });
    await send(`${origin}/api/token`, { method: "POST", body: "{}" });
    expect(received).toHaveLength(2);
    const [first, second] = received;
    expect(first!.headers.authorization).toBe("DPoP t.o.k");
    const one = await verifyDpopProof(first!.headers.dpop as string, {
      htm: "GET",
      htu: `${origin}/api/trpc/auth.me`,
      accessToken: "t.o.k",
    });
    const two = await verifyDpopProof(second!.headers.dpop as string, {
      htm: "POST",
      htu: `${origin}/api/token`,
    });
    expect(one.jti).not.toBe(two.jti);
  });
});
