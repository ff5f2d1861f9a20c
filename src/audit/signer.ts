import { createPrivateKey, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { keyIdOf } from './checkpoint.js';

/**
 * The key that signs audit checkpoints. Private keys never sit in the database: the default
 * keeps a PEM file under dataDir/keys; a keyring or HSM implementation fits the same interface.
 */
export interface AuditSigner {
  /** Key name in the signed note (no spaces or '+'). */
  keyName: string;
  /** Raw 32-byte Ed25519 public key. */
  publicKey: Buffer;
  sign(message: Buffer): Promise<Buffer> | Buffer;
}

const ED25519_SPKI_PREFIX_LENGTH = 12;

/** The verifier key string `<name>+<hex id>+<base64(0x01 ‖ pub)>` auditors pin. */
export function verifierKeyFor(signer: Pick<AuditSigner, 'keyName' | 'publicKey'>): string {
  const id = keyIdOf(signer.keyName, signer.publicKey).toString('hex');
  return `${signer.keyName}+${id}+${Buffer.concat([Buffer.from([1]), signer.publicKey]).toString('base64')}`;
}

/** The default path of the local signing key. */
export function localSigningKeyPath(dataDir: string): string {
  return join(resolve(dataDir), 'keys', 'audit-signing.pem');
}

/**
 * An Ed25519 signer whose private key is a PKCS#8 PEM file (mode 0600) under dataDir/keys,
 * created on first use. A file readable by group or others is refused, as for the keyring.
 */
export async function localAuditSigner(dataDir: string, keyName = 'vigil-audit'): Promise<AuditSigner> {
  const file = localSigningKeyPath(dataDir);
  let pem: string;
  try {
    const info = await stat(file);
    if ((info.mode & 0o077) !== 0)
      throw new Error(`audit signing key ${file} is readable by others: chmod 600 it`);
    pem = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    try {
      // 'wx': two processes starting at once must not overwrite each other's key.
      await writeFile(file, pem, { mode: 0o600, flag: 'wx' });
      await chmod(file, 0o600);
    } catch (writeErr) {
      if ((writeErr as NodeJS.ErrnoException).code !== 'EEXIST') throw writeErr;
      pem = await readFile(file, 'utf8');
    }
  }
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`audit signing key ${file} is not an Ed25519 key`);
  const publicKey = createPublicKey(key)
    .export({ type: 'spki', format: 'der' })
    .subarray(ED25519_SPKI_PREFIX_LENGTH);
  return { keyName, publicKey, sign: (message) => sign(null, message, key) };
}
