/**
 * C2SP tlog-checkpoint as a C2SP signed note, signed with Ed25519 (default) or SM2.
 *
 *   <origin>\n<tree size>\n<base64 root hash>\n[<extension line>\n]*
 *   \n
 *   — <key name> <base64(4-byte key id ‖ 64-byte signature)>\n   (one or more)
 *
 * Key id = SHA-256(name ‖ "\n" ‖ 0x01 ‖ 32-byte public key)[:4]; verifier keys are written
 * `<name>+<hex key id>+<base64(0x01 ‖ public key)>`, as in Go's golang.org/x/mod/sumdb/note, so
 * witnesses and auditors can use standard tools. Checkpoints must leave the box (WORM bucket,
 * auditor mail, witness): a re-built and re-signed log is caught only by comparing with a copy.
 *
 * SM2 (国密, GB/T 32918.2 over SM3, distinguishing ID 1234567812345678; see sm2.ts) uses the
 * signature type C2SP reserves for unassigned algorithms, 0xff followed by an identifier:
 *   type      = 0xff ‖ "sm2-sm3/1234567812345678"
 *   key id    = SHA-256(name ‖ "\n" ‖ type ‖ 65-byte uncompressed public key)[:4]
 *   vkey      = <name>+<hex key id>+<base64(type ‖ public key)>
 *   signature = r ‖ s, 32 bytes each, big-endian (64 bytes; DER only for OpenSSL interop)
 * The algorithm is thus bound into the key id and the verifier key: a note's signature line names
 * (name, key id), which selects the trusted verifier key and with it the algorithm.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { HASH_SIZE } from './merkle.js';
import {
  Sm2Error,
  assertSm2PublicKey,
  generateSm2PrivateKey,
  sm2PrivateKeyFromPkcs8,
  sm2PrivateKeyToPkcs8,
  sm2PublicKey,
  sm2Sign,
  sm2Verify,
} from './sm2.js';

/** Checkpoint signature algorithms (`audit.signature`). */
export type SignatureAlgorithm = 'ed25519' | 'sm2';
export const SIGNATURE_ALGORITHMS: readonly SignatureAlgorithm[] = ['ed25519', 'sm2'];

const ED25519_ALG = 0x01;
/** C2SP signed-note signature type of SM2-with-SM3 notes: 0xff ‖ identifier (see above). */
const SM2_TYPE = Buffer.concat([Buffer.from([0xff]), Buffer.from('sm2-sm3/1234567812345678', 'ascii')]);
const SIGNATURE_TYPE: Record<SignatureAlgorithm, Buffer> = {
  ed25519: Buffer.from([ED25519_ALG]),
  sm2: SM2_TYPE,
};
const PUBLIC_KEY_SIZE: Record<SignatureAlgorithm, number> = { ed25519: 32, sm2: 65 };
const SIGNATURE_SIZE: Record<SignatureAlgorithm, number> = { ed25519: 64, sm2: 64 };
const SIG_PREFIX = '\u2014 '; // "— " (em dash, space)
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export interface Checkpoint {
  /** Unique log identity, e.g. `vigil.example.com/audit/ww0001`. */
  origin: string;
  size: number;
  rootHash: Buffer;
  /** Optional extra body lines (opaque to verifiers). */
  extensions?: string[];
}

export interface NoteSignature {
  name: string;
  keyId: Buffer;
  signature: Buffer;
}

export interface NoteSigner {
  name: string;
  keyId: Buffer;
  sign(message: Buffer): Buffer;
}

export interface NoteVerifier {
  name: string;
  keyId: Buffer;
  /** Raw public key: 32 bytes (Ed25519) or 65 bytes uncompressed (SM2). */
  publicKey: Buffer;
  /** Absent means Ed25519. */
  algorithm?: SignatureAlgorithm;
}

/** Malformed note, or no valid signature from a trusted key. */
export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}

