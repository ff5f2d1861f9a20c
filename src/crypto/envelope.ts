/**
 * Envelope encryption of archived content.
 *
 * One random data key (DEK) per scope `{corpId, month, retentionClass}`, wrapped by the keyring's
 * current KEK and stored through a DekStore (PostgreSQL in production). Content ciphertexts name
 * their scope in the authenticated header (cipher.ts keyId), so `decrypt` needs no other column.
 *
 * - Rotation (`rewrapAll`) re-wraps DEKs under the newest KEK; content is never re-encrypted and
 *   old KEK versions keep working until nothing references them.
 * - Crypto-shredding (`shredScope`) erases the wrapped DEK: every ciphertext of the scope, in the
 *   database, replicas and backups alike, becomes unreadable and fails with ContentDestroyedError.
 *   A shredded scope stays shredded: new writes into it are refused.
 */
import {
  decryptWithKey,
  encodeParts,
  encrypt,
  encryptMany,
  generateKey,
  parseHeader,
  recordAad,
  type AeadAlg,
  type RecordIdentity,
} from './cipher.js';
import { ContentDestroyedError, DecryptionError, KeyringError, VigilCryptoError } from './errors.js';
import type { Keyring } from './keyring/types.js';

/** The unit of key management and crypto-shredding. */
export interface DekScope {
  corpId: string;
  /** 'YYYY-MM' (UTC month of the message). */
  month: string;
  /** Retention class name, e.g. 'standard', 'finance-7y', 'legal-hold'. */
  retentionClass: string;
}

/** One row of the DEK table. `wrapped` and `kekVersion` are null once the scope was shredded. */
export interface DekRecord {
  scope: DekScope;
  alg: AeadAlg;
  kekVersion: number | null;
  wrapped: Buffer | null;
  createdAt: Date;
  destroyedAt: Date | null;
}

/** Values to insert for a new DEK. */
export interface NewDek {
  scope: DekScope;
  alg: AeadAlg;
  kekVersion: number;
  wrapped: Buffer;
}

/**
 * Persistence of wrapped DEKs. The production implementation is a PostgreSQL table with primary
 * key (corp_id, month, retention_class); see src/crypto/README.md for the SQL of each method.
 */
export interface DekStore {
  /** The record for a scope, destroyed or not; undefined when none exists. */
  get(scope: DekScope): Promise<DekRecord | undefined>;
  /**
   * Inserts unless a row for the scope exists (ON CONFLICT DO NOTHING), then returns the row that
   * is stored — ours, a concurrent winner's, or a destroyed tombstone.
   */
  insertIfAbsent(dek: NewDek): Promise<DekRecord>;
  /**
   * Live (not destroyed) DEKs whose kekVersion differs from `targetKekVersion`, ordered by
   * (corpId, month, retentionClass), strictly after `after` when given; at most `limit` rows.
   */
  listForRewrap(targetKekVersion: number, after: DekScope | null, limit: number): Promise<DekRecord[]>;
  /** Compare-and-set of the wrap: updates only if the row still has `from.kekVersion`. Returns whether it did. */
  updateWrap(
    scope: DekScope,
    from: { kekVersion: number },
    to: { kekVersion: number; wrapped: Buffer },
  ): Promise<boolean>;
  /**
   * Sets wrapped = kekVersion = null and destroyedAt = now (keeping an earlier destroyedAt). If the
   * scope has no row yet, inserts a tombstone so the scope can never get a DEK later. Idempotent.
   */
  markDestroyed(scope: DekScope, alg: AeadAlg): Promise<void>;
  /** Number of live DEKs wrapped by a KEK version (0 means the version may be destroyed). */
  countByKekVersion(kekVersion: number): Promise<number>;
}

const CORP_ID = /^[A-Za-z0-9_-]{1,64}$/;
const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;
const RETENTION_CLASS = /^[a-z0-9][a-z0-9_-]{0,31}$/;

/** Throws RangeError unless the scope's parts are well-formed. */
export function assertScope(scope: DekScope): void {
  if (!CORP_ID.test(scope.corpId)) throw new RangeError(`invalid corpId ${JSON.stringify(scope.corpId)}`);
  if (!MONTH.test(scope.month))
    throw new RangeError(`invalid month ${JSON.stringify(scope.month)} (want YYYY-MM)`);
  if (!RETENTION_CLASS.test(scope.retentionClass))
    throw new RangeError(`invalid retentionClass ${JSON.stringify(scope.retentionClass)}`);
}

/** Canonical text of a scope, `corpId:YYYY-MM:class`; also the key id written into ciphertexts. */
export function scopeKey(scope: DekScope): string {
  assertScope(scope);
  return `${scope.corpId}:${scope.month}:${scope.retentionClass}`;
}

/** Inverse of scopeKey; throws RangeError on malformed input. */
export function parseScopeKey(key: string): DekScope {
  const parts = key.split(':');
  if (parts.length !== 3) throw new RangeError(`invalid scope key ${JSON.stringify(key)}`);
  const scope = { corpId: parts[0]!, month: parts[1]!, retentionClass: parts[2]! };
  assertScope(scope);
  return scope;
}

