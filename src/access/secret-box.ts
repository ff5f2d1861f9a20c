import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';

/**
 * Encrypts small secrets at rest (TOTP seeds, ASVS 2.8.2). `context` is bound as AAD, so a
 * sealed value copied to another user or purpose does not open. The default keeps an AES-256
 * key in a 0600 file under dataDir/keys; a keyring-backed box fits the same interface.
 */
export interface SecretBox {
  encryptSecret(plain: Buffer, context: string): Promise<Buffer>;
  decryptSecret(sealed: Buffer, context: string): Promise<Buffer>;
}

const VERSION = 1;

/** AES-256-GCM box over a 32-byte key: version ‖ iv(12) ‖ tag(16) ‖ ciphertext. */
export function aesGcmSecretBox(key: Buffer): SecretBox {
  if (key.length !== 32) throw new RangeError('secret box key must be 32 bytes');
  return {
    async encryptSecret(plain, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const ct = Buffer.concat([cipher.update(plain), cipher.final()]);
      return Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), ct]);
    },
    async decryptSecret(sealed, context) {
      if (sealed.length < 29 || sealed[0] !== VERSION) throw new Error('sealed secret: unknown format');
      const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(1, 13));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(sealed.subarray(13, 29));
      return Buffer.concat([decipher.update(sealed.subarray(29)), decipher.final()]);
    },
  };
}

/** The local default: the key lives in dataDir/keys/access-secrets.key (0600, created once). */
export function localSecretBox(dataDir: string): SecretBox {
  const file = join(resolve(dataDir), 'keys', 'access-secrets.key');
  let box: Promise<SecretBox> | undefined;
  const open = async (): Promise<SecretBox> => {
    try {
      const info = await stat(file);
      if ((info.mode & 0o077) !== 0) throw new Error(`${file} is readable by others: chmod 600 it`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      await mkdir(dirname(file), { recursive: true, mode: 0o700 });
      try {
        await writeFile(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
        await chmod(file, 0o600);
      } catch (writeErr) {
        if ((writeErr as NodeJS.ErrnoException).code !== 'EEXIST') throw writeErr;
      }
    }
    return aesGcmSecretBox(Buffer.from((await readFile(file, 'utf8')).trim(), 'base64'));
  };
  const get = () => (box ??= open().catch((err) => ((box = undefined), Promise.reject(err))));
  return {
    encryptSecret: async (plain, context) => (await get()).encryptSecret(plain, context),
    decryptSecret: async (sealed, context) => (await get()).decryptSecret(sealed, context),
  };
}
