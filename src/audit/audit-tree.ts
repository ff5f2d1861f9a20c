/**
 * The Merkle tree over the audit chain: leaf i is RFC 6962 leafHash(hash of the entry with
 * seq i + 1). After a purge the leaves before the anchor are gone, but their perfect-subtree
 * roots (the compact range in the anchor) are all any later root or proof needs.
 */
import type { Queryable } from '../platform/db/pool.js';
import { AuditRepository } from './audit.repository.js';
import { ZERO_HASH, entryHash } from './canonical.js';
import {
  EMPTY_ROOT,
  MerkleAccumulator,
  consistencyProof,
  inclusionProof,
  leafHash,
  nodeHash,
  verifyConsistency,
  verifyInclusion,
  type SubtreeHasher,
} from './merkle.js';

/** The compact range recorded by a purge anchor, hex-encoded as stored in its details. */
export interface TreeStateJson {
  size: number;
  hashes: string[];
}

export const stateToJson = (acc: MerkleAccumulator): TreeStateJson => {
  const s = acc.state();
  return { size: s.size, hashes: s.hashes.map((h) => h.toString('hex')) };
};

export const stateFromJson = (s: TreeStateJson): MerkleAccumulator =>
  MerkleAccumulator.fromState({ size: s.size, hashes: s.hashes.map((h) => Buffer.from(h, 'hex')) });

/** Where the retained log starts: the tree state (and last hash) before its first entry. */
export async function retainedStart(
  repo: AuditRepository,
): Promise<{ first: number; acc: MerkleAccumulator; prevHash: Buffer } | undefined> {
  const bounds = await repo.bounds();
  if (bounds.first === null) return { first: 1, acc: MerkleAccumulator.empty(), prevHash: ZERO_HASH };
  const first = Number(bounds.first);
  if (first === 1) return { first, acc: MerkleAccumulator.empty(), prevHash: ZERO_HASH };
  const anchor = await repo.anchorFor(String(first - 1));
  const tree = anchor?.details.tree as TreeStateJson | undefined;
  if (!anchor || !tree || typeof anchor.details.lastHash !== 'string') return undefined;
  return { first, acc: stateFromJson(tree), prevHash: Buffer.from(anchor.details.lastHash, 'hex') };
}

/**
 * Extends `acc` (whose last leaf is entry `acc.size`, with hash `prevHash`) with entries up to
 * `through`, checking each entry's hash and link first: a checkpoint is never signed over a
 * broken chain.
 */
export async function extendTree(
  db: Queryable,
  acc: MerkleAccumulator,
  prevHash: Buffer,
  through: number,
): Promise<Buffer> {
  const repo = new AuditRepository(db);
  let prev = prevHash;
  let next = acc.size + 1;
  while (next <= through) {
    const rows = await repo.range(String(next), String(through), 5000);
    if (rows.length === 0) break;
    for (const row of rows) {
      if (Number(row.seq) !== next)
        throw new Error(`audit log has a gap at seq ${next}: run vigil audit verify`);
      if (!entryHash(row).equals(row.hash) || !row.prevHash.equals(prev))
        throw new Error(`audit entry ${row.seq} fails verification: run vigil audit verify`);
      acc.append(leafHash(row.hash));
      prev = row.hash;
      next++;
    }
  }
  if (acc.size !== through) throw new Error(`audit log ends before seq ${through}`);
  return prev;
}

