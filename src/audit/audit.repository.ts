import type { Queryable } from '../platform/db/pool.js';
import type { AuditEvent, AuditKind, AuditResult, StoredCheckpoint } from './types.js';
import type { SignatureAlgorithm } from './checkpoint.js';

// Any constant works as long as every process uses the same one ("audt").
export const AUDIT_CHAIN_LOCK = 0x61_75_64_74;

interface EventRow {
  seq: string;
  kind: AuditKind;
  corp_id: number | null;
  occurred_at: Date;
  actor: string;
  actor_ip: string | null;
  action: string;
  resource_type: string | null;
  resource_ids: string[];
  reason: string | null;
  result: AuditResult;
  details: Record<string, unknown>;
  prev_hash: Buffer;
  hash: Buffer;
}

const toEvent = (r: EventRow): AuditEvent => ({
  seq: r.seq,
  kind: r.kind,
  corpId: r.corp_id,
  occurredAt: r.occurred_at,
  actor: r.actor,
  actorIp: r.actor_ip,
  action: r.action,
  resourceType: r.resource_type,
  resourceIds: r.resource_ids,
  reason: r.reason,
  result: r.result,
  details: r.details,
  prevHash: r.prev_hash,
  hash: r.hash,
});

interface CheckpointRow {
  id: string;
  tree_size: string;
  root_hash: Buffer;
  tree_state: Buffer[];
  origin: string;
  key_name: string;
  signature_alg: SignatureAlgorithm;
  note: string;
  created_at: Date;
}

const toCheckpoint = (r: CheckpointRow): StoredCheckpoint => ({
  id: r.id,
  treeSize: Number(r.tree_size),
  rootHash: r.root_hash,
  treeState: r.tree_state,
  origin: r.origin,
  keyName: r.key_name,
  signatureAlg: r.signature_alg,
  note: r.note,
  createdAt: r.created_at,
});

export interface EventFilter {
  corpId?: number;
  /** Only these corps' events (system events have no corp and are excluded). */
  corpIds?: number[];
  actor?: string;
  action?: string;
  result?: AuditResult;
  since?: Date;
  until?: Date;
  /** Entries before this seq (paging backwards). */
  beforeSeq?: string;
  limit: number;
}

/** SQL for the audit chain and its checkpoints. */
export class AuditRepository {
  constructor(private readonly db: Queryable) {}

  /** Serialises appends until the caller's transaction ends (must run inside one). */
  async lockChain(): Promise<void> {
    await this.db.query('SELECT pg_advisory_xact_lock($1)', [AUDIT_CHAIN_LOCK]);
  }

  async head(): Promise<{ seq: string; hash: Buffer } | undefined> {
    const { rows } = await this.db.query<{ seq: string; hash: Buffer }>(
      'SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1',
    );
    return rows[0];
  }

