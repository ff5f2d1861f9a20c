import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseHeader, type AeadAlg } from './cipher.js';
import {
  EnvelopeService,
  parseScopeKey,
  scopeKey,
  monthOf,
  type DekRecord,
  type DekScope,
  type DekStore,
  type NewDek,
} from './envelope.js';
import { ContentDestroyedError, DecryptionError } from './errors.js';
import { openOrCreateLocalKeyring, type LocalKeyring } from './keyring/local.js';
import type { Keyring, WrappedDek } from './keyring/types.js';

/** In-memory DekStore with the semantics the PostgreSQL implementation must have. Test-only. */
class MemoryDekStore implements DekStore {
  rows = new Map<string, DekRecord>();
  async get(scope: DekScope): Promise<DekRecord | undefined> {
    await Promise.resolve();
    const r = this.rows.get(scopeKey(scope));
    return r && { ...r };
  }
  async insertIfAbsent(dek: NewDek): Promise<DekRecord> {
    await Promise.resolve();
    const k = scopeKey(dek.scope);
    if (!this.rows.has(k)) this.rows.set(k, { ...dek, createdAt: new Date(), destroyedAt: null });
    return { ...this.rows.get(k)! };
  }
  async listForRewrap(target: number, after: DekScope | null, limit: number): Promise<DekRecord[]> {
    const a = after ? scopeKey(after) : '';
    return [...this.rows.entries()]
      .filter(([k, r]) => k > a && r.wrapped !== null && r.kekVersion !== target)
      .sort(([x], [y]) => (x < y ? -1 : 1))
      .slice(0, limit)
      .map(([, r]) => ({ ...r }));
  }
  async updateWrap(scope: DekScope, from: { kekVersion: number }, to: WrappedDek): Promise<boolean> {
    const r = this.rows.get(scopeKey(scope));
    if (!r || r.kekVersion !== from.kekVersion || r.wrapped === null) return false;
    r.kekVersion = to.kekVersion;
    r.wrapped = to.wrapped;
    return true;
  }
  async markDestroyed(scope: DekScope, alg: AeadAlg): Promise<void> {
    const k = scopeKey(scope);
    const r = this.rows.get(k) ?? {
      scope,
      alg,
      kekVersion: null,
      wrapped: null,
      createdAt: new Date(),
      destroyedAt: null,
    };
    this.rows.set(k, { ...r, wrapped: null, kekVersion: null, destroyedAt: r.destroyedAt ?? new Date() });
  }
  async countByKekVersion(v: number): Promise<number> {
    return [...this.rows.values()].filter((r) => r.wrapped !== null && r.kekVersion === v).length;
  }
}

/** Counts unwraps, to check the cache and request coalescing. */
function counting(inner: Keyring): Keyring & { unwraps: number } {
  const k = Object.create(inner) as Keyring & { unwraps: number };
  k.unwraps = 0;
  k.unwrapDek = async (w, aad) => {
    k.unwraps++;
    return inner.unwrapDek(w, aad);
  };
  k.wrapDek = (d, a) => inner.wrapDek(d, a);
  k.currentKekVersion = () => inner.currentKekVersion();
  return k;
}

const S1: DekScope = { corpId: 'ww0001', month: '2024-05', retentionClass: 'standard' };
const S2: DekScope = { corpId: 'ww0001', month: '2024-06', retentionClass: 'standard' };
const cell = (rowId: number) => ({
  corpId: 'ww0001',
  table: 'message',
  rowId: String(rowId),
  field: 'content',
});

let dir: string;
let keyring: LocalKeyring;
let store: MemoryDekStore;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'vigil-env-'));
  keyring = await openOrCreateLocalKeyring({ path: path.join(dir, 'k.json') });
  store = new MemoryDekStore();
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('scope keys', () => {
  it('round-trips and validates', () => {
    expect(parseScopeKey(scopeKey(S1))).toEqual(S1);
    expect(() => scopeKey({ ...S1, month: '2024-13' })).toThrow(RangeError);
    expect(() => scopeKey({ ...S1, corpId: 'a:b' })).toThrow(RangeError);
    expect(() => scopeKey({ ...S1, retentionClass: 'Has Space' })).toThrow(RangeError);
    expect(monthOf(Date.UTC(2024, 4, 31, 23, 59))).toBe('2024-05');
  });
});

