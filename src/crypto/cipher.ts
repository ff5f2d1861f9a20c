/**
 * Field-level AEAD for archived content: AES-256-GCM (Node/OpenSSL) or SM4-GCM (RFC 8998, via
 * sm-crypto-v2 because OpenSSL 3.0 has no sm4-gcm).
 *
 * Stored format (one bytea column, self-describing so the algorithm and key can change per row):
 *
 *   0      1      2        3 .. 3+k    +12     ...
 *   | ver | alg  | k (u8) | keyId (k) | nonce | ciphertext ‖ tag(16) |
 *
 * The header (version, alg, keyId) is authenticated: the AEAD's associated data is
 * `header ‖ 0x00 ‖ callerAad`, so swapping the algorithm or key id, or moving the value to another
 * row (the caller's AAD names the row), fails authentication.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { sm4 } from 'sm-crypto-v2';
import { DecryptionError } from './errors.js';

export type AeadAlg = 'A256GCM' | 'SM4GCM';

export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
export const FORMAT_VERSION = 1;

const ALG_TO_ID: Record<AeadAlg, number> = { A256GCM: 1, SM4GCM: 2 };
const ID_TO_ALG = new Map<number, AeadAlg>([
  [1, 'A256GCM'],
  [2, 'SM4GCM'],
]);

/** Key length in bytes for an algorithm (SM4 is a 128-bit cipher: a regulatory, not a strength, choice). */
export function keyLength(alg: AeadAlg): number {
  return alg === 'A256GCM' ? 32 : 16;
}

/** Type guard for algorithm identifiers read from configuration or storage. */
export function isAeadAlg(value: unknown): value is AeadAlg {
  return value === 'A256GCM' || value === 'SM4GCM';
}

/** A fresh random key of the right length for `alg`. */
export function generateKey(alg: AeadAlg): Buffer {
  return randomBytes(keyLength(alg));
}

function checkKey(alg: AeadAlg, key: Uint8Array): void {
  if (key.length !== keyLength(alg)) {
    throw new RangeError(`${alg} needs a ${keyLength(alg)}-byte key, got ${key.length}`);
  }
}

/** One-shot AEAD seal: returns ciphertext ‖ 16-byte tag. The caller owns nonce uniqueness. */
export function aeadSeal(
  alg: AeadAlg,
  key: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
): Buffer {
  checkKey(alg, key);
  if (nonce.length !== NONCE_BYTES) throw new RangeError(`nonce must be ${NONCE_BYTES} bytes`);
  if (alg === 'A256GCM') {
    const c = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
    c.setAAD(aad);
    const head = c.update(plaintext);
    const tail = c.final();
    return Buffer.concat([head, tail, c.getAuthTag()]);
  }
  const r = sm4.encrypt(plaintext, key, {
    mode: 'gcm',
    iv: nonce,
    associatedData: aad,
    output: 'array',
    outputTag: true,
  });
  if (!r.tag || r.tag.length !== TAG_BYTES) throw new Error('sm4-gcm returned no tag');
  return Buffer.concat([r.output, r.tag]);
}

/**
 * One-shot AEAD open of ciphertext ‖ tag. Throws DecryptionError on any failure; never returns
 * unauthenticated bytes.
 */
