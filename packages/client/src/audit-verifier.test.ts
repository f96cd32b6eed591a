// The audit verifier of @cowork/client: leaf hashes of the README's worked example, inclusion
// proofs of every leaf in trees of every size up to 17 (made with RFC 9162 §2.1.3.1's PATH,
// written in this test), and checkpoints signed as the service signs them, refused when the
// signature, type, key or issuer is not the portal's.
import { createHash } from "node:crypto";
import { generatePrivateJwk, loadKeySet, signCheckpoint, signToken } from "@cowork/auth";
import { describe, expect, it } from "vitest";
import {
  auditLeafHash,
  auditNodeHash,
  auditRootFromProof,
  createCheckpointVerifier,
} from "./audit-verifier";

const issuer = "https://portal.test";

/** The README's worked example: an exported audit item. */
const EXAMPLE = {
  id: 7,
  at: "2026-12-07T10:15:00.000Z",
  type: "impersonation.issued",
  actor: { userId: 2, fullName: "Otto Operator" },
  target: { coworkerId: 42, fullName: "Milo Member" },
  locationId: 1,
  kind: "staff",
  reason: "ticket 1234",
  ip: "203.0.113.9",
  outcome: "success",
  detail: null,
  mode: "full",
  seq: 3,
  leafHash: "ignored: not part of what is hashed",
};
/** Its RFC 8785 form, as written out by hand in the README. */
const EXAMPLE_JCS =
  '{"actor":{"fullName":"Otto Operator","userId":2},"at":"2026-12-07T10:15:00.000Z","detail":null,"id":7,"ip":"203.0.113.9","kind":"staff","locationId":1,"mode":"full","outcome":"success","reason":"ticket 1234","target":{"coworkerId":42,"fullName":"Milo Member"},"type":"impersonation.issued"}';

const sha = (...parts: Buffer[]) => createHash("sha256").update(Buffer.concat(parts)).digest();

describe("auditLeafHash", () => {
  it("hashes 0x00 and the RFC 8785 item without seq and leafHash (the README's example)", async () => {
    const expected = sha(Buffer.of(0), Buffer.from(EXAMPLE_JCS, "utf8")).toString("base64url");
    expect(await auditLeafHash(EXAMPLE)).toBe(expected);
    expect(expected).toBe("GAKmskqCHkXuc_hHEf0N-cjr1_XMp-lJuT2JBNnAVds");
  });

  it("changes with any field, and not with key order, seq or leafHash", async () => {
    const reordered = Object.fromEntries(Object.entries(EXAMPLE).reverse());
    expect(await auditLeafHash({ ...reordered, seq: 99, leafHash: null })).toBe(
      await auditLeafHash(EXAMPLE),
    );
    expect(await auditLeafHash({ ...EXAMPLE, reason: "ticket 1235" })).not.toBe(
      await auditLeafHash(EXAMPLE),
    );
  });
});

// ---- RFC 9162 §2.1.1 and §2.1.3.1, for making trees and proofs here -------------------------
const leafBytes = (index: number) => sha(Buffer.of(0), Buffer.from(`event ${index}`));
function mth(leaves: Buffer[]): Buffer {
  if (leaves.length === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return sha(Buffer.of(1), mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}
function path(m: number, leaves: Buffer[]): Buffer[] {
  if (leaves.length === 1) return [];
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return m < k
    ? [...path(m, leaves.slice(0, k)), mth(leaves.slice(k))]
    : [...path(m - k, leaves.slice(k)), mth(leaves.slice(0, k))];
}
const b64 = (bytes: Buffer) => bytes.toString("base64url");

describe("auditRootFromProof", () => {
  it("leads every leaf of every tree up to 17 leaves to its root, and no other leaf there", async () => {
    for (let size = 1; size <= 17; size++) {
      const leaves = Array.from({ length: size }, (_, index) => leafBytes(index));
      const root = b64(mth(leaves));
      for (let m = 0; m < size; m++) {
        const proof = {
          seq: m + 1,
          size,
          leafHash: b64(leaves[m]!),
          path: path(m, leaves).map(b64),
        };
        expect(await auditRootFromProof(proof)).toBe(root);
        if (size > 1) {
          const other = b64(leaves[(m + 1) % size]!);
          expect(await auditRootFromProof({ ...proof, leafHash: other })).not.toBe(root);
        }
      }
    }
  });

  it("refuses a proof of the wrong length or a seq outside the tree", async () => {
    const leaves = Array.from({ length: 5 }, (_, index) => leafBytes(index));
    const proof = { seq: 2, size: 5, leafHash: b64(leaves[1]!), path: path(1, leaves).map(b64) };
    await expect(auditRootFromProof({ ...proof, path: proof.path.slice(1) })).rejects.toThrow();
    await expect(
      auditRootFromProof({ ...proof, path: [...proof.path, proof.path[0]!] }),
    ).rejects.toThrow();
    await expect(auditRootFromProof({ ...proof, seq: 6 })).rejects.toThrow();
    await expect(auditRootFromProof({ ...proof, seq: 0 })).rejects.toThrow();
  });

  it("combines nodes as SHA-256(0x01 ‖ left ‖ right)", async () => {
    const [left, right] = [leafBytes(0), leafBytes(1)];
    expect(await auditNodeHash(b64(left), b64(right))).toBe(b64(sha(Buffer.of(1), left, right)));
  });
});

describe("createCheckpointVerifier", async () => {
  const keys = await loadKeySet([await generatePrivateJwk()]);
  const other = await loadKeySet([await generatePrivateJwk()]);
  const verify = createCheckpointVerifier({ issuer, jwks: keys.jwks });
  const checkpoint = { loc: 1, size: 12, root: b64(leafBytes(0)), iat: 1_796_000_000 };

  it("returns what a checkpoint signed with the service's key states", async () => {
    await expect(verify(signCheckpoint({ keys, issuer }, checkpoint))).resolves.toEqual({
      iss: issuer,
      ...checkpoint,
    });
  });

  it("refuses another key, another issuer, a tampered payload and a token of another type", async () => {
    await expect(verify(signCheckpoint({ keys: other, issuer }, checkpoint))).rejects.toThrow();
    await expect(
      verify(signCheckpoint({ keys, issuer: "https://evil.test" }, checkpoint)),
    ).rejects.toThrow();
    const [header, , signature] = signCheckpoint({ keys, issuer }, checkpoint).split(".");
    const payload = Buffer.from(JSON.stringify({ iss: issuer, ...checkpoint, size: 13 })).toString(
      "base64url",
    );
    await expect(verify(`${header}.${payload}.${signature}`)).rejects.toThrow();
    const access = signToken(
      { keys, issuer },
      "access",
      { sub: "4", sid: crypto.randomUUID() },
      { expiresAt: new Date(Date.now() + 60_000) },
    );
    await expect(verify(access)).rejects.toThrow();
  });
});
