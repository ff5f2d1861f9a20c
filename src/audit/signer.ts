import { createPrivateKey, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import {
  createSm2NoteSigner,
  formatVerifierKey,
  generateSm2SigningKey,
  type SignatureAlgorithm,
} from './checkpoint.js';

/**
 * The key that signs audit checkpoints. Private keys never sit in the database: the default
 * keeps a PEM file under dataDir/keys; a keyring or HSM implementation fits the same interface.
 */
export interface AuditSigner {
  /** Key name in the signed note (no spaces or '+'). */
  keyName: string;
  /** Raw public key: 32 bytes for Ed25519, 65 bytes uncompressed (0x04 ‖ x ‖ y) for SM2. */
  publicKey: Buffer;
  /** Signature algorithm; absent means Ed25519. */
  algorithm?: SignatureAlgorithm;
  /** Ed25519: the 64-byte signature; SM2: r ‖ s (64 bytes, SM3 with the default ID). */
  sign(message: Buffer): Promise<Buffer> | Buffer;
  /**
   * Verifier keys of this log's other signing keys (e.g. the Ed25519 key after switching
   * `audit.signature` to sm2), still trusted when verifying the checkpoints they signed.
   */
  previousVerifierKeys?: readonly string[];
}

const ED25519_SPKI_PREFIX_LENGTH = 12;

/** The verifier key string `<name>+<hex id>+<base64(type ‖ pub)>` auditors pin. */
export function verifierKeyFor(signer: Pick<AuditSigner, 'keyName' | 'publicKey' | 'algorithm'>): string {
  return formatVerifierKey(signer.keyName, signer.publicKey, signer.algorithm ?? 'ed25519');
}

/** The default path of the local signing key (`audit-signing.pem`; SM2: `audit-signing-sm2.pem`). */
export function localSigningKeyPath(dataDir: string, algorithm: SignatureAlgorithm = 'ed25519'): string {
  return join(resolve(dataDir), 'keys', algorithm === 'sm2' ? 'audit-signing-sm2.pem' : 'audit-signing.pem');
}

/**
 * A signer whose private key is a PKCS#8 PEM file (mode 0600) under dataDir/keys, created on
 * first use: Ed25519 by default, SM2 with `algorithm: 'sm2'`. A file readable by group or others
 * is refused, as for the keyring.
 */
export async function localAuditSigner(
  dataDir: string,
  keyName = 'vigil-audit',
  algorithm: SignatureAlgorithm = 'ed25519',
): Promise<AuditSigner> {
  const file = localSigningKeyPath(dataDir, algorithm);
  const fresh = (): string =>
    algorithm === 'sm2'
      ? toPem(generateSm2SigningKey(), 'PRIVATE KEY')
      : generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  let pem: string;
  try {
    const info = await stat(file);
    if ((info.mode & 0o077) !== 0)
      throw new Error(`audit signing key ${file} is readable by others: chmod 600 it`);
    pem = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    pem = fresh();
    try {
      // 'wx': two processes starting at once must not overwrite each other's key.
      await writeFile(file, pem, { mode: 0o600, flag: 'wx' });
      await chmod(file, 0o600);
    } catch (writeErr) {
      if ((writeErr as NodeJS.ErrnoException).code !== 'EEXIST') throw writeErr;
      pem = await readFile(file, 'utf8');
    }
  }
  if (algorithm === 'sm2') {
    const signer = createSm2NoteSigner(keyName, fromPem(pem, 'PRIVATE KEY', file));
    return { keyName, publicKey: signer.publicKey, algorithm, sign: (message) => signer.sign(message) };
  }
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`audit signing key ${file} is not an Ed25519 key`);
  const publicKey = createPublicKey(key)
    .export({ type: 'spki', format: 'der' })
    .subarray(ED25519_SPKI_PREFIX_LENGTH);
  return { keyName, publicKey, sign: (message) => sign(null, message, key) };
}

function toPem(der: Buffer, label: string): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

function fromPem(pem: string, label: string, file: string): Buffer {
  const m = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+)-----END ${label}-----`).exec(pem);
  if (!m) throw new Error(`audit signing key ${file} is not a PEM ${label}`);
  return Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64');
}
