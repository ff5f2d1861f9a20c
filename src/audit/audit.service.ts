import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { withTransaction, type Pool } from '../platform/db/pool.js';
import type { JobDefinition, ScheduleDefinition } from '../platform/jobs/types.js';
import type { Logger } from '../platform/logging/logger.js';
import { AuditLog } from './audit-log.js';
import { AuditRepository } from './audit.repository.js';
import {
  extendTree,
  proveConsistency,
  proveInclusion,
  retainedStart,
  stateFromJson,
  stateToJson,
  type ConsistencyProof,
  type InclusionProof,
} from './audit-tree.js';
import { formatCheckpointBody, keyIdOf, verifyCheckpoint } from './checkpoint.js';
import type { AuditConfig } from './config.js';
import { MerkleAccumulator } from './merkle.js';
import { verifierKeyFor, type AuditSigner } from './signer.js';
import { checkpointSyslogLine, sendSyslogUdp, toSyslogLine } from './syslog.js';
import type { StoredCheckpoint } from './types.js';
import { verifyAuditLog, type VerifyOptions, type VerifyReport } from './verify.js';

export interface AuditServiceDeps {
  pool: Pool;
  config: AuditConfig;
  dataDir: string;
  /** The checkpoint signing key, or a provider opened on first use (e.g. reading a key file). */
  signer: AuditSigner | (() => Promise<AuditSigner>);
  logger?: Logger;
}

/** Checkpoints, their publication outside the database, proofs, verification, purge and export. */
export class AuditService {
  readonly log: AuditLog;
  private readonly repo: AuditRepository;
  private signerPromise?: Promise<AuditSigner>;

  constructor(private readonly deps: AuditServiceDeps) {
    this.log = new AuditLog(deps.pool);
    this.repo = new AuditRepository(deps.pool);
  }

  /** The exported checkpoints file. */
  get checkpointsFile(): string {
    return this.deps.config.checkpoints.file ?? join(resolve(this.deps.dataDir), 'audit', 'checkpoints.log');
  }

  private signer(): Promise<AuditSigner> {
    const { signer } = this.deps;
    this.signerPromise ??= typeof signer === 'function' ? signer() : Promise.resolve(signer);
    return this.signerPromise;
  }

  /** The verifier key auditors pin to check checkpoint signatures. */
  async verifierKey(): Promise<string> {
    return verifierKeyFor(await this.signer());
  }

  /** The current verifier key and those of earlier signing keys (another `audit.signature`). */
  async trustedVerifierKeys(): Promise<string[]> {
    const signer = await this.signer();
    return [verifierKeyFor(signer), ...(signer.previousVerifierKeys ?? [])];
  }

  /**
   * Signs a checkpoint over the whole log when it grew since the last one (the new entries'
   * chain is checked first), stores it, then publishes every stored checkpoint not yet exported.
   */
  async checkpoint(): Promise<{ checkpoint: StoredCheckpoint; created: boolean; published: number }> {
    const result = await withTransaction(this.deps.pool, async (client) => {
      const repo = new AuditRepository(client);
      // Holds appends and purges off while the tree is extended (the delta since the last one).
      await repo.lockChain();
      const bounds = await repo.bounds();
      const size = bounds.last === null ? 0 : Number(bounds.last);
      const latest = await repo.latestCheckpoint();
      if (latest && latest.treeSize === size) return { checkpoint: latest, created: false };
      const start = await retainedStart(repo);
      if (!start) throw new Error('audit log start is missing its purge anchor: run vigil audit verify');
      let acc = start.acc;
      let prevHash = start.prevHash;
      if (latest && latest.treeSize >= start.acc.size && latest.treeSize <= size) {
        acc = MerkleAccumulator.fromState({ size: latest.treeSize, hashes: latest.treeState });
        const last = latest.treeSize > 0 ? await repo.get(String(latest.treeSize)) : undefined;
        if (latest.treeSize > 0 && !last)
          throw new Error(`audit entry ${latest.treeSize} is missing: run vigil audit verify`);
        if (last) prevHash = last.hash;
        if (!acc.root().equals(latest.rootHash))
          throw new Error(`stored checkpoint #${latest.id} is corrupt`);
      }
      await extendTree(client, acc, prevHash, size);
      const rootHash = acc.root();
      const signer = await this.signer();
      const algorithm = signer.algorithm ?? 'ed25519';
      if (algorithm !== this.deps.config.signature)
        throw new Error(
          `audit.signature is ${this.deps.config.signature} but the checkpoint signer uses ${algorithm}`,
        );
      const note = await this.sign(signer, { origin: this.deps.config.origin, size, rootHash });
      verifyCheckpoint(note, [verifierKeyFor(signer)], { origin: this.deps.config.origin });
      const checkpoint = await repo.insertCheckpoint({
        treeSize: size,
        rootHash,
        treeState: acc.state().hashes,
        origin: this.deps.config.origin,
        keyName: signer.keyName,
        signatureAlg: algorithm,
        note,
      });
      return { checkpoint, created: true };
    });
    const published = await this.publish();
    return { ...result, published };
  }

