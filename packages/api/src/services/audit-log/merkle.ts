// RFC 9162 §2.1 Merkle tree hashing over a location's audit log, in the shape the database keeps
// it: the hashes of perfect subtrees, addressed by (level, idx) — level k, idx i is the node over
// the leaves [i·2^k, (i+1)·2^k). Every root and inclusion proof is assembled from such nodes, so
// none needs more than O(log n) of them. Pure: no database here.
import { createHash } from "node:crypto";
import canonicalize from "canonicalize";

export interface NodeRef {
  level: number;
  idx: number;
}

export interface StoredNode extends NodeRef {
  hash: string;
}

const LEAF_PREFIX = Buffer.of(0);
const NODE_PREFIX = Buffer.of(1);

/** The RFC 8785 (JCS) serialization of an audit item, as its leaf hashes it. */
export function canonicalItem(item: object): string {
  const text = canonicalize(item);
  if (text === undefined) throw new Error("an audit item must serialize to JSON");
  return text;
}

/** Leaf hash: SHA-256(0x00 ‖ JCS(item)), unpadded base64url. */
export function leafHash(item: object): string {
  return createHash("sha256")
    .update(LEAF_PREFIX)
    .update(canonicalItem(item), "utf8")
    .digest("base64url");
}

/** Node hash: SHA-256(0x01 ‖ left ‖ right), unpadded base64url. */
export function nodeHash(left: string, right: string): string {
  return createHash("sha256")
    .update(NODE_PREFIX)
    .update(Buffer.from(left, "base64url"))
    .update(Buffer.from(right, "base64url"))
    .digest("base64url");
}

/** The largest power of two smaller than n (n > 1): RFC 9162's split point k. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

const isPowerOfTwo = (n: number) => n > 0 && Number.isInteger(Math.log2(n));

/**
 * The perfect subtrees a tree of `size` leaves splits into, left to right (its "frontier"): one
 * per bit of size, largest first.
 */
export function frontierRefs(size: number): NodeRef[] {
  const refs: NodeRef[] = [];
  let offset = 0;
  for (let level = 52; level >= 0; level--) {
    const width = 2 ** level;
    if (size - offset >= width) {
      refs.push({ level, idx: offset / width });
      offset += width;
    }
  }
  return refs;
}

/**
 * A tree being extended leaf by leaf: holds its frontier only, and reports every perfect subtree
 * completed by a new leaf (the leaf itself included), which is what the database stores.
 */
export class MerkleFrontier {
  private readonly stack: StoredNode[];

  /** Starts from the frontier of an existing tree (frontierRefs(size) with their hashes). */
  constructor(frontier: readonly StoredNode[] = []) {
    this.stack = [...frontier];
  }

  get size(): number {
    return this.stack.reduce((sum, node) => sum + 2 ** node.level, 0);
  }

  /** Appends a leaf; returns the nodes it completed, the leaf first. */
  append(hash: string): StoredNode[] {
    let node: StoredNode = { level: 0, idx: this.size, hash };
    const completed = [node];
    for (let top = this.stack.at(-1); top && top.level === node.level; top = this.stack.at(-1)) {
      this.stack.pop();
      node = { level: node.level + 1, idx: top.idx / 2, hash: nodeHash(top.hash, node.hash) };
      completed.push(node);
    }
    this.stack.push(node);
    return completed;
  }

  /** RFC 9162 MTH of the leaves so far: the frontier folded from the right. */
  root(): string {
    const last = this.stack.at(-1);
    if (!last) throw new Error("the empty tree has no root here");
    let root = last.hash;
    for (let index = this.stack.length - 2; index >= 0; index--)
      root = nodeHash(this.stack[index]!.hash, root);
    return root;
  }
}

/** A subtree hash to compute: a stored node, or two parts to combine. */
type Plan = { ref: NodeRef } | { left: Plan; right: Plan };

/** How MTH(D[start:end]) is made of perfect subtrees (RFC 9162 §2.1.1's recursion). */
function planRange(start: number, end: number): Plan {
  const width = end - start;
  if (isPowerOfTwo(width) && start % width === 0)
    return { ref: { level: Math.log2(width), idx: start / width } };
  const k = splitPoint(width);
  return { left: planRange(start, start + k), right: planRange(start + k, end) };
}

/** The inclusion proof of leaf index m in a tree of n leaves (RFC 9162 §2.1.3.1), as plans. */
function planPath(m: number, start: number, end: number): Plan[] {
  const n = end - start;
  if (n === 1) return [];
  const k = splitPoint(n);
  return m < k
    ? [...planPath(m, start, start + k), planRange(start + k, end)]
    : [...planPath(m - k, start + k, end), planRange(start, start + k)];
}

function refsOf(plan: Plan, into: NodeRef[]): NodeRef[] {
  if ("ref" in plan) into.push(plan.ref);
  else {
    refsOf(plan.left, into);
    refsOf(plan.right, into);
  }
  return into;
}

const refKey = (ref: NodeRef) => `${ref.level}:${ref.idx}`;

function evaluate(plan: Plan, nodes: ReadonlyMap<string, string>): string {
  if ("ref" in plan) {
    const hash = nodes.get(refKey(plan.ref));
    if (hash === undefined) throw new Error(`missing node ${refKey(plan.ref)}`);
    return hash;
  }
  return nodeHash(evaluate(plan.left, nodes), evaluate(plan.right, nodes));
}

/**
 * An inclusion proof from stored nodes: `needed` names the nodes to read, `build` makes the path
 * (leaf index m, 0-based, in a tree of n leaves; 0 <= m < n).
 */
export function inclusionProof(m: number, n: number) {
  const plans = planPath(m, 0, n);
  const needed = plans.flatMap((plan) => refsOf(plan, []));
  return {
    needed: [{ level: 0, idx: m }, ...needed],
    build(stored: readonly StoredNode[]): { leafHash: string; path: string[] } {
      const nodes = new Map(stored.map((node) => [refKey(node), node.hash]));
      return {
        leafHash: evaluate({ ref: { level: 0, idx: m } }, nodes),
        path: plans.map((plan) => evaluate(plan, nodes)),
      };
    },
  };
}