function assertKeyName(name: string): void {
  // eslint-disable-next-line no-control-regex
  if (name.length === 0 || /[\s+\u0000-\u001f]/u.test(name))
    throw new RangeError('key name must be non-empty, without spaces or "+"');
}

/**
 * Key id of a key under a name: the first 4 bytes of SHA-256(name ‖ \n ‖ signature type ‖ pub),
 * with type 0x01 for Ed25519 and 0xff ‖ "sm2-sm3/1234567812345678" for SM2.
 */
export function keyIdOf(
  name: string,
  publicKey: Uint8Array,
  algorithm: SignatureAlgorithm = 'ed25519',
): Buffer {
  return createHash('sha256')
    .update(name, 'utf8')
    .update('\n')
    .update(SIGNATURE_TYPE[algorithm])
    .update(publicKey)
    .digest()
    .subarray(0, 4);
}

/** The verifier key string `<name>+<hex key id>+<base64(type ‖ pub)>` of a public key. */
export function formatVerifierKey(
  name: string,
  publicKey: Uint8Array,
  algorithm: SignatureAlgorithm = 'ed25519',
): string {
  assertKeyName(name);
  if (publicKey.length !== PUBLIC_KEY_SIZE[algorithm])
    throw new RangeError(`${algorithm} public key must be ${PUBLIC_KEY_SIZE[algorithm]} bytes`);
  const id = keyIdOf(name, publicKey, algorithm).toString('hex');
  return `${name}+${id}+${Buffer.concat([SIGNATURE_TYPE[algorithm], publicKey]).toString('base64')}`;
}

function rawPublicKey(key: KeyObject): Buffer {
  const der = key.export({ type: 'spki', format: 'der' });
  if (key.asymmetricKeyType !== 'ed25519' || !der.subarray(0, 12).equals(ED25519_SPKI_PREFIX))
    throw new RangeError('not an Ed25519 key');
  return der.subarray(12);
}

/** A new Ed25519 signing key as PKCS#8 DER (store it with `SecretNames.auditSigning()`). */
export function generateSigningKey(): Buffer {
  return generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'der' });
}

/** Signer from a PKCS#8 DER/PEM Ed25519 private key. */
export function createNoteSigner(name: string, privateKey: Buffer | string | KeyObject): NoteSigner {
  assertKeyName(name);
  const key =
    typeof privateKey === 'object' && !Buffer.isBuffer(privateKey)
      ? privateKey
      : createPrivateKey(
          Buffer.isBuffer(privateKey) ? { key: privateKey, format: 'der', type: 'pkcs8' } : privateKey,
        );
  const keyId = keyIdOf(name, rawPublicKey(createPublicKey(key)));
  return { name, keyId, sign: (message) => sign(null, message, key) };
}

/** A new SM2 signing key as PKCS#8 DER (the keyring secret `audit/sm2/default`). */
export function generateSm2SigningKey(): Buffer {
  return sm2PrivateKeyToPkcs8(generateSm2PrivateKey());
}

/** SM2 signer from a PKCS#8 DER SM2 private key (or the raw 32-byte private key). */
export function createSm2NoteSigner(name: string, privateKey: Buffer): NoteSigner & { publicKey: Buffer } {
  assertKeyName(name);
  const d = privateKey.length === 32 ? privateKey : sm2PrivateKeyFromPkcs8(privateKey);
  const publicKey = sm2PublicKey(d);
  const keyId = keyIdOf(name, publicKey, 'sm2');
  return { name, keyId, publicKey, sign: (message) => sm2Sign(message, d, { publicKey }) };
}

/** Verifier key string `<name>+<hex id>+<base64(0x01 ‖ pub)>` for a signer's private key. */
export function verifierKeyOf(name: string, privateKey: Buffer | string | KeyObject): string {
  assertKeyName(name);
  const key =
    typeof privateKey === 'object' && !Buffer.isBuffer(privateKey)
      ? privateKey
      : createPrivateKey(
          Buffer.isBuffer(privateKey) ? { key: privateKey, format: 'der', type: 'pkcs8' } : privateKey,
        );
  return formatVerifierKey(name, rawPublicKey(createPublicKey(key)));
}

