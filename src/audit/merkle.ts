/**
 * RFC 6962 / RFC 9162 Merkle tree: tree hash, inclusion and consistency proofs.
 *
 * Verification follows RFC 9162 §2.1.3.2 and §2.1.4.2 literally and is strict about sizes and
 * proof lengths: verifier bugs, not hash breaks, are the realistic attack (see immudb
 * GHSA-672p-m5jq-mrh8), so the tests throw adversarial proofs at these functions.
 * Indices and sizes are JS numbers (safe integers); audit logs will not exceed 2^53 entries.
 */
import { createHash } from 'node:crypto';

export const HASH_SIZE = 32;

const sha256 = (...parts: Uint8Array[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

/** MTH of the empty tree: SHA-256(""). */
export const EMPTY_ROOT: Buffer = sha256();

/** Leaf hash: SHA-256(0x00 ‖ data). */
export function leafHash(data: Uint8Array): Buffer {
  return sha256(Buffer.from([0]), data);
}

/** Interior node: SHA-256(0x01 ‖ left ‖ right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return sha256(Buffer.from([1]), left, right);
}

function checkSize(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${what} must be a non-negative safe integer`);
}

// Largest power of two strictly smaller than n (n >= 2).
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** Hash of the subtree over leaves [start, end), from leaf hashes (MTH of that range). */
export type SubtreeHasher = (start: number, end: number) => Buffer;

/** A SubtreeHasher over an in-memory array of leaf hashes. */
export function arrayHasher(leafHashes: readonly Uint8Array[]): SubtreeHasher {
  const rec = (start: number, end: number): Buffer => {
    const n = end - start;
    if (n === 0) return EMPTY_ROOT;
    if (n === 1) return Buffer.from(leafHashes[start]!);
    const k = splitPoint(n);
    return nodeHash(rec(start, start + k), rec(start + k, end));
  };
  return rec;
}

/** MTH over leaf hashes (RFC 6962 §2.1). */
export function rootFromLeafHashes(leafHashes: readonly Uint8Array[]): Buffer {
  return arrayHasher(leafHashes)(0, leafHashes.length);
}

/** Inclusion proof (audit path) of leaf `index` in the tree of the first `treeSize` leaves (RFC 6962 §2.1.1). */
export function inclusionProof(
  leaves: readonly Uint8Array[] | SubtreeHasher,
  index: number,
  treeSize: number,
): Buffer[] {
  checkSize(index, 'index');
  checkSize(treeSize, 'treeSize');
  if (Array.isArray(leaves) && treeSize > leaves.length)
    throw new RangeError('treeSize exceeds the number of leaves');
  if (index >= treeSize) throw new RangeError('index must be < treeSize');
  const mth = typeof leaves === 'function' ? leaves : arrayHasher(leaves as readonly Uint8Array[]);
  const path = (m: number, start: number, end: number): Buffer[] => {
    const n = end - start;
    if (n === 1) return [];
    const k = splitPoint(n);
    return m < k
      ? [...path(m, start, start + k), mth(start + k, end)]
      : [...path(m - k, start + k, end), mth(start, start + k)];
  };
  return path(index, 0, treeSize);
}

/** Consistency proof between tree sizes size1 ≤ size2 (RFC 6962 §2.1.2). */
export function consistencyProof(
  leaves: readonly Uint8Array[] | SubtreeHasher,
  size1: number,
  size2: number,
): Buffer[] {
  checkSize(size1, 'size1');
  checkSize(size2, 'size2');
  if (Array.isArray(leaves) && size2 > leaves.length)
    throw new RangeError('size2 exceeds the number of leaves');
  if (size1 > size2) throw new RangeError('size1 must be <= size2');
  if (size1 === 0 || size1 === size2) return [];
  const mth = typeof leaves === 'function' ? leaves : arrayHasher(leaves as readonly Uint8Array[]);
  const subproof = (m: number, start: number, end: number, b: boolean): Buffer[] => {
    const n = end - start;
    if (m === n) return b ? [] : [mth(start, end)];
    const k = splitPoint(n);
    return m <= k
      ? [...subproof(m, start, start + k, b), mth(start + k, end)]
      : [...subproof(m - k, start + k, end, false), mth(start, start + k)];
  };
  return subproof(size1, 0, size2, true);
}

const isHash = (h: unknown): h is Uint8Array => h instanceof Uint8Array && h.length === HASH_SIZE;
const odd = (x: number): boolean => x % 2 === 1;
const half = (x: number): number => Math.floor(x / 2);

/**
 * Root implied by an inclusion proof (RFC 9162 §2.1.3.2), or undefined if the proof is
 * malformed for these parameters.
 */
export function rootFromInclusionProof(
  index: number,
  treeSize: number,
  leaf: Uint8Array,
  proof: readonly Uint8Array[],
): Buffer | undefined {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(treeSize) || index < 0 || index >= treeSize)
    return undefined;
  if (!isHash(leaf) || !proof.every(isHash)) return undefined;
  let fn = index;
  let sn = treeSize - 1;
  let r: Buffer = Buffer.from(leaf);
  for (const p of proof) {
    if (sn === 0) return undefined;
    if (odd(fn) || fn === sn) {
      r = nodeHash(p, r);
      if (!odd(fn)) {
        while (!odd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 ? r : undefined;
}

/** True iff `proof` shows leaf hash `leaf` at `index` in the tree of size `treeSize` with root `root`. */
export function verifyInclusion(
  index: number,
  treeSize: number,
  leaf: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!isHash(root)) return false;
  const r = rootFromInclusionProof(index, treeSize, leaf, proof);
  return r !== undefined && r.equals(root);
}

/**
 * True iff `proof` shows the tree of size1 with root1 is a prefix of the tree of size2 with root2
 * (RFC 9162 §2.1.4.2). Size 0 is consistent with everything (with an empty proof); equal sizes
 * need equal roots and an empty proof; size2 < size1 ("time travel") always fails.
 */
export function verifyConsistency(
  size1: number,
  size2: number,
  root1: Uint8Array,
  root2: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  if (!Number.isSafeInteger(size1) || !Number.isSafeInteger(size2) || size1 < 0 || size2 < size1)
    return false;
  if (!proof.every(isHash)) return false;
  if (size1 === size2)
    return proof.length === 0 && isHash(root1) && isHash(root2) && Buffer.from(root1).equals(root2);
  if (size1 === 0) return proof.length === 0;
  if (!isHash(root1) || !isHash(root2) || proof.length === 0) return false;

  // Step 1: when size1 is a power of two, root1 is itself the first node of the path.
  const path = isPow2(size1) ? [root1, ...proof] : [...proof];
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (odd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr: Buffer = Buffer.from(path[0]!);
  let sr: Buffer = Buffer.from(path[0]!);
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (odd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (!odd(fn)) {
        while (!odd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && fr.equals(root1) && sr.equals(root2);
}

function isPow2(n: number): boolean {
  let x = n;
  while (x > 1) {
    if (odd(x)) return false;
    x = half(x);
  }
  return x === 1;
}

/**
 * Append-only accumulator: the roots of the perfect subtrees covering leaves [0, size) (a
 * "compact range"). The writer keeps only O(log n) hashes to compute each new root; persist
 * `state()` beside the last leaf and restore with `fromState`.
 */
export class MerkleAccumulator {
  private constructor(
    private n: number,
    private readonly stack: Buffer[], // perfect subtree roots, largest (leftmost) first
  ) {}

  /** An empty tree. */
  static empty(): MerkleAccumulator {
    return new MerkleAccumulator(0, []);
  }

  /** Restores from `state()`; the number of hashes must equal the popcount of size. */
  static fromState(state: { size: number; hashes: readonly Uint8Array[] }): MerkleAccumulator {
    checkSize(state.size, 'size');
    let bits = 0;
    for (let x = state.size; x > 0; x = half(x)) bits += x % 2;
    if (bits !== state.hashes.length || !state.hashes.every(isHash))
      throw new RangeError('accumulator state does not match its size');
    return new MerkleAccumulator(
      state.size,
      state.hashes.map((h) => Buffer.from(h)),
    );
  }

  get size(): number {
    return this.n;
  }

  /** Appends a leaf hash (use leafHash(data) for raw entries). */
  append(leaf: Uint8Array): void {
    if (!isHash(leaf)) throw new RangeError('leaf hash must be 32 bytes');
    let h: Buffer = Buffer.from(leaf);
    // Each trailing 1 bit of the old size is a perfect subtree of the same height: merge.
    for (let s = this.n; odd(s); s = half(s)) h = nodeHash(this.stack.pop()!, h);
    this.stack.push(h);
    this.n++;
  }

  /** Current MTH. */
  root(): Buffer {
    if (this.stack.length === 0) return Buffer.from(EMPTY_ROOT);
    let r = this.stack[this.stack.length - 1]!;
    for (let i = this.stack.length - 2; i >= 0; i--) r = nodeHash(this.stack[i]!, r);
    return r;
  }

  /** Serializable state. */
  state(): { size: number; hashes: Buffer[] } {
    return { size: this.n, hashes: this.stack.map((h) => Buffer.from(h)) };
  }
}
