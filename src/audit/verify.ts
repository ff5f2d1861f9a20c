/**
 * Recomputes the audit chain and its Merkle tree and names the first entry that was altered,
 * removed, inserted or reordered, and any checkpoint (stored or exported) the log no longer
 * matches. A superuser can rewrite the chain consistently; only checkpoints kept outside the
 * database (the exported file, a witness) catch that, which is why they are compared too.
 */
import { readFile } from 'node:fs/promises';
import type { Pool } from '../platform/db/pool.js';
import { AuditRepository } from './audit.repository.js';
import { ZERO_HASH, entryHash } from './canonical.js';
import {
  CheckpointError,
  SIGNATURE_ALGORITHMS,
  parseCheckpoint,
  verifyNoteSigners,
  type SignatureAlgorithm,
} from './checkpoint.js';
import { MerkleAccumulator, leafHash } from './merkle.js';
import type { AuditEvent } from './types.js';

export type ProblemKind = 'altered' | 'removed' | 'inserted' | 'reordered' | 'checkpoint' | 'signature';

export interface AuditProblem {
  /** The first entry concerned (a decimal seq). */
  seq: string;
  kind: ProblemKind;
  message: string;
}

export interface VerifyOptions {
  from?: string | number | bigint;
  to?: string | number | bigint;
  /** Exported checkpoints (JSONL, as written by the checkpoint sink) to compare with. */
  checkpointsFile?: string;
  /** Trusted note verifier keys; when given, every checkpoint's signature is checked too. */
  verifierKeys?: string[];
  batchSize?: number;
}

export interface VerifyReport {
  ok: boolean;
  /** Entries read. */
  checked: number;
  first: string | null;
  last: string | null;
  /** Tree size and root after the last entry read (full scans only). */
  treeSize: number | null;
  rootHash: string | null;
  checkpointsChecked: number;
  /** Checkpoints that predate a purge or lie outside the verified range. */
  checkpointsSkipped: number;
  firstProblem?: AuditProblem;
  problems: AuditProblem[];
}

interface CheckpointRef {
  source: string;
  size: number;
  root: Buffer;
}

const MAX_PROBLEMS = 100;

/**
 * Reads a checkpoints file written by the sink: one JSON object with a `note` per line, and its
 * signature algorithm `alg` (lines written before SM2 support have none: Ed25519).
 */
export async function readCheckpointsFile(
  file: string,
): Promise<{ line: number; note: string; alg?: SignatureAlgorithm }[]> {
  const text = await readFile(file, 'utf8');
  const out: { line: number; note: string; alg?: SignatureAlgorithm }[] = [];
  text.split('\n').forEach((raw, i) => {
    if (!raw.trim()) return;
    let parsed: { note?: unknown; alg?: unknown };
    try {
      parsed = JSON.parse(raw) as { note?: unknown; alg?: unknown };
    } catch {
      throw new CheckpointError(`${file}:${i + 1}: not a JSON line`);
    }
    const { note, alg } = parsed;
    if (typeof note !== 'string') throw new CheckpointError(`${file}:${i + 1}: no "note"`);
    if (alg !== undefined && !SIGNATURE_ALGORITHMS.includes(alg as SignatureAlgorithm))
      throw new CheckpointError(`${file}:${i + 1}: unknown "alg" ${JSON.stringify(alg)}`);
    out.push({ line: i + 1, note, alg: alg as SignatureAlgorithm | undefined });
  });
  return out;
}

