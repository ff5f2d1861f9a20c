import { randomBytes } from 'node:crypto';
import type { Keyring } from './types.js';

/**
 * Returns the 32-byte secret `name`, creating it on first use. Creation is insert-if-absent, so
 * concurrent first users agree on one key.
 */
export async function getOrCreateSecret(keyring: Keyring, name: string, bytes = 32): Promise<Buffer> {
  const existing = await keyring.getSecret(name);
  if (existing) return existing;
  return keyring.putSecretIfAbsent(name, randomBytes(bytes));
}