/** The scope month for a message time (UTC). */
export function monthOf(time: Date | number): string {
  return new Date(time).toISOString().slice(0, 7);
}

/** AAD binding a wrapped DEK to its scope and algorithm, so a wrapped DEK copied to another scope fails. */
export function dekAad(scope: DekScope, alg: AeadAlg): Buffer {
  return encodeParts(['vigil-dek-v1', scope.corpId, scope.month, scope.retentionClass, alg]);
}

export interface EnvelopeOptions {
  keyring: Keyring;
  store: DekStore;
  /** Algorithm for new DEKs; existing DEKs keep theirs. Default A256GCM. */
  alg?: AeadAlg;
  cache?: {
    /** Maximum cached plaintext DEKs. Default 1024. */
    maxEntries?: number;
    /** How long an unwrapped DEK is reused; also bounds how long another process can still read a shredded scope. Default 5 min. */
    ttlMs?: number;
  };
  /** Clock, for tests. */
  now?: () => number;
}

export interface RewrapProgress {
  scope: DekScope;
  /** DEKs processed so far (rewrapped + failed + raced). */
  processed: number;
  rewrapped: number;
}

export interface RewrapResult {
  targetKekVersion: number;
  rewrapped: number;
  /** Updated concurrently by someone else (CAS lost) — nothing to do. */
  raced: number;
  failed: Array<{ scope: DekScope; error: Error }>;
}

interface CacheEntry {
  alg: AeadAlg;
  key: Buffer;
  expires: number;
}

/** Envelope encryption over a Keyring and a DekStore. One instance per process. */
export class EnvelopeService {
  private readonly keyring: Keyring;
  private readonly store: DekStore;
  private readonly alg: AeadAlg;
  private readonly maxEntries: number;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly cache = new Map<string, CacheEntry>();
  private readonly inflight = new Map<string, Promise<CacheEntry>>();

  constructor(options: EnvelopeOptions) {
    this.keyring = options.keyring;
    this.store = options.store;
    this.alg = options.alg ?? 'A256GCM';
    this.maxEntries = options.cache?.maxEntries ?? 1024;
    this.ttlMs = options.cache?.ttlMs ?? 5 * 60_000;
    this.now = options.now ?? Date.now;
  }

  /** Encrypts under the scope's DEK (created on first use). `aad` names the destination cell. */
  async encryptForScope(
    scope: DekScope,
    plaintext: Uint8Array,
    aad: Uint8Array | RecordIdentity,
  ): Promise<Buffer> {
    const keyId = scopeKey(scope);
    const dek = await this.dek(scope, keyId, true);
    try {
      return encrypt({ alg: dek.alg, keyId, key: dek.key, plaintext, aad: toAad(aad) });
    } finally {
      dek.key.fill(0);
    }
  }

  /**
   * encryptForScope for many values of one scope: the DEK is looked up once for the batch (the
   * archive encrypts every message of an ingest batch). Results are in the order of `items`.
   */
  async encryptManyForScope(
    scope: DekScope,
    items: ReadonlyArray<{ plaintext: Uint8Array; aad: Uint8Array | RecordIdentity }>,
  ): Promise<Buffer[]> {
    if (items.length === 0) return [];
    const keyId = scopeKey(scope);
    const dek = await this.dek(scope, keyId, true);
    try {
      return encryptMany({
        alg: dek.alg,
        keyId,
        key: dek.key,
        items: items.map((item) => ({ plaintext: item.plaintext, aad: toAad(item.aad) })),
      });
    } finally {
      dek.key.fill(0);
    }
  }

  /**
   * Decrypts a value produced by encryptForScope. Throws ContentDestroyedError for a shredded
   * scope and DecryptionError for anything else (tampering, wrong cell, unknown scope).
   */
  async decrypt(ciphertext: Uint8Array, aad: Uint8Array | RecordIdentity): Promise<Buffer> {
    const header = parseHeader(ciphertext);
    let scope: DekScope;
    try {
      scope = parseScopeKey(header.keyId);
    } catch (cause) {
      throw new DecryptionError({ cause });
    }
    const dek = await this.dek(scope, header.keyId, false);
    try {
      if (dek.alg !== header.alg) throw new DecryptionError();
      return decryptWithKey(ciphertext, toAad(aad), header, dek.key);
    } finally {
      dek.key.fill(0);
    }
  }

  /** The scope named by a ciphertext (e.g. to check retention before decrypting). */
  scopeOf(ciphertext: Uint8Array): DekScope {
    try {
      return parseScopeKey(parseHeader(ciphertext).keyId);
    } catch (cause) {
      if (cause instanceof DecryptionError) throw cause;
      throw new DecryptionError({ cause });
    }
  }

  /**
   * Crypto-shreds a scope: the wrapped DEK is erased in the store. Other processes may keep a
   * cached copy for at most the cache TTL; call `evict` on them (e.g. via LISTEN/NOTIFY) to make
   * it immediate.
   */
  async shredScope(scope: DekScope): Promise<void> {
    const key = scopeKey(scope);
    const rec = await this.store.get(scope);
    await this.store.markDestroyed(scope, rec?.alg ?? this.alg);
    this.evict(scope);
    this.inflight.delete(key);
  }

