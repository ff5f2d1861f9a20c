import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  aeadOpen,
  aeadSeal,
  decrypt,
  decryptWithKey,
  encrypt,
  generateKey,
  parseHeader,
  recordAad,
  type AeadAlg,
} from './cipher.js';
import { DecryptionError } from './errors.js';

const h = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('SM4-GCM RFC 8998 Appendix A.1', () => {
  const key = h('0123456789ABCDEFFEDCBA9876543210');
  const iv = h('00001234567800000000ABCD');
  const aad = h('FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2');
  const pt = h(`AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB CCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD
                EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFF EEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA`);
  const ct = h(`17F399F08C67D5EE19D0DC9969C4BB7D 5FD46FD3756489069157B282BB200735
                D82710CA5C22F0CCFA7CBF93D496AC15 A56834CBCF98C397B4024A2691233B8D`);
  const tag = h('83DE3541E4C2B58177E065A9BF7B62EC');

  it('encrypts to the published ciphertext and tag', () => {
    expect(aeadSeal('SM4GCM', key, iv, pt, aad).toString('hex')).toBe(
      Buffer.concat([ct, tag]).toString('hex'),
    );
  });
  it('decrypts the published vector and rejects a changed AAD or tag', () => {
    expect(aeadOpen('SM4GCM', key, iv, Buffer.concat([ct, tag]), aad)).toEqual(pt);
    expect(() => aeadOpen('SM4GCM', key, iv, Buffer.concat([ct, tag]), Buffer.from('x'))).toThrow(
      DecryptionError,
    );
    const badTag = Buffer.from(tag);
    badTag[15]! ^= 1;
    expect(() => aeadOpen('SM4GCM', key, iv, Buffer.concat([ct, badTag]), aad)).toThrow(DecryptionError);
  });
});

describe('AES-256-GCM', () => {
  // NIST GCM test case 14 (256-bit zero key, zero IV, one zero block).
  it('matches NIST test case 14', () => {
    const out = aeadSeal('A256GCM', Buffer.alloc(32), Buffer.alloc(12), Buffer.alloc(16), Buffer.alloc(0));
    expect(out.toString('hex')).toBe('cea7403d4d606b6e074ec5d3baf39d18' + 'd0d1c8a799996bf0265b98b5d48ab919');
  });
});

const algs: AeadAlg[] = ['A256GCM', 'SM4GCM'];

describe.each(algs)('self-describing format with %s', (alg) => {
  const key = generateKey(alg);
  const id = { corpId: 'ww0001', table: 'message', rowId: 42n, field: 'content' };
  const aad = recordAad(id);
  const pt = Buffer.from('回扣的事别在群里说 — rebate 10%', 'utf8');

  it('round-trips and exposes alg and key id in the header', async () => {
    const blob = encrypt({ alg, keyId: 'ww0001:2024-05:standard', key, plaintext: pt, aad });
    expect(parseHeader(blob)).toMatchObject({ version: 1, alg, keyId: 'ww0001:2024-05:standard' });
    expect(await decrypt(blob, aad, () => key)).toEqual(pt);
  });

  it('uses a fresh nonce each time', () => {
    const a = encrypt({ alg, keyId: 'k', key, plaintext: pt, aad });
    const b = encrypt({ alg, keyId: 'k', key, plaintext: pt, aad });
    expect(a.equals(b)).toBe(false);
  });

  it('round-trips empty plaintext', async () => {
    const blob = encrypt({ alg, keyId: 'k', key, plaintext: Buffer.alloc(0), aad });
    expect((await decrypt(blob, aad, () => key)).length).toBe(0);
  });

  it('fails with one DecryptionError when moved to another row, field or corp', async () => {
    const blob = encrypt({ alg, keyId: 'k', key, plaintext: pt, aad });
    for (const other of [
      { ...id, rowId: 43n },
      { ...id, field: 'title' },
      { ...id, corpId: 'ww0002' },
      { ...id, table: 'media' },
    ]) {
      const err = await decrypt(blob, recordAad(other), () => key).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DecryptionError);
      expect((err as DecryptionError).message).toBe('authentication failed: ciphertext altered or moved');
      expect((err as DecryptionError).retryable).toBe(false);
    }
  });

  it('fails on every single-bit flip and on truncation, never returning plaintext', () => {
    const blob = encrypt({ alg, keyId: 'k1', key, plaintext: Buffer.from('short'), aad });
    for (let i = 0; i < blob.length; i++) {
      for (const bit of [0, 7]) {
        const t = Buffer.from(blob);
        t[i]! ^= 1 << bit;
        expect(() => decryptWithKey(t, aad, parseHeader(t), key), `byte ${i} bit ${bit}`).toThrow(
          DecryptionError,
        );
      }
    }
    for (let n = 0; n < blob.length; n++) {
      const t = blob.subarray(0, n);
      expect(() => decryptWithKey(t, aad, parseHeader(t), key)).toThrow(DecryptionError);
    }
  });

  it('fails with a wrong key', async () => {
    const blob = encrypt({ alg, keyId: 'k', key, plaintext: pt, aad });
    await expect(decrypt(blob, aad, () => generateKey(alg))).rejects.toThrow(DecryptionError);
  });
});

describe('format binding', () => {
  it('rejects an alg byte swapped to the other cipher even with a key of the right length', () => {
    const key = randomBytes(32);
    const blob = encrypt({
      alg: 'A256GCM',
      keyId: 'k',
      key,
      plaintext: Buffer.from('x'),
      aad: Buffer.alloc(0),
    });
    const t = Buffer.from(blob);
    t[1] = 2; // claim SM4GCM
    expect(() => decryptWithKey(t, Buffer.alloc(0), parseHeader(t), key.subarray(0, 16))).toThrow(
      DecryptionError,
    );
  });

  it('recordAad is injective across separator characters', () => {
    const a = recordAad({ corpId: 'a|b', table: 'c', rowId: '1', field: 'f' });
    const b = recordAad({ corpId: 'a', table: 'b|c', rowId: '1', field: 'f' });
    expect(a.equals(b)).toBe(false);
  });
});