export function aeadOpen(
  alg: AeadAlg,
  key: Uint8Array,
  nonce: Uint8Array,
  sealed: Uint8Array,
  aad: Uint8Array,
): Buffer {
  checkKey(alg, key);
  if (nonce.length !== NONCE_BYTES || sealed.length < TAG_BYTES) throw new DecryptionError();
  const ct = sealed.subarray(0, sealed.length - TAG_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  try {
    if (alg === 'A256GCM') {
      const d = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
      d.setAAD(aad);
      d.setAuthTag(tag);
      const head = d.update(ct);
      const tail = d.final(); // throws on a bad tag; `head` is discarded with the exception
      return Buffer.concat([head, tail]);
    }
    // sm-crypto-v2 only checks the tag when one is passed: always pass it.
    const out = sm4.decrypt(ct, key, { mode: 'gcm', iv: nonce, associatedData: aad, tag, output: 'array' });
    return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  } catch (cause) {
    throw new DecryptionError({ cause });
  }
}

/** The identity of a stored value; encoded into the AAD so a ciphertext only opens in its own cell. */
export interface RecordIdentity {
  corpId: string;
  table: string;
  rowId: string | bigint;
  field: string;
}

/**
 * Canonical AAD for a database cell. Length-prefixed rather than `a|b|c` joined, so no choice of
 * ids containing the separator can make two identities collide.
 */
export function recordAad(id: RecordIdentity): Buffer {
  return encodeParts(['vigil-record-v1', id.corpId, id.table, String(id.rowId), id.field]);
}

/** Unambiguous concatenation: each part as u32 length ‖ UTF-8 bytes. */
export function encodeParts(parts: readonly string[]): Buffer {
  // One allocation: this runs for every archived message (its AAD).
  let size = 0;
  for (const p of parts) size += 4 + Buffer.byteLength(p, 'utf8');
  const out = Buffer.allocUnsafe(size);
  let o = 0;
  for (const p of parts) {
    const n = out.write(p, o + 4, 'utf8');
    out.writeUInt32BE(n, o);
    o += 4 + n;
  }
  return out;
}

/** Parsed header of a stored ciphertext. */
export interface CiphertextHeader {
  version: number;
  alg: AeadAlg;
  keyId: string;
  /** Byte length of the header (everything before the nonce). */
  headerLength: number;
}

function buildHeader(alg: AeadAlg, keyId: string): Buffer {
  const id = Buffer.from(keyId, 'utf8');
  if (id.length === 0 || id.length > 255) throw new RangeError('keyId must be 1..255 UTF-8 bytes');
  return Buffer.concat([Buffer.from([FORMAT_VERSION, ALG_TO_ID[alg], id.length]), id]);
}

/** Reads the header without decrypting (e.g. to find which DEK to load). Throws DecryptionError if malformed. */
export function parseHeader(blob: Uint8Array): CiphertextHeader {
  if (blob.length < 3) throw new DecryptionError();
  const version = blob[0]!;
  const alg = ID_TO_ALG.get(blob[1]!);
  const k = blob[2]!;
  if (version !== FORMAT_VERSION || !alg || k === 0 || blob.length < 3 + k + NONCE_BYTES + TAG_BYTES) {
    throw new DecryptionError();
  }
  const keyId = Buffer.from(blob.subarray(3, 3 + k)).toString('utf8');
  return { version, alg, keyId, headerLength: 3 + k };
}

function fullAad(header: Uint8Array, aad: Uint8Array): Buffer {
  return Buffer.concat([header, Buffer.from([0]), aad]);
}

/** Encrypts into the self-describing format above with a fresh random 96-bit nonce. */
export function encrypt(params: {
  alg: AeadAlg;
  keyId: string;
  key: Uint8Array;
  plaintext: Uint8Array;
  aad: Uint8Array;
}): Buffer {
  return encryptMany({ ...params, items: [{ plaintext: params.plaintext, aad: params.aad }] })[0]!;
}

/**
 * Encrypts several values under one key, each with its own random nonce and AAD: the header is
 * built once and the nonces drawn in one call, which matters when a batch of messages is archived.
 */
export function encryptMany(params: {
  alg: AeadAlg;
  keyId: string;
  key: Uint8Array;
  items: ReadonlyArray<{ plaintext: Uint8Array; aad: Uint8Array }>;
}): Buffer[] {
  const header = buildHeader(params.alg, params.keyId);
  const nonces = randomBytes(NONCE_BYTES * params.items.length);
  return params.items.map((item, i) => {
    const nonce = nonces.subarray(i * NONCE_BYTES, (i + 1) * NONCE_BYTES);
    if (params.alg === 'A256GCM') return sealGcm(params.key, header, nonce, item.plaintext, item.aad);
    const sealed = aeadSeal(params.alg, params.key, nonce, item.plaintext, fullAad(header, item.aad));
    return Buffer.concat([header, nonce, sealed], header.length + NONCE_BYTES + sealed.length);
  });
}

/**
 * header ‖ nonce ‖ AES-256-GCM(plaintext) ‖ tag, written into one buffer: the same bytes as
 * aeadSeal with the concatenations, without their copies (this runs for every archived message).
 */
function sealGcm(
  key: Uint8Array,
  header: Buffer,
  nonce: Buffer,
  plaintext: Uint8Array,
  aad: Uint8Array,
): Buffer {
  checkKey('A256GCM', key);
  const c = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  c.setAAD(header);
  c.setAAD(AAD_SEPARATOR);
  c.setAAD(aad);
  const body = c.update(plaintext);
  c.final(); // GCM: no output, computes the tag
  const out = Buffer.allocUnsafe(header.length + NONCE_BYTES + body.length + TAG_BYTES);
  let o = header.copy(out, 0);
  o += nonce.copy(out, o);
  o += body.copy(out, o);
  c.getAuthTag().copy(out, o);
  return out;
}

const AAD_SEPARATOR = Buffer.from([0]);

/**
 * Decrypts the self-describing format. `key` receives the parsed header and returns the key (or
 * throws). Any failure, including an unknown key id, surfaces as DecryptionError unless the key
 * callback throws another VigilCryptoError (e.g. ContentDestroyedError), which is passed through.
 */
export async function decrypt(
  blob: Uint8Array,
  aad: Uint8Array,
  key: (header: CiphertextHeader) => Uint8Array | Promise<Uint8Array>,
): Promise<Buffer> {
  const header = parseHeader(blob);
  const k = await key(header);
  return decryptWithKey(blob, aad, header, k);
}

/** Synchronous decrypt when the key is already at hand. */
export function decryptWithKey(
  blob: Uint8Array,
  aad: Uint8Array,
  header: CiphertextHeader,
  key: Uint8Array,
): Buffer {
  if (key.length !== keyLength(header.alg)) throw new DecryptionError();
  const h = blob.subarray(0, header.headerLength);
  const nonce = blob.subarray(header.headerLength, header.headerLength + NONCE_BYTES);
  const sealed = blob.subarray(header.headerLength + NONCE_BYTES);
  return aeadOpen(header.alg, key, nonce, sealed, fullAad(h, aad));
}