/** Verifies the chain, the tree and the checkpoints; see VerifyReport. */
export async function verifyAuditLog(pool: Pool, options: VerifyOptions = {}): Promise<VerifyReport> {
  const repo = new AuditRepository(pool);
  const chainProblems: AuditProblem[] = [];
  const treeProblems: AuditProblem[] = [];
  const add = (list: AuditProblem[], p: AuditProblem) => {
    if (chainProblems.length + treeProblems.length < MAX_PROBLEMS) list.push(p);
  };
  const batchSize = options.batchSize ?? 5000;
  const bounds = await repo.bounds();
  const partial = options.from !== undefined || options.to !== undefined;

  // Checkpoints to compare: stored ones and, when given, exported ones.
  const refs: CheckpointRef[] = [];
  // The signature must verify under a trusted key of the algorithm the checkpoint records (the
  // key id in the note selects the key, and so the algorithm).
  const checkSignature = (
    source: string,
    note: string,
    size: number,
    alg: SignatureAlgorithm | undefined,
  ): boolean => {
    if (!options.verifierKeys?.length) return true;
    try {
      parseCheckpoint(note);
      const { verifiedBy } = verifyNoteSigners(note, options.verifierKeys);
      if (alg && !verifiedBy.some((v) => (v.algorithm ?? 'ed25519') === alg))
        throw new CheckpointError(`recorded as ${alg} but no trusted ${alg} signature verifies`);
      return true;
    } catch (err) {
      add(treeProblems, {
        seq: String(Math.max(size, 1)),
        kind: 'signature',
        message: `${source}: ${(err as Error).message}`,
      });
      return false;
    }
  };
  for (const cp of await repo.checkpoints()) {
    const source = `stored checkpoint #${cp.id}`;
    if (checkSignature(source, cp.note, cp.treeSize, cp.signatureAlg))
      refs.push({ source, size: cp.treeSize, root: cp.rootHash });
  }
  if (options.checkpointsFile) {
    for (const { line, note, alg } of await readCheckpointsFile(options.checkpointsFile)) {
      const { checkpoint } = parseCheckpoint(note);
      const source = `exported checkpoint ${options.checkpointsFile}:${line}`;
      if (checkSignature(source, note, checkpoint.size, alg ?? 'ed25519'))
        refs.push({ source, size: checkpoint.size, root: checkpoint.rootHash });
    }
  }
  refs.sort((a, b) => a.size - b.size);

  let expected: bigint;
  let prevHash: Buffer | null;
  let acc: MerkleAccumulator | null = null;
  if (bounds.first === null) {
    expected = 1n;
    prevHash = ZERO_HASH;
    acc = partial ? null : MerkleAccumulator.empty();
  } else if (!partial || BigInt(options.from ?? bounds.first) <= BigInt(bounds.first)) {
    expected = BigInt(bounds.first);
    if (expected === 1n) {
      prevHash = ZERO_HASH;
      acc = MerkleAccumulator.empty();
    } else {
      // A purge leaves an anchor entry with the last purged hash and the tree state.
      const anchor = await repo.anchorFor((expected - 1n).toString());
      const tree = anchor?.details.tree as { size?: number; hashes?: string[] } | undefined;
      const lastHash = anchor?.details.lastHash;
      if (anchor && tree && typeof lastHash === 'string' && Array.isArray(tree.hashes)) {
        prevHash = Buffer.from(lastHash, 'hex');
        acc = MerkleAccumulator.fromState({
          size: Number(tree.size),
          hashes: tree.hashes.map((h) => Buffer.from(h, 'hex')),
        });
      } else {
        add(chainProblems, {
          seq: '1',
          kind: 'removed',
          message: `entries 1..${expected - 1n} are missing and no purge anchor accounts for them`,
        });
        prevHash = null;
      }
    }
    if (partial) acc = null;
  } else {
    expected = BigInt(options.from!);
    const before = await repo.get((expected - 1n).toString());
    prevHash = before?.hash ?? null;
    if (!before)
      add(chainProblems, {
        seq: (expected - 1n).toString(),
        kind: 'removed',
        message: `entry ${expected - 1n} (before the range) is missing`,
      });
  }
  const to = options.to !== undefined ? BigInt(options.to) : null;

  let skipped = 0;
  let checked = 0;
  let cpIndex = 0;
  let lastGoodSize = acc?.size ?? 0;
  const matchCheckpoints = () => {
    if (!acc) return;
    while (cpIndex < refs.length && refs[cpIndex]!.size <= acc.size) {
      const ref = refs[cpIndex++]!;
      if (ref.size < acc.size) {
        skipped++;
        continue;
      }
      if (acc.root().equals(ref.root)) {
        lastGoodSize = ref.size;
      } else {
        add(treeProblems, {
          seq: String(lastGoodSize + 1),
          kind: 'checkpoint',
          message:
            `the log does not match ${ref.source} (size ${ref.size}): an entry in ` +
            `${lastGoodSize + 1}..${ref.size} was altered, removed or inserted`,
        });
      }
    }
  };
  // Checkpoints older than the retained range (purged) cannot be recomputed.
  if (acc)
    while (cpIndex < refs.length && refs[cpIndex]!.size < acc.size) {
      cpIndex++;
      skipped++;
    }
  matchCheckpoints();

  let first: string | null = null;
  let last: string | null = null;
  let cursor = expected;
  let shift = 0n;
  let prevFlagged = false;
  for (;;) {
    const rows = await repo.range(cursor.toString(), to === null ? null : to.toString(), batchSize);
    if (rows.length === 0) break;
    for (const row of rows) {
      const seq = BigInt(row.seq);
      first ??= row.seq;
      last = row.seq;
      checked++;
      if (seq > expected) {
        add(chainProblems, {
          seq: expected.toString(),
          kind: 'removed',
          message:
            seq - expected === 1n
              ? `entry ${expected} was removed`
              : `entries ${expected}..${seq - 1n} were removed`,
        });
        prevHash = null;
        acc = null; // tree positions no longer line up with seqs
      }
      const valid = entryHash(row).equals(row.hash);
      if (!valid) {
        const { problem, offset } = await diagnose(repo, row);
        // Entries shifted by one insertion or removal are one problem, not one per entry.
        if (offset === 0n || offset !== shift) add(chainProblems, problem);
        shift = offset;
      } else if (prevHash && !prevFlagged && !row.prevHash.equals(prevHash)) {
        add(chainProblems, {
          seq: (seq - 1n).toString(),
          kind: 'altered',
          message: `entry ${seq - 1n} no longer matches the hash entry ${seq} chained to (altered and re-hashed, or ${seq} forged)`,
        });
      }
      if (valid) shift = 0n;
      prevFlagged = !valid;
      prevHash = row.hash;
      acc?.append(leafHash(row.hash));
      matchCheckpoints();
      expected = seq + 1n;
    }
    cursor = expected;
    if (rows.length < batchSize) break;
  }
  if (acc && to === null) {
    const beyond = refs.slice(cpIndex).filter((r) => r.size > acc!.size);
    if (beyond.length > 0)
      add(treeProblems, {
        seq: String(acc.size + 1),
        kind: 'removed',
        message: `${beyond[0]!.source} covers ${beyond[0]!.size} entries but the log ends at ${acc.size}: entries from ${acc.size + 1} were removed`,
      });
  } else {
    skipped += refs.length - cpIndex;
  }

  const byFirst = (a: AuditProblem, b: AuditProblem) =>
    BigInt(a.seq) < BigInt(b.seq) ? -1 : BigInt(a.seq) > BigInt(b.seq) ? 1 : 0;
  chainProblems.sort(byFirst);
  treeProblems.sort(byFirst);
  const problems = [...chainProblems, ...treeProblems];
  return {
    ok: problems.length === 0,
    checked,
    first,
    last,
    treeSize: acc?.size ?? null,
    rootHash: acc?.root().toString('hex') ?? null,
    checkpointsChecked: refs.length - skipped,
    checkpointsSkipped: skipped,
    firstProblem: problems[0],
    problems,
  };
}