  private async sign(
    signer: AuditSigner,
    cp: { origin: string; size: number; rootHash: Buffer },
  ): Promise<string> {
    const body = formatCheckpointBody(cp);
    const signature = await signer.sign(Buffer.from(body, 'utf8'));
    const keyId = keyIdOf(signer.keyName, signer.publicKey, signer.algorithm ?? 'ed25519');
    return `${body}\n\u2014 ${signer.keyName} ${Buffer.concat([keyId, signature]).toString('base64')}\n`;
  }

  /**
   * Appends stored checkpoints newer than the file's last line to the checkpoints file (and
   * syslog when configured). Idempotent, so a failed publication is retried by the next run.
   */
  async publish(): Promise<number> {
    const file = this.checkpointsFile;
    await mkdir(dirname(file), { recursive: true, mode: 0o750 });
    let lastId = 0n;
    try {
      const lines = (await readFile(file, 'utf8')).trimEnd().split('\n').filter(Boolean);
      const tail = lines.at(-1);
      if (tail) lastId = BigInt((JSON.parse(tail) as { id: string }).id);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const pending = (await this.repo.checkpoints())
      .filter((c) => BigInt(c.id) > lastId)
      .sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
    if (pending.length === 0) return 0;
    await appendFile(
      file,
      pending
        .map(
          (c) =>
            JSON.stringify({
              id: c.id,
              treeSize: c.treeSize,
              rootHash: c.rootHash.toString('base64'),
              createdAt: c.createdAt.toISOString(),
              alg: c.signatureAlg,
              note: c.note,
            }) + '\n',
        )
        .join(''),
      { mode: 0o640 },
    );
    const syslog = this.deps.config.checkpoints.syslog;
    if (syslog) {
      await sendSyslogUdp(
        pending.map((c) => checkpointSyslogLine(c)),
        syslog,
      ).catch((err: Error) => this.deps.logger?.warn({ err }, 'audit checkpoint: syslog delivery failed'));
    }
    return pending.length;
  }

  /** Verifies the log against stored checkpoints, the exported file and the signing keys. */
  async verify(options: VerifyOptions = {}): Promise<VerifyReport> {
    return verifyAuditLog(this.deps.pool, { verifierKeys: await this.trustedVerifierKeys(), ...options });
  }

  /** Inclusion proof of entry `seq` in a checkpoint (the latest when none is named). */
  async proveInclusion(
    seq: number,
    checkpointId?: string,
  ): Promise<{ checkpoint: Pick<StoredCheckpoint, 'id' | 'treeSize' | 'note'>; proof: InclusionProof }> {
    const cp = await this.checkpointOrLatest(checkpointId);
    const proof = await proveInclusion(this.deps.pool, seq, cp.treeSize, cp.rootHash);
    return { checkpoint: { id: cp.id, treeSize: cp.treeSize, note: cp.note }, proof };
  }

  /** Consistency proof from one checkpoint to another (the latest when `to` is not named). */
  async proveConsistency(fromId: string, toId?: string): Promise<ConsistencyProof> {
    const from = await this.checkpointOrLatest(fromId);
    const to = await this.checkpointOrLatest(toId);
    return proveConsistency(
      this.deps.pool,
      { size: from.treeSize, root: from.rootHash },
      { size: to.treeSize, root: to.rootHash },
    );
  }

  private async checkpointOrLatest(id?: string): Promise<StoredCheckpoint> {
    const cp = id ? await this.repo.checkpoint(id) : await this.repo.latestCheckpoint();
    if (!cp)
      throw new RangeError(
        id ? `checkpoint ${id} not found` : 'no checkpoint yet: run vigil audit checkpoint',
      );
    return cp;
  }

  /**
   * Deletes entries older than the retention, keeping verification possible: an anchor entry
   * records the last purged hash and the tree state, then audit_purge() deletes through it.
   */
  async purge(now = new Date()): Promise<{ purgedThrough: string | null; deleted: number }> {
    const days = this.deps.config.retentionDays;
    const cutoff = new Date(now.getTime() - days * 86_400_000);
    return withTransaction(this.deps.pool, async (client) => {
      const repo = new AuditRepository(client);
      await repo.lockChain();
      const through = await repo.lastSeqBefore(cutoff);
      const start = await retainedStart(repo);
      if (!start) throw new Error('audit log start is missing its purge anchor: run vigil audit verify');
      if (through === null || Number(through) < start.first) return { purgedThrough: null, deleted: 0 };
      const acc = stateFromJson(stateToJson(start.acc));
      const lastHash = await extendTree(client, acc, start.prevHash, Number(through));
      await this.log.recordAnchor(client, {
        actor: 'system',
        action: 'audit.purge',
        result: 'allowed',
        reason: `retention ${days} days`,
        details: {
          purgedThrough: through,
          lastHash: lastHash.toString('hex'),
          tree: stateToJson(acc),
          cutoff: cutoff.toISOString(),
        },
      });
      const deleted = await repo.purgeThrough(through, days);
      return { purgedThrough: through, deleted };
    });
  }

  /** Streams entries (oldest first) as JSONL or RFC 5424 lines to `write`. */
  async export(
    options: { format: 'jsonl' | 'syslog'; since?: Date },
    write: (line: string) => void | Promise<void>,
  ): Promise<number> {
    let after = '0';
    let n = 0;
    for (;;) {
      const rows = await this.repo.since(options.since ?? null, after, 1000);
      for (const e of rows) {
        const line =
          options.format === 'syslog'
            ? toSyslogLine(e)
            : JSON.stringify({ ...e, prevHash: e.prevHash.toString('hex'), hash: e.hash.toString('hex') });
        await write(line + '\n');
        n++;
      }
      if (rows.length < 1000) return n;
      after = rows.at(-1)!.seq;
    }
  }

  /** Background jobs and schedules: checkpoints every ten minutes, purge daily. */
  jobs(): { jobs: JobDefinition[]; schedules: ScheduleDefinition[] } {
    return {
      jobs: [
        {
          name: 'audit.checkpoint',
          handler: async () => {
            const r = await this.checkpoint();
            return {
              id: r.checkpoint.id,
              treeSize: r.checkpoint.treeSize,
              created: r.created,
              published: r.published,
            };
          },
        },
        { name: 'audit.purge', handler: async () => this.purge() },
      ],
      schedules: [
        { name: 'audit.checkpoint', cron: '0 */10 * * * *', job: 'audit.checkpoint' },
        { name: 'audit.purge', cron: '0 15 3 * * *', job: 'audit.purge' },
      ],
    };
  }
}
