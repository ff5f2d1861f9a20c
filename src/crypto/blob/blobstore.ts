/**
 * Encrypted, content-addressed media storage.
 *
 * Address = HMAC-SHA256(corp address key, plaintext): a duplicate within one corp is stored once,
 * and the address reveals nothing about the content to anyone without the corp's key (a plain
 * SHA-256 would let anyone confirm "this file is in the archive").
 *
 * Each object is encrypted under a random content key (CEK) wrapped in the object's header by the
 * corp wrap key (bound to the corp id), in chunks (STREAM construction, as in age/Tink):
 *
 *   header = 'VGB1' | alg id | chunkSize u32 | noncePrefix(8) | wrappedCekLen u8 | wrappedCek
 *   chunk i = AEAD(CEK, nonce = noncePrefix ‖ u32 i,
 *                  aad = header ‖ u64 i ‖ final flag ‖ (final ? address : ""))
 *
 * The final flag stops truncation at a chunk boundary, the index stops reordering, and binding
 * the address in the last chunk stops an object being passed off under another address. Plaintext
 * is never held whole in memory: one chunk at a time on write and read.
 *
 * Both keys derive (HKDF-SHA256) from one 32-byte per-corp secret kept in the keyring
 * (`SecretNames.blobKey(corpId)`); destroying it shreds all of the corp's media. Per-scope
 * retention for media is by deleting objects once no message references them (the lead's
 * reference counting), see README.md.
 */
import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  aeadOpen,
  aeadSeal,
  encodeParts,
  generateKey,
  keyLength,
  NONCE_BYTES,
  TAG_BYTES,
  type AeadAlg,
} from '../cipher.js';
import { DecryptionError } from '../errors.js';
import { assertBlobKey, type BlobBackend } from './backend.js';

const MAGIC = Buffer.from('VGB1');
const ALG_ID: Record<AeadAlg, number> = { A256GCM: 1, SM4GCM: 2 };
const ID_ALG: Record<number, AeadAlg | undefined> = { 1: 'A256GCM', 2: 'SM4GCM' };
const DEFAULT_CHUNK = 64 * 1024;
const MAX_CHUNK = 16 * 1024 * 1024;

export interface BlobStoreOptions {
  backend: BlobBackend;
  /** The 32-byte per-corp blob secret, e.g. `getOrCreateSecret(keyring, SecretNames.blobKey(corpId))`. */
  corpKey: (corpId: string) => Promise<Uint8Array>;
  alg?: AeadAlg;
  chunkSize?: number;
}

export interface PutResult {
  /** 64 hex chars; store it in the media row. */
  address: string;
  /** Plaintext bytes. */
  size: number;
  /** False when the same content was already stored for this corp. */
  created: boolean;
}

interface CorpKeys {
  mac: Buffer;
  wrap: Buffer;
}

const CORP_ID = /^[A-Za-z0-9_-]{1,64}$/;
const ADDRESS = /^[0-9a-f]{64}$/;

/** Encrypted content-addressed blob store over a BlobBackend. */
export class BlobStore {
  private readonly backend: BlobBackend;
  private readonly corpKey: (corpId: string) => Promise<Uint8Array>;
  private readonly alg: AeadAlg;
  private readonly chunkSize: number;

  constructor(options: BlobStoreOptions) {
    this.backend = options.backend;
    this.corpKey = options.corpKey;
    this.alg = options.alg ?? 'A256GCM';
    this.chunkSize = options.chunkSize ?? DEFAULT_CHUNK;
    if (!Number.isInteger(this.chunkSize) || this.chunkSize < 16 || this.chunkSize > MAX_CHUNK)
      throw new RangeError('chunkSize out of range');
  }

  /** Backend key of an address: `<corpId>/<aa>/<bb>/<address>` (fan-out keeps directories small). */
  static keyOf(corpId: string, address: string): string {
    if (!CORP_ID.test(corpId)) throw new RangeError(`invalid corpId ${JSON.stringify(corpId)}`);
    if (!ADDRESS.test(address)) throw new RangeError(`invalid blob address ${JSON.stringify(address)}`);
    const key = `${corpId}/${address.slice(0, 2)}/${address.slice(2, 4)}/${address}`;
    assertBlobKey(key);
    return key;
  }

