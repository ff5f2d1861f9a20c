import {
  constants,
  generateKeyPairSync,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  randomInt,
} from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DecryptionError } from './errors.js';
import { rsaPkcs1v15Decrypt, unpadPkcs1Type2 } from './rsa.js';

const { privateKey, publicKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, // WeCom uploads "BEGIN RSA PRIVATE KEY"
  publicKeyEncoding: { type: 'spki', format: 'pem' },
});

/** Builds a raw (unpadded) RSA input block so we can test malformed encodings. */
function rawEncrypt(em: Buffer): Buffer {
  return publicEncrypt({ key: publicKey, padding: constants.RSA_NO_PADDING }, em);
}

function validEm(m: Buffer, psLen = 256 - 3 - m.length): Buffer {
  const ps = Buffer.alloc(psLen);
  for (let i = 0; i < psLen; i++) ps[i] = 1 + randomInt(255);
  return Buffer.concat([Buffer.from([0, 2]), ps, Buffer.from([0]), m]);
}

describe('rsaPkcs1v15Decrypt', () => {
  it('round-trips Node publicEncrypt(RSA_PKCS1_PADDING) on 300 random messages of random length', () => {
    for (let i = 0; i < 300; i++) {
      const m = randomBytes(randomInt(0, 246)); // 245 = k - 11 is the maximum
      const c = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, m);
      expect(rsaPkcs1v15Decrypt(privateKey, c)).toEqual(m);
    }
  });

  it('decrypts an 88-character WeCom-style random key', () => {
    const m = Buffer.from(randomBytes(66).toString('base64'));
    const c = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, m);
    expect(rsaPkcs1v15Decrypt(privateKey, c).toString()).toBe(m.toString());
  });

  it('confirms Node itself refuses PKCS#1 v1.5 private decryption (why this module exists)', () => {
    const c = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, Buffer.from('x'));
    expect(() => privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_PADDING }, c)).toThrow();
  });

  it('accepts a hand-built minimum padding (PS of exactly 8 bytes)', () => {
    const m = randomBytes(256 - 11);
    expect(rsaPkcs1v15Decrypt(privateKey, rawEncrypt(validEm(m, 8)))).toEqual(m);
  });

  const malformed: Array<[string, () => Buffer]> = [
    [
      'first byte not 00',
      () => {
        const e = validEm(randomBytes(16));
        e[0] = 1;
        return e;
      },
    ],
    [
      'block type 01',
      () => {
        const e = validEm(randomBytes(16));
        e[1] = 1;
        return e;
      },
    ],
    [
      'block type 00',
      () => {
        const e = validEm(randomBytes(16));
        e[1] = 0;
        return e;
      },
    ],
    ['PS of 7 bytes', () => validEm(randomBytes(256 - 10), 7)],
    [
      'zero inside the first 8 PS bytes',
      () => {
        const e = validEm(randomBytes(16));
        e[5] = 0;
        return e;
      },
    ],
    [
      'no separator',
      () => {
        const e = validEm(Buffer.alloc(0), 253);
        e[255] = 7;
        return e;
      },
    ],
    ['all zero', () => Buffer.alloc(256)],
  ];
  for (const [name, make] of malformed) {
    it(`rejects malformed padding: ${name}`, () => {
      const em = make();
      expect(unpadPkcs1Type2(em)).toBeUndefined();
      expect(() => rsaPkcs1v15Decrypt(privateKey, rawEncrypt(em))).toThrow(DecryptionError);
    });
  }

  it('returns an empty message when the separator is the last byte', () => {
    const em = validEm(Buffer.alloc(0));
    expect(unpadPkcs1Type2(em)).toEqual(Buffer.alloc(0));
  });

  it('rejects wrong lengths, a wrong key and ciphertext >= modulus', () => {
    const c = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, Buffer.from('secret'));
    expect(() => rsaPkcs1v15Decrypt(privateKey, c.subarray(1))).toThrow(DecryptionError);
    expect(() => rsaPkcs1v15Decrypt(privateKey, Buffer.concat([c, Buffer.alloc(1)]))).toThrow(
      DecryptionError,
    );
    expect(() => rsaPkcs1v15Decrypt(privateKey, Buffer.alloc(256, 0xff))).toThrow(DecryptionError);
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    let failures = 0;
    for (let i = 0; i < 20; i++) {
      const ci = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, randomBytes(32));
      try {
        rsaPkcs1v15Decrypt(other, ci);
      } catch (e) {
        expect(e).toBeInstanceOf(DecryptionError);
        failures++;
      }
    }
    // A wrong key yields a well-formed block with probability ~2^-16 each; 20/20 failures is expected.
    expect(failures).toBeGreaterThanOrEqual(19);
  });

  it('rejects a non-RSA key', () => {
    const ec = generateKeyPairSync('ed25519').privateKey;
    expect(() => rsaPkcs1v15Decrypt(ec, Buffer.alloc(256))).toThrow(DecryptionError);
  });
});