/** Subtree hashes over a retained suffix of leaves plus the compact range of the purged prefix. */
function prunedHasher(purged: MerkleAccumulator, retained: Buffer[]): SubtreeHasher {
  const p = purged.size;
  const known = new Map<string, Buffer>();
  let start = 0;
  const hashes = purged.state().hashes;
  for (let bit = 52, i = 0; bit >= 0; bit--) {
    const size = 2 ** bit;
    if (Math.floor(p / size) % 2 === 1) {
      known.set(`${start}:${start + size}`, hashes[i++]!);
      start += size;
    }
  }
  const mth = (s: number, e: number): Buffer => {
    const n = e - s;
    if (n === 0) return Buffer.from(EMPTY_ROOT);
    const hit = known.get(`${s}:${e}`);
    if (hit) return hit;
    if (s >= p && n === 1) {
      const leaf = retained[s - p];
      if (!leaf) throw new RangeError(`leaf ${s} is not in the log`);
      return leaf;
    }
    if (e <= p && n === 1) throw new RangeError(`leaf ${s} was purged`);
    let k = 1;
    while (k * 2 < n) k *= 2;
    return nodeHash(mth(s, s + k), mth(s + k, e));
  };
  return mth;
}

/** A hasher for the tree of the first `size` leaves as stored now. */
async function hasherFor(db: Queryable, size: number): Promise<{ mth: SubtreeHasher; purged: number }> {
  const repo = new AuditRepository(db);
  const start = await retainedStart(repo);
  if (!start) throw new Error('audit log start is missing its purge anchor: run vigil audit verify');
  const rows = size >= start.first ? await repo.hashes(String(start.first), String(size)) : [];
  if (rows.length !== Math.max(0, size - start.first + 1))
    throw new Error(`audit log does not hold entries ${start.first}..${size}: run vigil audit verify`);
  return {
    mth: prunedHasher(
      start.acc,
      rows.map((r) => leafHash(r.hash)),
    ),
    purged: start.acc.size,
  };
}

export interface InclusionProof {
  seq: string;
  leafIndex: number;
  treeSize: number;
  entryHash: string;
  leafHash: string;
  rootHash: string;
  proof: string[];
}

/** Inclusion proof of entry `seq` in the tree of size `treeSize` whose root is `root` (checked). */
export async function proveInclusion(
  db: Queryable,
  seq: number,
  treeSize: number,
  root: Buffer,
): Promise<InclusionProof> {
  if (!Number.isSafeInteger(seq) || seq < 1 || seq > treeSize)
    throw new RangeError(`seq ${seq} is not in a tree of ${treeSize} entries`);
  const entry = await new AuditRepository(db).get(String(seq));
  if (!entry) throw new RangeError(`entry ${seq} is not in the log (purged?)`);
  const { mth } = await hasherFor(db, treeSize);
  const leaf = leafHash(entry.hash);
  const proof = inclusionProof(mth, seq - 1, treeSize);
  if (!verifyInclusion(seq - 1, treeSize, leaf, proof, root))
    throw new Error(
      `the log no longer matches the checkpoint root for size ${treeSize}: run vigil audit verify`,
    );
  return {
    seq: String(seq),
    leafIndex: seq - 1,
    treeSize,
    entryHash: entry.hash.toString('hex'),
    leafHash: leaf.toString('hex'),
    rootHash: root.toString('hex'),
    proof: proof.map((h) => h.toString('hex')),
  };
}

export interface ConsistencyProof {
  size1: number;
  size2: number;
  root1: string;
  root2: string;
  proof: string[];
}

/** Consistency proof between two checkpoints' trees (checked before it is returned). */
export async function proveConsistency(
  db: Queryable,
  from: { size: number; root: Buffer },
  to: { size: number; root: Buffer },
): Promise<ConsistencyProof> {
  if (from.size > to.size) throw new RangeError('the first checkpoint must not be larger than the second');
  const { mth, purged } = await hasherFor(db, to.size);
  if (from.size > 0 && from.size < purged)
    throw new RangeError(`checkpoint size ${from.size} predates the purged range (${purged} entries)`);
  const proof = consistencyProof(mth, from.size, to.size);
  if (!verifyConsistency(from.size, to.size, from.root, to.root, proof))
    throw new Error(
      `checkpoints of size ${from.size} and ${to.size} are not consistent: run vigil audit verify`,
    );
  return {
    size1: from.size,
    size2: to.size,
    root1: from.root.toString('hex'),
    root2: to.root.toString('hex'),
    proof: proof.map((h) => h.toString('hex')),
  };
}
