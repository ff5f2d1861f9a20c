import { join, resolve } from 'node:path';
import type { VigilConfig } from '../platform/config/schema.js';
import type { Pool } from '../platform/db/pool.js';
import { PgDekStore } from './dek.repository.js';
import { EnvelopeService } from './envelope.js';
import { openOrCreateLocalKeyring } from './keyring/local.js';
import { openPkcs11Keyring } from './keyring/pkcs11.js';
import type { Keyring } from './keyring/types.js';

/** Opens the configured keyring: a local key file (created on first start) or a PKCS#11 token. */
export async function openKeyring(config: VigilConfig): Promise<Keyring> {
  const { keyring } = config;
  if (keyring.provider === 'pkcs11') {
    return openPkcs11Keyring({
      library: keyring.pkcs11.library,
      tokenLabel: keyring.pkcs11.tokenLabel!,
      pin: keyring.pkcs11.pin!,
      labelPrefix: keyring.pkcs11.labelPrefix,
    });
  }
  return openOrCreateLocalKeyring({
    path: keyring.local.path ?? join(resolve(config.dataDir), 'keys', 'keyring.json'),
    passphrase: keyring.local.passphrase,
  });
}

/** The crypto services a Vigil process uses. */
export interface CryptoServices {
  keyring: Keyring;
  deks: PgDekStore;
  envelope: EnvelopeService;
}

export async function openCrypto(config: VigilConfig, pool: Pool): Promise<CryptoServices> {
  const keyring = await openKeyring(config);
  const deks = new PgDekStore(pool);
  const envelope = new EnvelopeService({ keyring, store: deks, alg: config.crypto.contentAlgorithm });
  return { keyring, deks, envelope };
}
