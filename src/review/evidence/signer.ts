import { keyringEd25519Signer } from '../../crypto/keyring-services.js';
import type { Keyring } from '../../crypto/keyring/types.js';
import type { EvidenceSigner } from './types.js';

/** Keyring secret holding the PKCS#8 Ed25519 key that signs evidence packages under `keyName`. */
export const evidenceSigningSecret = (keyName: string): string => `evidence/ed25519/${keyName}`;

/**
 * The evidence signer, its private key in the keyring (created on first use). A key separate from
 * the audit checkpoint key, so either can be rotated or revoked without touching the other.
 */
export function evidenceSignerFromKeyring(
  keyring: Keyring,
  keyName = 'vigil-evidence',
): Promise<EvidenceSigner> {
  return keyringEd25519Signer(keyring, evidenceSigningSecret(keyName), keyName);
}
