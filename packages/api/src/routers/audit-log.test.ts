// The Merkle log through the procedures: items carry seq and leafHash, checkpoints list newest
// first with a cursor, and every inclusion proof of every event in every tree size checks out
// under RFC 9162 §2.1.3.2's verification, written in this file (not the code under test), against
// the signed roots. Who may read: an admin of the active location only, that location only.
import { createHash } from "node:crypto";
import canonicalize from "canonicalize";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sealAll } from "../services/audit-log/seal";
import { createTestApi, type TestApi } from "../testing";
import { expectRefused } from "../testing-refusals";

let api: TestApi;
const token: Record<string, string> = {};

// ---- RFC 9162, written from the RFC for this test ---------------------------------------------
const sha256 = (...parts: Buffer[]) => createHash("sha256").update(Buffer.concat(parts)).digest();
const b64 = (bytes: Buffer) => bytes.toString("base64url");
const bytes = (text: string) => Buffer.from(text, "base64url");
const leafOf = (item: Record<string, unknown>) => {
  const { seq: _s, leafHash: _l, ...rest } = item;
  return b64(sha256(Buffer.of(0), Buffer.from(canonicalize(rest)!, "utf8")));
};
function mth(leaves: Buffer[]): Buffer {
  if (leaves.length === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return sha256(Buffer.of(1), mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}
/** §2.1.3.2: the root an inclusion proof leads to, or null when the proof is malformed. */
function rootFromProof(index: number, size: number, leaf: string, path: string[]): string | null {
  if (index >= size) return null;
  let fn = index;
  let sn = size - 1;
  let r = bytes(leaf);
  for (const p of path) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      r = sha256(Buffer.of(1), bytes(p), r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = sha256(Buffer.of(1), r, bytes(p));
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? b64(r) : null;
}

const as = async (name: string | null) => api.caller(name ? token[name]! : null);

beforeAll(async () => {
  api = await createTestApi({ impersonateLimitPerMinute: 100_000 });
  token.ada = await api.signIn("ada.admin@demo.test");
  token.adaL2 = await api.signIn("ada.admin@demo.test", 2);
  token.otto = await api.signIn("otto.operator@demo.test");
  token.milo = await api.signIn("milo.member@demo.test");
  // Several rounds, so that there are several checkpoints and trees of many shapes.
  for (let round = 0; round < 5; round++) {
    for (let index = 0; index <= round; index++) await api.signIn("milo.member@demo.test");
    await api.signIn("rita.riverside@demo.test");
    await sealAll(api.deps);
  }
  const { token: grant } = await (await as("otto")).impersonation.impersonate({ coworkerId: 42 });
  token.impersonated = (
    await (await as(null)).impersonation.exchange({ token: grant })
  ).accessToken!;
  await sealAll(api.deps);
});
afterAll(async () => {
  await api.close();
});

async function sealedItems(name: string) {
  const items = (await (await as(name)).audit.listEvents({ limit: 200 })).items;
  return items.filter((item) => item.seq !== null).sort((a, b) => a.seq! - b.seq!);
}

describe("audit.listCheckpoints", () => {
  it("lists the location's checkpoints newest first, page by page", async () => {
    const caller = await as("ada");
    const all = [];
    let cursor: number | undefined;
    for (;;) {
      const page = await caller.audit.listCheckpoints({ limit: 2, ...(cursor ? { cursor } : {}) });
      expect(page.items.length).toBeLessThanOrEqual(2);
      all.push(...page.items);
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    expect(all.length).toBeGreaterThanOrEqual(6);
    const sizes = all.map((checkpoint) => checkpoint.size);
    expect(sizes).toEqual([...sizes].sort((a, b) => b - a));
    const leaves = (await sealedItems("ada")).map((item) => bytes(item.leafHash!));
    for (const checkpoint of all) {
      expect(checkpoint.root).toBe(b64(mth(leaves.slice(0, checkpoint.size))));
      expect(decodeJwt(checkpoint.jws)).toEqual({
        iss: "http://portal.test",
        loc: 1,
        size: checkpoint.size,
        root: checkpoint.root,
        iat: Date.parse(checkpoint.signedAt) / 1000,
      });
    }
  });

  it("shows an admin only the checkpoints of their active location", async () => {
    const { items } = await (await as("adaL2")).audit.listCheckpoints({});
    expect(items.length).toBeGreaterThan(0);
    for (const checkpoint of items) expect(decodeJwt(checkpoint.jws).loc).toBe(2);
  });
});

describe("audit.proof", () => {
  it("proves every event in every tree size up to the newest checkpoint (RFC 9162 §2.1.3.2)", async () => {
    const items = await sealedItems("ada");
    const leaves = items.map((item) => bytes(item.leafHash!));
    const caller = await as("ada");
    const signed = new Map(
      (await caller.audit.listCheckpoints({ limit: 200 })).items.map((c) => [c.size, c.root]),
    );
    expect(items.length).toBeGreaterThan(8);
    for (let size = 1; size <= items.length; size++) {
      const root = b64(mth(leaves.slice(0, size)));
      if (signed.has(size)) expect(signed.get(size)).toBe(root);
      for (let seq = 1; seq <= size; seq++) {
        const proof = await caller.audit.proof({ seq, size });
        expect(proof.seq).toBe(seq);
        expect(proof.size).toBe(size);
        expect(proof.leafHash).toBe(leafOf(items[seq - 1]!));
        expect(rootFromProof(seq - 1, size, proof.leafHash, proof.path)).toBe(root);
        // The proof is of this leaf only: another leaf's hash does not lead to the root.
        if (size > 1) {
          const other = items[seq % size]!.leafHash!;
          expect(rootFromProof(seq - 1, size, other, proof.path)).not.toBe(root);
        }
      }
    }
  });

  it("answers 400 invalid_request for seq or size that are not positive integers, seq above size, or size beyond the newest checkpoint", async () => {
    const caller = await as("ada");
    const [newest] = (await caller.audit.listCheckpoints({ limit: 1 })).items;
    const bad: { seq: number; size: number }[] = [
      { seq: 0, size: 1 },
      { seq: 1, size: 0 },
      { seq: -1, size: 2 },
      { seq: 1.5, size: 2 },
      { seq: 3, size: 2 },
      { seq: 1, size: newest!.size + 1 },
    ];
    for (const input of bad) await expectRefused(caller.audit.proof(input), 400, "invalid_request");
  });

  it("knows only the active location's log: the newest size of another location is out of range", async () => {
    const l1 = (await (await as("ada")).audit.listCheckpoints({ limit: 1 })).items[0]!.size;
    const l2 = (await (await as("adaL2")).audit.listCheckpoints({ limit: 1 })).items[0]!.size;
    expect(l1).toBeGreaterThan(l2);
    await expectRefused(
      (await as("adaL2")).audit.proof({ seq: 1, size: l1 }),
      400,
      "invalid_request",
    );
    const l2Items = await sealedItems("adaL2");
    const proof = await (await as("adaL2")).audit.proof({ seq: 1, size: l2 });
    expect(proof.leafHash).toBe(l2Items[0]!.leafHash);
  });
});

describe("who may read the Merkle log", () => {
  for (const who of [null, "milo", "otto", "impersonated"] as const) {
    it(`answers 401 to ${who ?? "anonymous"}`, async () => {
      const caller = await as(who);
      await expectRefused(caller.audit.listCheckpoints({}), 401, "unauthorized");
      await expectRefused(caller.audit.proof({ seq: 1, size: 1 }), 401, "unauthorized");
      await expectRefused(caller.audit.listEvents({}), 401, "unauthorized");
    });
  }
});