/** Parses a verifier key string; checks that the embedded key id matches. */
export function parseVerifierKey(vkey: string): NoteVerifier {
  const m = /^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/]+=*)$/.exec(vkey);
  if (!m) throw new CheckpointError('malformed verifier key');
  const [, name, idHex, b64] = m;
  const raw = Buffer.from(b64!, 'base64');
  const algorithm = SIGNATURE_ALGORITHMS.find(
    (alg) =>
      raw.length === SIGNATURE_TYPE[alg].length + PUBLIC_KEY_SIZE[alg] &&
      raw.subarray(0, SIGNATURE_TYPE[alg].length).equals(SIGNATURE_TYPE[alg]),
  );
  if (!algorithm) throw new CheckpointError('verifier key is neither Ed25519 nor SM2');
  const publicKey = raw.subarray(SIGNATURE_TYPE[algorithm].length);
  if (algorithm === 'sm2') {
    try {
      assertSm2PublicKey(publicKey);
    } catch (err) {
      if (err instanceof Sm2Error) throw new CheckpointError(`verifier key: ${err.message}`);
      throw err;
    }
  }
  const keyId = keyIdOf(name!, publicKey, algorithm);
  if (keyId.toString('hex') !== idHex) throw new CheckpointError('verifier key id does not match its key');
  return { name: name!, keyId, publicKey, algorithm };
}

/** The note body (what is signed) for a checkpoint. */
export function formatCheckpointBody(cp: Checkpoint): string {
  if (!cp.origin || /[\n\r]/.test(cp.origin) || cp.origin.trim() !== cp.origin)
    throw new RangeError('origin must be one non-empty line');
  if (!Number.isSafeInteger(cp.size) || cp.size < 0)
    throw new RangeError('size must be a non-negative integer');
  if (cp.rootHash.length !== HASH_SIZE) throw new RangeError('root hash must be 32 bytes');
  for (const e of cp.extensions ?? [])
    if (!e || /[\n\r]/.test(e)) throw new RangeError('extension lines must be non-empty single lines');
  return [cp.origin, String(cp.size), cp.rootHash.toString('base64'), ...(cp.extensions ?? [])]
    .map((l) => `${l}\n`)
    .join('');
}

/** Signs a checkpoint with one or more signers (the log key first, then e.g. a backup key). */
export function signCheckpoint(cp: Checkpoint, signers: readonly NoteSigner[]): string {
  if (signers.length === 0) throw new RangeError('at least one signer');
  const body = formatCheckpointBody(cp);
  const msg = Buffer.from(body, 'utf8');
  const lines = signers.map(
    (s) => `${SIG_PREFIX}${s.name} ${Buffer.concat([s.keyId, s.sign(msg)]).toString('base64')}\n`,
  );
  return `${body}\n${lines.join('')}`;
}

/** Splits a signed note into its body (ending in a newline) and signature lines, verifying nothing. */
export function parseNote(note: string): { body: string; signatures: NoteSignature[] } {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0009\u000b-\u001f\u007f]/.test(note))
    throw new CheckpointError('note contains control characters');
  const sep = note.lastIndexOf('\n\n');
  if (sep < 0 || !note.endsWith('\n')) throw new CheckpointError('note has no signature block');
  const body = note.slice(0, sep + 1);
  const signatures: NoteSignature[] = [];
  for (const line of note.slice(sep + 2, -1).split('\n')) {
    const m = /^\u2014 (\S+) ([A-Za-z0-9+/]+=*)$/u.exec(line);
    if (!m) throw new CheckpointError('malformed signature line');
    const raw = Buffer.from(m[2]!, 'base64');
    if (raw.length < 5) throw new CheckpointError('signature too short');
    signatures.push({ name: m[1]!, keyId: raw.subarray(0, 4), signature: raw.subarray(4) });
  }
  return { body, signatures };
}