  private async keys(corpId: string): Promise<CorpKeys> {
    const k = await this.corpKey(corpId);
    if (k.length < 32) throw new RangeError('corp blob key must be at least 32 bytes');
    const derive = (info: string) =>
      Buffer.from(hkdfSync('sha256', k, Buffer.alloc(0), `vigil-blob-v1 ${info}`, 32));
    return { mac: derive('address'), wrap: derive('wrap') };
  }

  /** Content address of a plaintext for a corp (to look up before downloading, for instance). */
  async addressOf(corpId: string, plaintext: Uint8Array): Promise<string> {
    return createHmac('sha256', (await this.keys(corpId)).mac)
      .update(plaintext)
      .digest('hex');
  }

  /** Encrypts and stores a stream; the same content for the same corp is stored once. */
  async put(
    corpId: string,
    source: AsyncIterable<Uint8Array> | Iterable<Uint8Array> | Uint8Array,
  ): Promise<PutResult> {
    if (!CORP_ID.test(corpId)) throw new RangeError(`invalid corpId ${JSON.stringify(corpId)}`);
    const keys = await this.keys(corpId);
    const cek = generateKey(this.alg);
    const noncePrefix = randomBytes(8);
    const wrapNonce = randomBytes(NONCE_BYTES);
    const wrapped = Buffer.concat([
      wrapNonce,
      aeadSeal('A256GCM', keys.wrap, wrapNonce, cek, cekAad(corpId, this.alg)),
    ]);
    const header = Buffer.alloc(4 + 1 + 4 + 8 + 1);
    MAGIC.copy(header, 0);
    header[4] = ALG_ID[this.alg];
    header.writeUInt32BE(this.chunkSize, 5);
    noncePrefix.copy(header, 9);
    header[17] = wrapped.length;
    const fullHeader = Buffer.concat([header, wrapped]);

    const mac = createHmac('sha256', keys.mac);
    const writer = await this.backend.beginWrite();
    let size = 0;
    let index = 0;
    try {
      await writer.write(fullHeader);
      const seal = (pt: Uint8Array, final: boolean, address: string) =>
        aeadSeal(
          this.alg,
          cek,
          chunkNonce(noncePrefix, index),
          pt,
          chunkAad(fullHeader, index, final, address),
        );
      let pending: Buffer | undefined; // a full chunk held back until we know whether it is the last
      for await (const piece of rechunk(source, this.chunkSize)) {
        mac.update(piece);
        size += piece.length;
        if (pending) {
          await writer.write(seal(pending, false, ''));
          index++;
        }
        pending = piece;
      }
      const address = mac.digest('hex');
      await writer.write(seal(pending ?? Buffer.alloc(0), true, address));
      const created = (await writer.commit(BlobStore.keyOf(corpId, address))) === 'created';
      return { address, size, created };
    } catch (err) {
      await writer.abort().catch(() => undefined);
      throw err;
    } finally {
      cek.fill(0);
    }
  }

  /**
   * Streams the decrypted content. Every chunk is authenticated before it is yielded; a truncated
   * or altered object throws DecryptionError, possibly after earlier (authentic) chunks were
   * yielded — consumers writing to a client must abort the response on error.
   */
  async *get(corpId: string, address: string): AsyncIterable<Buffer> {
    const key = BlobStore.keyOf(corpId, address);
    const keys = await this.keys(corpId);
    const reader = new ByteReader(this.backend.read(key)[Symbol.asyncIterator]());
    const header = await reader.read(18);
    if (header.length !== 18 || !header.subarray(0, 4).equals(MAGIC)) throw new DecryptionError();
    const alg = ID_ALG[header[4]!];
    const chunkSize = header.readUInt32BE(5);
    if (!alg || chunkSize < 16 || chunkSize > MAX_CHUNK) throw new DecryptionError();
    const noncePrefix = header.subarray(9, 17);
    const wrapped = await reader.read(header[17]!);
    if (wrapped.length !== header[17] || wrapped.length < NONCE_BYTES + TAG_BYTES)
      throw new DecryptionError();
    const cek = aeadOpen(
      'A256GCM',
      keys.wrap,
      wrapped.subarray(0, NONCE_BYTES),
      wrapped.subarray(NONCE_BYTES),
      cekAad(corpId, alg),
    );
    if (cek.length !== keyLength(alg)) throw new DecryptionError();
    const fullHeader = Buffer.concat([header, wrapped]);
    try {
      for (let index = 0; ; index++) {
        const sealed = await reader.read(chunkSize + TAG_BYTES);
        const final = await reader.atEnd();
        if (sealed.length < TAG_BYTES || (!final && sealed.length !== chunkSize + TAG_BYTES))
          throw new DecryptionError();
        yield aeadOpen(
          alg,
          cek,
          chunkNonce(noncePrefix, index),
          sealed,
          chunkAad(fullHeader, index, final, final ? address : ''),
        );
        if (final) return;
      }
    } finally {
      cek.fill(0);
    }
  }

