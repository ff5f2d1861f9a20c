import pg from 'pg';
import { withTransaction, type Pool, type Queryable } from '../platform/db/pool.js';
import { AuditRepository } from './audit.repository.js';
import { ZERO_HASH, canonicalJson, entryHash } from './canonical.js';
import type { AuditEvent, AuditEventInput, AuditKind } from './types.js';

// Keys that would carry message content; details describe an access, never what was accessed.
const CONTENT_KEYS = new Set([
  'content',
  'text',
  'body',
  'plaintext',
  'message',
  'password',
  'secret',
  'token',
]);
const MAX_DETAILS_BYTES = 16 * 1024;

/** Rejects details that could smuggle content or secrets into the log. */
function checkDetails(details: Record<string, unknown>): Record<string, unknown> {
  const encoded = canonicalJson(details);
  if (Buffer.byteLength(encoded) > MAX_DETAILS_BYTES) throw new RangeError('audit details exceed 16 KiB');
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object')
      for (const [k, inner] of Object.entries(v)) {
        if (CONTENT_KEYS.has(k.toLowerCase())) throw new RangeError(`audit details must not carry "${k}"`);
        walk(inner);
      }
  };
  walk(details);
  // What jsonb will give back: the hash is computed over exactly what verification re-reads.
  return JSON.parse(encoded) as Record<string, unknown>;
}

/**
 * The append-only, hash-chained audit log. `record` appends inside the caller's transaction so
 * the event commits (or rolls back) with the action it describes; the chain head is read under
 * an advisory transaction lock, so seqs are gapless and every entry chains to the committed head.
 * Callers must use READ COMMITTED (PostgreSQL's default) so the head read after the lock is fresh.
 */
export class AuditLog {
  constructor(private readonly pool: Pool) {}

  /** Appends an event with the caller's transaction client. */
  async record(client: Queryable, input: AuditEventInput): Promise<AuditEvent> {
    return this.append(client, 'event', input);
  }

  /**
   * Appends in a transaction of its own: for denials and failures that must be kept even though
   * the action's own transaction rolls back.
   */
  async recordStandalone(input: AuditEventInput): Promise<AuditEvent> {
    return withTransaction(this.pool, (client) => this.append(client, 'event', input));
  }

  /** Appends an anchor entry (purge bookkeeping); used by the purge only. */
  async recordAnchor(client: Queryable, input: AuditEventInput): Promise<AuditEvent> {
    return this.append(client, 'anchor', input);
  }

  private async append(client: Queryable, kind: AuditKind, input: AuditEventInput): Promise<AuditEvent> {
    if (client instanceof pg.Pool)
      throw new TypeError('AuditLog.record needs the transaction client, not the pool');
    const repo = new AuditRepository(client);
    await repo.lockChain();
    const head = await repo.head();
    const unhashed = {
      seq: head ? (BigInt(head.seq) + 1n).toString() : '1',
      kind,
      corpId: input.corpId ?? null,
      // Millisecond precision: what a JS Date round-trips through timestamptz unchanged.
      occurredAt: new Date((input.occurredAt ?? new Date()).getTime()),
      actor: input.actor,
      actorIp: input.actorIp ?? null,
      action: input.action,
      resourceType: input.resourceType ?? null,
      resourceIds: input.resourceIds ?? [],
      reason: input.reason ?? null,
      result: input.result,
      details: checkDetails(input.details ?? {}),
      prevHash: head?.hash ?? ZERO_HASH,
    };
    const event: AuditEvent = { ...unhashed, hash: entryHash(unhashed) };
    await repo.insert(event);
    return event;
  }
}