/**
 * Why an entry's hash does not match: content altered, or the entry moved to another seq
 * (reordered, or shifted by an insertion or a removal with renumbering). Returns the offset
 * (original seq - current seq) so a run of shifted entries is reported once.
 */
async function diagnose(
  repo: AuditRepository,
  row: AuditEvent,
): Promise<{ problem: AuditProblem; offset: bigint }> {
  const seq = BigInt(row.seq);
  const fromLink = row.prevHash.equals(ZERO_HASH)
    ? [1n]
    : (await repo.seqsWithHash(row.prevHash)).map((s) => BigInt(s) + 1n);
  for (const original of new Set([seq - 1n, seq + 1n, ...fromLink])) {
    if (original === seq || original < 1n) continue;
    if (!entryHash({ ...row, seq: original.toString() }).equals(row.hash)) continue;
    const offset = original - seq;
    if (offset === -1n)
      return {
        offset,
        problem: {
          seq: (seq - 1n).toString(),
          kind: 'inserted',
          message: `entry ${seq - 1n} was inserted: the entry now at ${seq} was written as ${seq - 1n} and renumbered`,
        },
      };
    if (offset === 1n)
      return {
        offset,
        problem: {
          seq: row.seq,
          kind: 'removed',
          message: `entry ${seq} was removed: the entry now at ${seq} was written as ${seq + 1n} and renumbered`,
        },
      };
    return {
      offset,
      problem: {
        seq: row.seq,
        kind: 'reordered',
        message: `the entry at seq ${seq} was written as seq ${original} (entries reordered)`,
      },
    };
  }
  return {
    offset: 0n,
    problem: {
      seq: row.seq,
      kind: 'altered',
      message: `entry ${seq} does not match its hash (altered or forged)`,
    },
  };
}