  async insert(e: AuditEvent): Promise<void> {
    await this.db.query(
      `INSERT INTO audit_events (seq, kind, corp_id, occurred_at, actor, actor_ip, action, resource_type,
         resource_ids, reason, result, details, prev_hash, hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
      [
        e.seq,
        e.kind,
        e.corpId,
        e.occurredAt,
        e.actor,
        e.actorIp,
        e.action,
        e.resourceType,
        e.resourceIds,
        e.reason,
        e.result,
        JSON.stringify(e.details),
        e.prevHash,
        e.hash,
      ],
    );
  }

  /** Entries with seq in [from, to], in seq order. */
  async range(from: string, to: string | null, limit: number): Promise<AuditEvent[]> {
    const { rows } = await this.db.query<EventRow>(
      `SELECT * FROM audit_events WHERE seq >= $1 AND ($2::bigint IS NULL OR seq <= $2)
       ORDER BY seq LIMIT $3`,
      [from, to, limit],
    );
    return rows.map(toEvent);
  }

  /** Stored hashes of entries with seq in [from, to], in seq order. */
  async hashes(from: string, to: string): Promise<{ seq: string; hash: Buffer }[]> {
    const { rows } = await this.db.query<{ seq: string; hash: Buffer }>(
      'SELECT seq, hash FROM audit_events WHERE seq >= $1 AND seq <= $2 ORDER BY seq',
      [from, to],
    );
    return rows;
  }

  async get(seq: string): Promise<AuditEvent | undefined> {
    const { rows } = await this.db.query<EventRow>('SELECT * FROM audit_events WHERE seq = $1', [seq]);
    return rows[0] ? toEvent(rows[0]) : undefined;
  }

  async bounds(): Promise<{ first: string | null; last: string | null; count: string }> {
    const { rows } = await this.db.query<{ first: string | null; last: string | null; count: string }>(
      'SELECT min(seq) AS first, max(seq) AS last, count(*) AS count FROM audit_events',
    );
    return rows[0]!;
  }

  /** Seqs of the entries whose stored hash is `hash` (for diagnosing a moved entry). */
  async seqsWithHash(hash: Buffer): Promise<string[]> {
    const { rows } = await this.db.query<{ seq: string }>(
      'SELECT seq FROM audit_events WHERE hash = $1 ORDER BY seq',
      [hash],
    );
    return rows.map((r) => r.seq);
  }

  /** The anchor entry recording a purge through `purgedThrough`. */
  async anchorFor(purgedThrough: string): Promise<AuditEvent | undefined> {
    const { rows } = await this.db.query<EventRow>(
      `SELECT * FROM audit_events WHERE kind = 'anchor' AND details ->> 'purgedThrough' = $1
       ORDER BY seq DESC LIMIT 1`,
      [purgedThrough],
    );
    return rows[0] ? toEvent(rows[0]) : undefined;
  }

  /** The last seq whose entry (and every earlier one) happened before `cutoff`. */
  async lastSeqBefore(cutoff: Date): Promise<string | null> {
    const { rows } = await this.db.query<{ seq: string | null }>(
      `SELECT coalesce(
         (SELECT min(seq) - 1 FROM audit_events WHERE occurred_at >= $1),
         (SELECT max(seq) FROM audit_events)) AS seq`,
      [cutoff],
    );
    return rows[0]?.seq ?? null;
  }

  /** Deletes entries through `seq` via the only permitted path (see audit_purge()). */
  async purgeThrough(seq: string, minAgeDays: number): Promise<number> {
    const { rows } = await this.db.query<{ deleted: string }>(
      'SELECT audit_purge($1, make_interval(days => $2)) AS deleted',
      [seq, minAgeDays],
    );
    return Number(rows[0]!.deleted);
  }

  async list(filter: EventFilter): Promise<AuditEvent[]> {
    const { rows } = await this.db.query<EventRow>(
      `SELECT * FROM audit_events
        WHERE ($1::int IS NULL OR corp_id = $1)
          AND ($2::text IS NULL OR actor = $2)
          AND ($3::text IS NULL OR action = $3 OR action LIKE $3 || '.%')
          AND ($4::text IS NULL OR result = $4)
          AND ($5::timestamptz IS NULL OR occurred_at >= $5)
          AND ($6::timestamptz IS NULL OR occurred_at < $6)
          AND ($7::bigint IS NULL OR seq < $7)
          AND ($9::int[] IS NULL OR corp_id = ANY($9))
        ORDER BY seq DESC LIMIT $8`,
      [
        filter.corpId ?? null,
        filter.actor ?? null,
        filter.action ?? null,
        filter.result ?? null,
        filter.since ?? null,
        filter.until ?? null,
        filter.beforeSeq ?? null,
        filter.limit,
        filter.corpIds ?? null,
      ],
    );
    return rows.map(toEvent);
  }

  /** Entries at or after `since`, oldest first, in pages after `afterSeq`. */
  async since(since: Date | null, afterSeq: string, limit: number): Promise<AuditEvent[]> {
    const { rows } = await this.db.query<EventRow>(
      `SELECT * FROM audit_events WHERE seq > $1 AND ($2::timestamptz IS NULL OR occurred_at >= $2)
       ORDER BY seq LIMIT $3`,
      [afterSeq, since, limit],
    );
    return rows.map(toEvent);
  }

  async insertCheckpoint(c: Omit<StoredCheckpoint, 'id' | 'createdAt'>): Promise<StoredCheckpoint> {
    const { rows } = await this.db.query<CheckpointRow>(
      `INSERT INTO audit_checkpoints (tree_size, root_hash, tree_state, origin, key_name, signature_alg, note)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
      [c.treeSize, c.rootHash, c.treeState, c.origin, c.keyName, c.signatureAlg, c.note],
    );
    return toCheckpoint(rows[0]!);
  }

  async latestCheckpoint(): Promise<StoredCheckpoint | undefined> {
    const { rows } = await this.db.query<CheckpointRow>(
      'SELECT * FROM audit_checkpoints ORDER BY tree_size DESC, id DESC LIMIT 1',
    );
    return rows[0] ? toCheckpoint(rows[0]) : undefined;
  }

  async checkpoint(id: string): Promise<StoredCheckpoint | undefined> {
    const { rows } = await this.db.query<CheckpointRow>('SELECT * FROM audit_checkpoints WHERE id = $1', [
      id,
    ]);
    return rows[0] ? toCheckpoint(rows[0]) : undefined;
  }

  async checkpoints(): Promise<StoredCheckpoint[]> {
    const { rows } = await this.db.query<CheckpointRow>(
      'SELECT * FROM audit_checkpoints ORDER BY tree_size, id',
    );
    return rows.map(toCheckpoint);
  }
}
