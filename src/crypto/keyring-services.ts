import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import {
  createSm2NoteSigner,
  formatVerifierKey,
  generateSm2SigningKey,
  type SignatureAlgorithm,
} from '../audit/checkpoint.js';
import type { AuditSigner } from '../audit/signer.js';
import { aesGcmSecretBox, type SecretBox } from '../access/secret-box.js';
import { getOrCreateSecret } from './keyring/corp-keys.js';
import { SecretNames, type Keyring } from './keyring/types.js';

/** Name of the keyring secret that seals small secrets of the access module (TOTP seeds). */
const ACCESS_SEAL = 'access/secret-box';

/** A SecretBox whose AES-256 key lives in the keyring (HSM-protected with PKCS#11), not on disk. */
export async function keyringSecretBox(keyring: Keyring): Promise<SecretBox> {
  return aesGcmSecretBox(await getOrCreateSecret(keyring, ACCESS_SEAL));
}

/** Keyring secret of the SM2 audit checkpoint key (PKCS#8 DER), beside `audit/ed25519/default`. */
export const AUDIT_SM2_SECRET = 'audit/sm2/default';

/**
 * The audit checkpoint signer with its private key in the keyring, created on first use:
 * Ed25519 (`audit/ed25519/default`) or, for `audit.signature: sm2`, SM2 (`audit/sm2/default`).
 * The other algorithm's key, when the keyring holds one (the log switched algorithms), stays
 * trusted for verification through `previousVerifierKeys`; it is never created here.
 */
export async function keyringAuditSigner(
  keyring: Keyring,
  keyName = 'vigil-audit',
  algorithm: SignatureAlgorithm = 'ed25519',
): Promise<AuditSigner> {
  const ed25519Secret = SecretNames.auditSigning();
  if (algorithm === 'ed25519') {
    const signer = await keyringEd25519Signer(keyring, ed25519Secret, keyName);
    const sm2 = await keyring.getSecret(AUDIT_SM2_SECRET);
    const previous = sm2
      ? [formatVerifierKey(keyName, createSm2NoteSigner(keyName, sm2).publicKey, 'sm2')]
      : [];
    return { ...signer, algorithm, previousVerifierKeys: previous };
  }
  const signer = await keyringSm2Signer(keyring, AUDIT_SM2_SECRET, keyName);
  const ed25519 = await keyring.getSecret(ed25519Secret);
  const previous = ed25519
    ? [
        formatVerifierKey(
          keyName,
          ed25519PublicKey(createPrivateKey({ key: ed25519, format: 'der', type: 'pkcs8' })),
        ),
      ]
    : [];
  return { ...signer, previousVerifierKeys: previous };
}

/**
 * An SM2 signer (GB/T 32918.2 over SM3, ID 1234567812345678) whose PKCS#8 private key is the
 * keyring secret `secretName`, created on first use with insert-if-absent.
 */
export async function keyringSm2Signer(
  keyring: Keyring,
  secretName: string,
  keyName: string,
): Promise<AuditSigner> {
  let der = await keyring.getSecret(secretName);
  if (!der) der = await keyring.putSecretIfAbsent(secretName, generateSm2SigningKey());
  const signer = createSm2NoteSigner(keyName, der);
  return { keyName, publicKey: signer.publicKey, algorithm: 'sm2', sign: (message) => signer.sign(message) };
}

const ed25519PublicKey = (privateKey: KeyObject): Buffer =>
  // The raw public key is the last 32 bytes of its SPKI encoding.
  Buffer.from(createPublicKey(privateKey).export({ type: 'spki', format: 'der' }).subarray(-32));

/**
 * An Ed25519 signer whose PKCS#8 private key is the keyring secret `secretName`, created on first
 * use. Creation is insert-if-absent, so two processes starting together agree on one key.
 */
export async function keyringEd25519Signer(
  keyring: Keyring,
  secretName: string,
  keyName: string,
): Promise<AuditSigner> {
  let der = await keyring.getSecret(secretName);
  if (!der) {
    const fresh = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'der' });
    der = await keyring.putSecretIfAbsent(secretName, fresh);
  }
  const privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  // The raw public key is the last 32 bytes of its SPKI encoding.
  const publicKey = createPublicKey(privateKey).export({ type: 'spki', format: 'der' }).subarray(-32);
  return { keyName, publicKey: Buffer.from(publicKey), sign: (message) => sign(null, message, privateKey) };
}