/** Splits a checkpoint note into body, checkpoint fields and signature lines without verifying anything. */
export function parseCheckpoint(note: string): {
  checkpoint: Checkpoint;
  body: string;
  signatures: NoteSignature[];
} {
  const { body, signatures } = parseNote(note);
  const lines = body.slice(0, -1).split('\n');
  if (lines.length < 3) throw new CheckpointError('checkpoint body needs origin, size and root hash');
  const [origin, sizeText, rootText, ...extensions] = lines as [string, string, string, ...string[]];
  if (!origin) throw new CheckpointError('empty origin');
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText) || !Number.isSafeInteger(Number(sizeText)))
    throw new CheckpointError('malformed tree size');
  const rootHash = Buffer.from(rootText, 'base64');
  if (rootHash.length !== HASH_SIZE || rootHash.toString('base64') !== rootText)
    throw new CheckpointError('malformed root hash');
  if (extensions.some((e) => e === '')) throw new CheckpointError('empty line inside the body');
  return { checkpoint: { origin, size: Number(sizeText), rootHash, extensions }, body, signatures };
}

/**
 * Verifies a signed note and returns its body: at least one signature must come from a trusted
 * verifier and be valid, and a signature claiming a trusted key (same name and id) that does not
 * verify is an error. Signatures from unknown keys (e.g. other witnesses) are ignored.
 */
export function verifyNote(note: string, trusted: ReadonlyArray<NoteVerifier | string>): string {
  return verifyNoteSigners(note, trusted).body;
}

/** verifyNote, also returning the trusted verifiers whose signatures verified (with their algorithm). */
export function verifyNoteSigners(
  note: string,
  trusted: ReadonlyArray<NoteVerifier | string>,
): { body: string; verifiedBy: NoteVerifier[] } {
  const { body, signatures } = parseNote(note);
  const verifiers = trusted.map((t) => (typeof t === 'string' ? parseVerifierKey(t) : t));
  const msg = Buffer.from(body, 'utf8');
  const verifiedBy: NoteVerifier[] = [];
  for (const sig of signatures) {
    const v = verifiers.find((x) => x.name === sig.name && x.keyId.equals(sig.keyId));
    if (!v) continue;
    if (!verifySignature(v, msg, sig.signature))
      throw new CheckpointError(`invalid ${v.algorithm ?? 'ed25519'} signature by ${sig.name}`);
    verifiedBy.push(v);
  }
  if (verifiedBy.length === 0) throw new CheckpointError('no signature from a trusted key');
  return { body, verifiedBy };
}

function verifySignature(v: NoteVerifier, msg: Buffer, signature: Buffer): boolean {
  const algorithm = v.algorithm ?? 'ed25519';
  if (signature.length !== SIGNATURE_SIZE[algorithm]) return false;
  if (algorithm === 'sm2') return sm2Verify(msg, signature, v.publicKey);
  const pub = createPublicKey({
    key: Buffer.concat([ED25519_SPKI_PREFIX, v.publicKey]),
    format: 'der',
    type: 'spki',
  });
  return verify(null, msg, pub, signature);
}

/** Verifies a checkpoint note (see verifyNote) and parses it; optionally pins the origin. */
export function verifyCheckpoint(
  note: string,
  trusted: ReadonlyArray<NoteVerifier | string>,
  options: { origin?: string } = {},
): Checkpoint {
  const { checkpoint } = parseCheckpoint(note);
  if (options.origin !== undefined && checkpoint.origin !== options.origin)
    throw new CheckpointError(`unexpected origin ${JSON.stringify(checkpoint.origin)}`);
  verifyNote(note, trusted);
  return checkpoint;
}
