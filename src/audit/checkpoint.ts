/**
 * C2SP tlog-checkpoint as a C2SP signed note, signed with Ed25519.
 *
 *   <origin>\n<tree size>\n<base64 root hash>\n[<extension line>\n]*
 *   \n
 *   — <key name> <base64(4-byte key id ‖ 64-byte signature)>\n   (one or more)
 *
 * Key id = SHA-256(name ‖ "\n" ‖ 0x01 ‖ 32-byte public key)[:4]; verifier keys are written
 * `<name>+<hex key id>+<base64(0x01 ‖ public key)>`, as in Go's golang.org/x/mod/sumdb/note, so
 * witnesses and auditors can use standard tools. Checkpoints must leave the box (WORM bucket,
 * auditor mail, witness): a re-built and re-signed log is caught only by comparing with a copy.
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

const ED25519_ALG = 0x01;
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
  publicKey: Buffer;
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

/** Key id of an Ed25519 key under a name (first 4 bytes of SHA-256(name ‖ \n ‖ 0x01 ‖ pub)). */
export function keyIdOf(name: string, publicKey: Uint8Array): Buffer {
  return createHash('sha256')
    .update(name, 'utf8')
    .update('\n')
    .update(Buffer.from([ED25519_ALG]))
    .update(publicKey)
    .digest()
    .subarray(0, 4);
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

/** Verifier key string `<name>+<hex id>+<base64(0x01 ‖ pub)>` for a signer's private key. */
export function verifierKeyOf(name: string, privateKey: Buffer | string | KeyObject): string {
  assertKeyName(name);
  const key =
    typeof privateKey === 'object' && !Buffer.isBuffer(privateKey)
      ? privateKey
      : createPrivateKey(
          Buffer.isBuffer(privateKey) ? { key: privateKey, format: 'der', type: 'pkcs8' } : privateKey,
        );
  const pub = rawPublicKey(createPublicKey(key));
  return `${name}+${keyIdOf(name, pub).toString('hex')}+${Buffer.concat([Buffer.from([ED25519_ALG]), pub]).toString('base64')}`;
}

/** Parses a verifier key string; checks that the embedded key id matches. */
export function parseVerifierKey(vkey: string): NoteVerifier {
  const m = /^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/]+=*)$/.exec(vkey);
  if (!m) throw new CheckpointError('malformed verifier key');
  const [, name, idHex, b64] = m;
  const raw = Buffer.from(b64!, 'base64');
  if (raw.length !== 33 || raw[0] !== ED25519_ALG) throw new CheckpointError('verifier key is not Ed25519');
  const publicKey = raw.subarray(1);
  const keyId = keyIdOf(name!, publicKey);
  if (keyId.toString('hex') !== idHex) throw new CheckpointError('verifier key id does not match its key');
  return { name: name!, keyId, publicKey };
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
  const { body, signatures } = parseNote(note);
  const verifiers = trusted.map((t) => (typeof t === 'string' ? parseVerifierKey(t) : t));
  const msg = Buffer.from(body, 'utf8');
  let good = 0;
  for (const sig of signatures) {
    const v = verifiers.find((x) => x.name === sig.name && x.keyId.equals(sig.keyId));
    if (!v) continue;
    const pub = createPublicKey({
      key: Buffer.concat([ED25519_SPKI_PREFIX, v.publicKey]),
      format: 'der',
      type: 'spki',
    });
    if (sig.signature.length !== 64 || !verify(null, msg, pub, sig.signature))
      throw new CheckpointError(`invalid signature by ${sig.name}`);
    good++;
  }
  if (good === 0) throw new CheckpointError('no signature from a trusted key');
  return body;
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