  /** Drops a scope's DEK from this process's cache. */
  evict(scope: DekScope): void {
    const key = scopeKey(scope);
    const e = this.cache.get(key);
    if (e) {
      e.key.fill(0);
      this.cache.delete(key);
    }
  }

  /** Empties the DEK cache (zeroing the keys). */
  clearCache(): void {
    for (const e of this.cache.values()) e.key.fill(0);
    this.cache.clear();
  }

  /**
   * Re-wraps every live DEK that is not under the current KEK version. Never touches content.
   * Failures are collected, not thrown, so one bad row does not stop a rotation.
   */
  async rewrapAll(onProgress?: (p: RewrapProgress) => void, pageSize = 200): Promise<RewrapResult> {
    const target = await this.keyring.currentKekVersion();
    const result: RewrapResult = { targetKekVersion: target, rewrapped: 0, raced: 0, failed: [] };
    let after: DekScope | null = null;
    let processed = 0;
    for (;;) {
      const page = await this.store.listForRewrap(target, after, pageSize);
      if (page.length === 0) break;
      for (const rec of page) {
        after = rec.scope;
        processed++;
        if (rec.wrapped === null || rec.kekVersion === null) continue;
        try {
          const aad = dekAad(rec.scope, rec.alg);
          const dek = await this.keyring.unwrapDek({ kekVersion: rec.kekVersion, wrapped: rec.wrapped }, aad);
          const next = await this.keyring.wrapDek(dek, aad);
          dek.fill(0);
          if (await this.store.updateWrap(rec.scope, { kekVersion: rec.kekVersion }, next))
            result.rewrapped++;
          else result.raced++;
        } catch (error) {
          result.failed.push({ scope: rec.scope, error: error as Error });
        }
        onProgress?.({ scope: rec.scope, processed, rewrapped: result.rewrapped });
      }
      if (page.length < pageSize) break;
    }
    return result;
  }

  /** Destroys a KEK version after checking that no live DEK is still wrapped by it. */
  async destroyKekVersion(version: number): Promise<void> {
    const n = await this.store.countByKekVersion(version);
    if (n > 0)
      throw new KeyringError(`KEK version ${version} still wraps ${n} DEK(s); run rewrapAll first`, {
        code: 'VIGIL_KEK_IN_USE',
      });
    await this.keyring.destroyKekVersion(version);
  }

  /** Returns a private copy of the DEK (the caller zeroes it), from cache or store. */
  private async dek(scope: DekScope, key: string, create: boolean): Promise<CacheEntry> {
    const now = this.now();
    const hit = this.cache.get(key);
    if (hit && hit.expires > now) {
      this.cache.delete(key); // re-insert: Map order is the LRU order
      this.cache.set(key, hit);
      return { ...hit, key: Buffer.from(hit.key) };
    }
    if (hit) this.evict(scope);
    // Coalesce concurrent loads of the same scope: one HSM unwrap, not one per message.
    let p = this.inflight.get(key);
    if (!p) {
      p = this.load(scope, create).finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    const entry = await p;
    return { ...entry, key: Buffer.from(entry.key) };
  }

  private async load(scope: DekScope, create: boolean): Promise<CacheEntry> {
    const key = scopeKey(scope);
    let rec = await this.store.get(scope);
    let fresh: Buffer | undefined;
    if (!rec) {
      if (!create)
        throw new DecryptionError({ message: `${DecryptionError.MESSAGE} (no data key for scope ${key})` });
      fresh = generateKey(this.alg);
      const w = await this.keyring.wrapDek(fresh, dekAad(scope, this.alg));
      rec = await this.store.insertIfAbsent({ scope, alg: this.alg, ...w });
      if (!(rec.wrapped && rec.wrapped.equals(w.wrapped))) {
        fresh.fill(0); // lost the race (or found a tombstone): use the stored row
        fresh = undefined;
      }
    }
    if (rec.destroyedAt || !rec.wrapped || rec.kekVersion === null) throw new ContentDestroyedError(key);
    let dek: Buffer;
    try {
      dek =
        fresh ??
        (await this.keyring.unwrapDek(
          { kekVersion: rec.kekVersion, wrapped: rec.wrapped },
          dekAad(scope, rec.alg),
        ));
    } catch (err) {
      if (err instanceof VigilCryptoError) throw err;
      throw new DecryptionError({ cause: err });
    }
    const entry: CacheEntry = { alg: rec.alg, key: dek, expires: this.now() + this.ttlMs };
    // The cache holds its own copy: eviction zeroes it, while awaiters of this load copy from
    // `entry`, which nobody zeroes (it is dropped with the promise).
    this.cache.set(key, { ...entry, key: Buffer.from(dek) });
    while (this.cache.size > this.maxEntries) {
      const [oldest, e] = this.cache.entries().next().value as [string, CacheEntry];
      e.key.fill(0);
      this.cache.delete(oldest);
    }
    return entry;
  }
}

function toAad(aad: Uint8Array | RecordIdentity): Uint8Array {
  return aad instanceof Uint8Array ? aad : recordAad(aad);
}
