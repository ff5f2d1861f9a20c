import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { encryptRandomKey } from '../emulator/emulator-crypto.js';
import { RsaPool } from './rsa-pool.js';

const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
const pool = new RsaPool(2);
afterAll(() => pool.close());

/** n ciphertexts of random keys; every fifth is corrupted. */
function batch(n: number): { ciphertexts: Uint8Array[]; keys: Array<string | null> } {
  const keys = Array.from({ length: n }, () => randomBytes(16).toString('hex'));
  const ciphertexts = keys.map((k, i) => {
    const c = Buffer.from(encryptRandomKey(publicKey, k), 'base64');
    return i % 5 === 4 ? c.subarray(0, 100) : c; // wrong length: refused
  });
  return { ciphertexts, keys: keys.map((k, i) => (i % 5 === 4 ? null : k)) };
}

describe('RsaPool', () => {
  it.each([[5], [203]])('decrypts %i ciphertexts in order, each failing on its own', async (n) => {
    const { ciphertexts, keys } = batch(n);
    const out = await pool.decrypt(pem, ciphertexts);
    expect(out.map((o) => (o.ok ? o.value.toString('utf8') : null))).toEqual(keys);
    for (const o of out) if (!o.ok) expect(o.message).toMatch(/RSA PKCS#1 v1.5 decryption failed/);
  });
});