  /** Whole content in memory (small media only). */
  async getBuffer(corpId: string, address: string): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const p of this.get(corpId, address)) parts.push(p);
    return Buffer.concat(parts);
  }

  async has(corpId: string, address: string): Promise<boolean> {
    return this.backend.exists(BlobStore.keyOf(corpId, address));
  }

  /** Deletes the object (when no message references it any more). */
  async delete(corpId: string, address: string): Promise<void> {
    await this.backend.delete(BlobStore.keyOf(corpId, address));
  }

  /** Constant-time check that `address` is the content address of `plaintext` (e.g. to verify a download). */
  async verifyAddress(corpId: string, plaintext: Uint8Array, address: string): Promise<boolean> {
    const a = Buffer.from(await this.addressOf(corpId, plaintext), 'hex');
    const b = Buffer.from(address, 'hex');
    return a.length === b.length && timingSafeEqual(a, b);
  }
}

function cekAad(corpId: string, alg: AeadAlg): Buffer {
  return encodeParts(['vigil-blob-cek-v1', corpId, alg]);
}

function chunkNonce(prefix: Uint8Array, index: number): Buffer {
  if (index > 0xffffffff) throw new RangeError('blob too large');
  const n = Buffer.alloc(NONCE_BYTES);
  n.set(prefix, 0);
  n.writeUInt32BE(index, 8);
  return n;
}

function chunkAad(header: Buffer, index: number, final: boolean, address: string): Buffer {
  const meta = Buffer.alloc(9);
  meta.writeBigUInt64BE(BigInt(index), 0);
  meta[8] = final ? 1 : 0;
  return Buffer.concat([header, meta, Buffer.from(address, 'ascii')]);
}

/** Re-slices arbitrary input pieces into chunks of exactly `size` bytes (the last may be shorter). */
async function* rechunk(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array> | Uint8Array,
  size: number,
): AsyncIterable<Buffer> {
  const it: AsyncIterable<Uint8Array> | Iterable<Uint8Array> =
    source instanceof Uint8Array ? [source] : source;
  let buf = Buffer.alloc(size);
  let fill = 0;
  for await (const piece of it) {
    let off = 0;
    while (off < piece.length) {
      const n = Math.min(size - fill, piece.length - off);
      buf.set(piece.subarray(off, off + n), fill);
      fill += n;
      off += n;
      if (fill === size) {
        yield buf;
        buf = Buffer.alloc(size);
        fill = 0;
      }
    }
  }
  if (fill > 0) yield buf.subarray(0, fill);
}

/** Exact-length reads over an async iterator of buffers. */
class ByteReader {
  private buf: Buffer = Buffer.alloc(0);
  private done = false;
  constructor(private readonly it: AsyncIterator<Buffer>) {}

  private async fill(n: number): Promise<void> {
    const parts = [this.buf];
    let have = this.buf.length;
    while (have < n && !this.done) {
      const r = await this.it.next();
      if (r.done) this.done = true;
      else {
        parts.push(r.value);
        have += r.value.length;
      }
    }
    this.buf = parts.length === 1 ? this.buf : Buffer.concat(parts);
  }

  /** Up to n bytes (fewer only at the end). */
  async read(n: number): Promise<Buffer> {
    await this.fill(n);
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(out.length);
    return out;
  }

  async atEnd(): Promise<boolean> {
    await this.fill(1);
    return this.buf.length === 0;
  }
}