describe.each<AeadAlg>(['A256GCM', 'SM4GCM'])('EnvelopeService (%s)', (alg) => {
  it('creates one DEK per scope, reuses it, and binds ciphertexts to their cell', async () => {
    const env = new EnvelopeService({ keyring, store, alg });
    const a = await env.encryptForScope(S1, Buffer.from('第一条'), cell(1));
    const b = await env.encryptForScope(S1, Buffer.from('第二条'), cell(2));
    await env.encryptForScope(S2, Buffer.from('x'), cell(3));
    expect(store.rows.size).toBe(2);
    expect(parseHeader(a)).toMatchObject({ alg, keyId: 'ww0001:2024-05:standard' });
    expect(env.scopeOf(a)).toEqual(S1);
    expect((await env.decrypt(a, cell(1))).toString()).toBe('第一条');
    expect((await env.decrypt(b, cell(2))).toString()).toBe('第二条');
    await expect(env.decrypt(a, cell(2))).rejects.toThrow(
      'authentication failed: ciphertext altered or moved',
    );
    // a fresh process (empty cache) decrypts through the store and keyring
    const env2 = new EnvelopeService({ keyring, store });
    expect((await env2.decrypt(b, cell(2))).toString()).toBe('第二条');
  });
});

describe('EnvelopeService', () => {
  it('concurrent first writers of a scope (two processes) agree on one DEK', async () => {
    const e1 = new EnvelopeService({ keyring, store });
    const e2 = new EnvelopeService({ keyring, store });
    const cts = await Promise.all(
      [...Array(10).keys()].map((i) => (i % 2 ? e1 : e2).encryptForScope(S1, Buffer.from(`m${i}`), cell(i))),
    );
    expect(store.rows.size).toBe(1);
    const e3 = new EnvelopeService({ keyring, store });
    for (const [i, ct] of cts.entries()) expect((await e3.decrypt(ct, cell(i))).toString()).toBe(`m${i}`);
  });

  it('caches DEKs (one unwrap for many decrypts, coalesced when concurrent) with TTL and size bounds', async () => {
    const writer = new EnvelopeService({ keyring, store });
    const ct1 = await writer.encryptForScope(S1, Buffer.from('a'), cell(1));
    const ct2 = await writer.encryptForScope(S2, Buffer.from('b'), cell(2));
    const kr = counting(keyring);
    let now = 0;
    const env = new EnvelopeService({
      keyring: kr,
      store,
      cache: { ttlMs: 1000, maxEntries: 1 },
      now: () => now,
    });
    await Promise.all([...Array(50).keys()].map(() => env.decrypt(ct1, cell(1))));
    expect(kr.unwraps).toBe(1);
    now = 999;
    await env.decrypt(ct1, cell(1));
    expect(kr.unwraps).toBe(1);
    now = 1000; // expired
    await env.decrypt(ct1, cell(1));
    expect(kr.unwraps).toBe(2);
    await env.decrypt(ct2, cell(2)); // evicts S1 (maxEntries 1)
    await env.decrypt(ct1, cell(1));
    expect(kr.unwraps).toBe(4);
    // interleaved loads with a tiny cache never hand out a zeroed key
    const results = await Promise.all(
      [...Array(20).keys()].map((i) => env.decrypt(i % 2 ? ct1 : ct2, cell(i % 2 ? 1 : 2))),
    );
    expect(results.map(String)).toEqual([...Array(20).keys()].map((i) => (i % 2 ? 'a' : 'b')));
  });

  it('rewrapAll moves every DEK to the new KEK without touching content; old KEK then destroyable', async () => {
    const env = new EnvelopeService({ keyring, store });
    const scopes = [...Array(12).keys()].map((i) => ({
      corpId: `ww${i % 3}`,
      month: `2023-${String((i % 12) + 1).padStart(2, '0')}`,
      retentionClass: 'standard',
    }));
    const cts = await Promise.all(
      scopes.map((s, i) => env.encryptForScope(s, Buffer.from(`c${i}`), cell(i))),
    );
    await env.encryptForScope(S1, Buffer.from('gone'), cell(99));
    await env.shredScope(S1);
    const before = cts.map((c) => Buffer.from(c));
    expect(await keyring.createKekVersion()).toBe(2);
    await expect(env.destroyKekVersion(1)).rejects.toThrow(/still wraps 12/);
    const seen: number[] = [];
    const r = await env.rewrapAll((p) => seen.push(p.processed), 5);
    expect(r).toMatchObject({ targetKekVersion: 2, rewrapped: 12, raced: 0, failed: [] });
    expect(seen).toEqual([...Array(12).keys()].map((i) => i + 1));
    expect([...store.rows.values()].filter((x) => x.wrapped).every((x) => x.kekVersion === 2)).toBe(true);
    expect((await env.rewrapAll()).rewrapped).toBe(0);
    await env.destroyKekVersion(1);
    const fresh = new EnvelopeService({ keyring, store });
    for (const [i, ct] of before.entries())
      expect((await fresh.decrypt(ct, cell(i))).toString()).toBe(`c${i}`);
  });

  it('rewrapAll reports a corrupted wrapped DEK and carries on', async () => {
    const env = new EnvelopeService({ keyring, store });
    await env.encryptForScope(S1, Buffer.from('a'), cell(1));
    await env.encryptForScope(S2, Buffer.from('b'), cell(2));
    store.rows.get(scopeKey(S1))!.wrapped![20]! ^= 1;
    await keyring.createKekVersion();
    const r = await env.rewrapAll();
    expect(r.rewrapped).toBe(1);
    expect(r.failed).toHaveLength(1);
    expect(r.failed[0]!.error).toBeInstanceOf(DecryptionError);
  });

  it('shredScope makes the content fail with ContentDestroyedError in this and other processes, and blocks new writes', async () => {
    const env = new EnvelopeService({ keyring, store });
    const other = new EnvelopeService({ keyring, store });
    const ct = await env.encryptForScope(S1, Buffer.from('敏感'), cell(1));
    const keep = await env.encryptForScope(S2, Buffer.from('keep'), cell(2));
    await env.shredScope(S1);
    const err = await env.decrypt(ct, cell(1)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ContentDestroyedError);
    expect((err as Error).message).toMatch(/destroyed by retention/);
    expect(err).not.toBeInstanceOf(DecryptionError);
    await expect(other.decrypt(ct, cell(1))).rejects.toBeInstanceOf(ContentDestroyedError);
    await expect(env.encryptForScope(S1, Buffer.from('new'), cell(3))).rejects.toBeInstanceOf(
      ContentDestroyedError,
    );
    expect((await env.decrypt(keep, cell(2))).toString()).toBe('keep');
    // shredding a scope that never had content leaves a tombstone
    const S3 = { ...S1, month: '2030-01' };
    await env.shredScope(S3);
    await expect(env.encryptForScope(S3, Buffer.from('x'), cell(4))).rejects.toBeInstanceOf(
      ContentDestroyedError,
    );
  });

  it('maps tampered wrapped DEKs, unknown scopes and malformed key ids to DecryptionError', async () => {
    const env = new EnvelopeService({ keyring, store });
    const ct = await env.encryptForScope(S1, Buffer.from('a'), cell(1));
    store.rows.get(scopeKey(S1))!.wrapped![15]! ^= 1;
    await expect(new EnvelopeService({ keyring, store }).decrypt(ct, cell(1))).rejects.toBeInstanceOf(
      DecryptionError,
    );
    await expect(
      new EnvelopeService({ keyring, store: new MemoryDekStore() }).decrypt(ct, cell(1)),
    ).rejects.toBeInstanceOf(DecryptionError);
    await expect(
      env.decrypt(Buffer.from([1, 1, 3, 0x61, 0x62, 0x63, ...Buffer.alloc(40)]), cell(1)),
    ).rejects.toBeInstanceOf(DecryptionError);
  });

  it('a wrapped DEK copied to another scope does not unwrap', async () => {
    const env = new EnvelopeService({ keyring, store });
    await env.encryptForScope(S1, Buffer.from('a'), cell(1));
    const ct2 = await env.encryptForScope(S2, Buffer.from('b'), cell(2));
    const r1 = store.rows.get(scopeKey(S1))!;
    store.rows.set(scopeKey(S2), { ...r1, scope: S2 });
    await expect(new EnvelopeService({ keyring, store }).decrypt(ct2, cell(2))).rejects.toBeInstanceOf(
      DecryptionError,
    );
  });
});
