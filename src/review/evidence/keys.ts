import { createHash, createPublicKey, KeyObject, verify } from 'node:crypto';

const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const RAW_KEY_BYTES = 32;

/** Thrown for a key that is not an Ed25519 public key in a supported encoding. */
export class EvidenceKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EvidenceKeyError';
  }
}

/** Base64 that decodes to exactly these bytes and re-encodes to itself (no ignored bits). */
export function strictBase64(text: string): Buffer | undefined {
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}

/**
 * The raw 32-byte Ed25519 key from raw bytes, a KeyObject, SPKI PEM or base64 of the raw key
 * (what operators paste or pin).
 */
export function rawPublicKey(key: Buffer | Uint8Array | string | KeyObject): Buffer {
  if (key instanceof KeyObject) return rawFromKeyObject(key);
  if (typeof key !== 'string') {
    if (key.length !== RAW_KEY_BYTES) throw new EvidenceKeyError('raw Ed25519 public key must be 32 bytes');
    return Buffer.from(key);
  }
  const text = key.trim();
  if (text.startsWith('-----BEGIN')) {
    try {
      return rawFromKeyObject(createPublicKey(text));
    } catch (err) {
      if (err instanceof EvidenceKeyError) throw err;
      throw new EvidenceKeyError('not a PEM public key');
    }
  }
  const raw = strictBase64(text);
  if (!raw || raw.length !== RAW_KEY_BYTES)
    throw new EvidenceKeyError('expected an SPKI PEM or base64 of a raw 32-byte Ed25519 public key');
  return raw;
}

function rawFromKeyObject(key: KeyObject): Buffer {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  if (pub.asymmetricKeyType !== 'ed25519') throw new EvidenceKeyError('not an Ed25519 key');
  return pub.export({ type: 'spki', format: 'der' }).subarray(ED25519_SPKI_PREFIX.length);
}

/** SPKI PEM of a raw key, as Node writes it (the canonical form stored in manifest.sig). */
export function publicKeyPem(raw: Buffer): string {
  return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' })
    .export({ type: 'spki', format: 'pem' })
    .toString();
}

/** SHA-256 of the raw key, hex: short enough to compare by eye, long enough to pin. */
export function keyFingerprint(raw: Buffer): string {
  return createHash('sha256').update(raw).digest('hex');
}

/** Verifies an Ed25519 signature; false (never a throw) for malformed signatures. */
export function verifyEd25519(raw: Buffer, message: Buffer, signature: Buffer): boolean {
  if (signature.length !== 64) return false;
  const key = createPublicKey({
    key: Buffer.concat([ED25519_SPKI_PREFIX, raw]),
    format: 'der',
    type: 'spki',
  });
  return verify(null, message, key, signature);
}
