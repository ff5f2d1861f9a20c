/**
 * The canonical encoding of an audit entry, hashed into the chain. Any change to a field,
 * the seq or the previous hash changes the entry's hash. Versioned so the encoding can evolve.
 */
import { createHash } from 'node:crypto';
import type { AuditEvent } from './types.js';

export const ENCODING_VERSION = 'vigil.audit.v1';
export const ZERO_HASH = Buffer.alloc(32);

/** JSON with object keys sorted at every level, so jsonb's key reordering cannot change hashes. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('audit details: numbers must be finite');
    return JSON.stringify(value);
  }
  if (typeof value === 'bigint') return JSON.stringify(value.toString());
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value))
    return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  throw new TypeError(`audit details: cannot encode ${typeof value}`);
}

/** The fields an entry's hash covers (everything but the hash itself). */
export type HashedFields = Omit<AuditEvent, 'hash'>;

/** The canonical byte string of an entry. */
export function encodeEntry(e: HashedFields): Buffer {
  return Buffer.from(
    canonicalJson([
      ENCODING_VERSION,
      e.seq,
      e.kind,
      e.corpId,
      e.occurredAt.toISOString(),
      e.actor,
      e.actorIp,
      e.action,
      e.resourceType,
      e.resourceIds,
      e.reason,
      e.result,
      e.details,
      e.prevHash.toString('hex'),
    ]),
    'utf8',
  );
}

/** SHA-256 over the canonical encoding. */
export function entryHash(e: HashedFields): Buffer {
  return createHash('sha256').update(encodeEntry(e)).digest();
}
