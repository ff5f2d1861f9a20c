import { createPrivateKey, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
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

/**
 * The audit checkpoint signer with its Ed25519 private key in the keyring, created on first use.
 * Creation is insert-if-absent, so two processes starting together agree on one key.
 */
export async function keyringAuditSigner(keyring: Keyring, keyName = 'vigil-audit'): Promise<AuditSigner> {
  const name = SecretNames.auditSigning();
  let der = await keyring.getSecret(name);
  if (!der) {
    const fresh = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'der' });
    der = await keyring.putSecretIfAbsent(name, fresh);
  }
  const privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  // The raw public key is the last 32 bytes of its SPKI encoding.
  const publicKey = createPublicKey(privateKey).export({ type: 'spki', format: 'der' }).subarray(-32);
  return { keyName, publicKey: Buffer.from(publicKey), sign: (message) => sign(null, message, privateKey) };
}
