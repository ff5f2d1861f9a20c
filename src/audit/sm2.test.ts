import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  SM2_CURVE,
  SM2_DEFAULT_ID,
  Sm2Error,
  generateSm2PrivateKey,
  sm2PrivateKeyFromPkcs8,
  sm2PrivateKeyToPkcs8,
  sm2PublicKey,
  sm2PublicKeyFromSpki,
  sm2PublicKeyToSpki,
  sm2Sign,
  sm2SignatureFromDer,
  sm2SignatureToDer,
  sm2Verify,
  sm2Za,
} from './sm2.js';

const dir = mkdtempSync(join(tmpdir(), 'vigil-sm2-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const N = SM2_CURVE.n;
const hex32 = (x: bigint) => Buffer.from(x.toString(16).padStart(64, '0'), 'hex');
const big = (b: Uint8Array) => BigInt(`0x${Buffer.from(b).toString('hex')}`);
const pem = (der: Buffer, label: string) =>
  `-----BEGIN ${label}-----\n${der
    .toString('base64')
    .match(/.{1,64}/g)!
    .join('\n')}\n-----END ${label}-----\n`;

let fileNo = 0;
function file(content: Uint8Array | string): string {
  const path = join(dir, `f${fileNo++}`);
  writeFileSync(path, content);
  return path;
}

function openssl(args: string[]): Buffer {
  return execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** `openssl pkeyutl -verify` with real SM2 (SM3 digest over Z_A ‖ M); false only on a failed verification. */
function opensslVerify(
  msg: Buffer,
  derSig: Buffer,
  spki: Buffer,
  distid: string | null = '1234567812345678',
) {
  const args = ['pkeyutl', '-verify', '-pubin', '-inkey', file(pem(spki, 'PUBLIC KEY')), '-rawin'];
  args.push('-digest', 'sm3', '-in', file(msg), '-sigfile', file(derSig));
  if (distid !== null) args.push('-pkeyopt', `distid:${distid}`);
  try {
    return openssl(args).toString().includes('Signature Verified Successfully');
  } catch (err) {
    const out = String((err as { stdout?: Buffer }).stdout ?? '');
    if (out.includes('Signature Verification Failure')) return false;
    throw err; // a bad flag or key must not pass as "verification failed"
  }
}

/** `openssl pkeyutl -sign` with real SM2 and the GB/T default distinguishing ID; returns DER. */
function opensslSign(msg: Buffer, keyPem: string, distid: string | null = '1234567812345678'): Buffer {
  const out = join(dir, `sig${fileNo++}`);
  const args = ['pkeyutl', '-sign', '-inkey', file(keyPem), '-rawin', '-digest', 'sm3', '-in', file(msg)];
  args.push('-out', out);
  if (distid !== null) args.push('-pkeyopt', `distid:${distid}`);
  openssl(args);
  return readFileSync(out);
}

function opensslKey(): { keyPem: string; pkcs8: Buffer; spki: Buffer } {
  const keyPem = openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:SM2']).toString();
  // `pkey -outform DER` writes SEC1 for EC keys in 3.0; PKCS#8 is what the keyring stores.
  const pkcs8 = openssl(['pkcs8', '-topk8', '-nocrypt', '-in', file(keyPem), '-outform', 'DER']);
  const spki = openssl(['pkey', '-in', file(keyPem), '-pubout', '-outform', 'DER']);
  return { keyPem, pkcs8, spki };
}

const messages = [
  Buffer.alloc(0),
  Buffer.from('vigil/audit\n42\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n'),
  Buffer.from('企业微信会话存档 — 国密 SM2/SM3', 'utf8'),
  Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7) & 0xff)),
];

describe('SM2 (GB/T 32918.2) interoperability with OpenSSL 3', () => {
  it('reads OpenSSL keys, derives the same public key and re-encodes PKCS#8 byte for byte', () => {
    expect(openssl(['version']).toString()).toMatch(/^OpenSSL 3\./);
    for (let i = 0; i < 3; i++) {
      const { pkcs8, spki } = opensslKey();
      const d = sm2PrivateKeyFromPkcs8(pkcs8);
      expect(sm2PublicKey(d)).toEqual(sm2PublicKeyFromSpki(spki));
      expect(sm2PublicKeyToSpki(sm2PublicKey(d))).toEqual(spki);
      expect(sm2PrivateKeyToPkcs8(d)).toEqual(pkcs8);
    }
  });

  it('signs; OpenSSL verifies with distid 1234567812345678 and refuses other IDs', () => {
    const { pkcs8, spki } = opensslKey();
    const d = sm2PrivateKeyFromPkcs8(pkcs8);
    for (const msg of messages) {
      const sig = sm2Sign(msg, d);
      expect(sig).toHaveLength(64);
      expect(opensslVerify(msg, sm2SignatureToDer(sig), spki)).toBe(true);
      // The Z_A with the ID is part of what is signed: OpenSSL's default (empty) ID fails.
      expect(opensslVerify(msg, sm2SignatureToDer(sig), spki, null)).toBe(false);
      expect(opensslVerify(msg, sm2SignatureToDer(sig), spki, '1234567812345679')).toBe(false);
    }
    // A key generated here, handed to OpenSSL as PKCS#8, works the same way.
    const mine = generateSm2PrivateKey();
    const msg = messages[1]!;
    const spkiMine = sm2PublicKeyToSpki(sm2PublicKey(mine));
    expect(opensslVerify(msg, sm2SignatureToDer(sm2Sign(msg, mine)), spkiMine)).toBe(true);
    const fromOpenssl = opensslSign(msg, pem(sm2PrivateKeyToPkcs8(mine), 'PRIVATE KEY'));
    expect(sm2Verify(msg, sm2SignatureFromDer(fromOpenssl), sm2PublicKey(mine))).toBe(true);
  });

  it('verifies OpenSSL signatures, and only with the ID they were made with', () => {
    const { keyPem, spki } = opensslKey();
    const pub = sm2PublicKeyFromSpki(spki);
    for (const msg of messages) {
      const sig = sm2SignatureFromDer(opensslSign(msg, keyPem));
      expect(sm2Verify(msg, sig, pub)).toBe(true);
      expect(sm2Verify(msg, sig, pub, { id: Buffer.alloc(0) })).toBe(false);
      const emptyId = sm2SignatureFromDer(opensslSign(msg, keyPem, null));
      expect(sm2Verify(msg, emptyId, pub)).toBe(false);
      expect(sm2Verify(msg, emptyId, pub, { id: Buffer.alloc(0) })).toBe(true);
    }
  });

  it('verifies a fixed OpenSSL 3.0 signature (known answer, no OpenSSL needed)', () => {
    const d = Buffer.from('7334ab889b2eb1506871949048cace86b7d7d9c5e795b79bfb4f9ec9f0a68779', 'hex');
    const pub = Buffer.from(
      '048a02dd8768f9ca15804e58b3a0f912ad7191280e701ef937f4cb43adc2c6a34d' +
        '9c8faa8bd6b0f59374790f3c605852db4263a45d1d6cb7eecc56a958feb03d11',
      'hex',
    );
    const msg = Buffer.from('vigil SM2 known answer');
    const der = Buffer.from(
      '3046022100a02e25bd27a9a45dacefba147483db02c5d54fb37224a788e52ae8d9a28526cd' +
        '022100c5db110c65376a212044ecb49cfcdae9eefca0da7619dfae0aee0d5206e854c6',
      'hex',
    );
    expect(sm2PublicKey(d)).toEqual(pub);
    expect(sm2Verify(msg, sm2SignatureFromDer(der), pub)).toBe(true);
    expect(sm2Verify(Buffer.from('vigil SM2 known answeR'), sm2SignatureFromDer(der), pub)).toBe(false);
  });

  it('is SM2, not ECDSA on the SM2 curve (what crypto.sign does with an "ec" SM2 key)', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'SM2' });
    expect(privateKey.asymmetricKeyType).toBe('ec');
    const msg = messages[1]!;
    const ecdsa = sm2SignatureFromDer(nodeSign('sm3', msg, privateKey));
    const pub = sm2PublicKeyFromSpki(publicKey.export({ type: 'spki', format: 'der' }));
    expect(sm2Verify(msg, ecdsa, pub)).toBe(false);
    expect(sm2Verify(msg, ecdsa, pub, { id: Buffer.alloc(0) })).toBe(false);
    // Node's SM2-typed key (PKCS#8 re-import) is real SM2 with an empty ID: it agrees with us.
    const d = generateSm2PrivateKey();
    const sm2Key = createPrivateKey({ key: sm2PrivateKeyToPkcs8(d), format: 'der', type: 'pkcs8' });
    const native = sm2SignatureFromDer(nodeSign('sm3', msg, sm2Key));
    expect(sm2Verify(msg, native, sm2PublicKey(d), { id: Buffer.alloc(0) })).toBe(true);
    expect(sm2Verify(msg, native, sm2PublicKey(d))).toBe(false);
    expect(createPublicKey(sm2Key).export({ type: 'spki', format: 'der' })).toEqual(
      sm2PublicKeyToSpki(sm2PublicKey(d)),
    );
  });
});

describe('SM2 signatures fail when anything changes', () => {
  const d = generateSm2PrivateKey();
  const pub = sm2PublicKey(d);
  const msg = Buffer.from('vigil/audit\n7\nabc=\n');
  const sig = sm2Sign(msg, d);

  it('round-trips with a random k (two signatures differ, both verify)', () => {
    const again = sm2Sign(msg, d, { publicKey: pub });
    expect(again.equals(sig)).toBe(false);
    expect(sm2Verify(msg, sig, pub)).toBe(true);
    expect(sm2Verify(msg, again, pub)).toBe(true);
  });

  it('for a tampered message, signature, key or ID', () => {
    for (let i = 0; i < msg.length * 8; i += 13) {
      const m = Buffer.from(msg);
      m[i >> 3]! ^= 1 << (i & 7);
      expect(sm2Verify(m, sig, pub)).toBe(false);
    }
    for (let i = 0; i < 512; i += 17) {
      const s = Buffer.from(sig);
      s[i >> 3]! ^= 1 << (i & 7);
      expect(sm2Verify(msg, s, pub)).toBe(false);
    }
    expect(sm2Verify(msg, sig, sm2PublicKey(generateSm2PrivateKey()))).toBe(false);
    expect(sm2Verify(msg, sig, pub, { id: Buffer.from('1234567812345679') })).toBe(false);
    expect(sm2Verify(msg, sig.subarray(0, 63), pub)).toBe(false);
    expect(sm2Verify(msg, Buffer.concat([sig, Buffer.from([0])]), pub)).toBe(false);
  });

  it('is not malleable: (r, n - s) and out-of-range r, s are rejected (GB/T 32918.2 §7.1 B1, B2, B5)', () => {
    const r = big(sig.subarray(0, 32));
    const s = big(sig.subarray(32));
    const make = (rr: bigint, ss: bigint) => Buffer.concat([hex32(rr), hex32(ss)]);
    expect(sm2Verify(msg, make(r, s), pub)).toBe(true);
    expect(sm2Verify(msg, make(r, N - s), pub)).toBe(false);
    expect(sm2Verify(msg, make(N - r, s), pub)).toBe(false);
    expect(sm2Verify(msg, make(r, 0n), pub)).toBe(false);
    expect(sm2Verify(msg, make(0n, s), pub)).toBe(false);
    expect(sm2Verify(msg, make(r, N + 1n), pub)).toBe(false);
    expect(sm2Verify(msg, make(N + 1n, s), pub)).toBe(false);
    expect(sm2Verify(msg, make(r, N), pub)).toBe(false);
    expect(sm2Verify(msg, make(N, s), pub)).toBe(false);
    expect(sm2Verify(msg, make(r, N - r), pub)).toBe(false); // t = r + s ≡ 0
    // OpenSSL agrees that the "other" s is not a signature.
    const spki = sm2PublicKeyToSpki(pub);
    expect(opensslVerify(msg, sm2SignatureToDer(make(r, s)), spki)).toBe(true);
    expect(opensslVerify(msg, sm2SignatureToDer(make(r, N - s)), spki)).toBe(false);
  });

  it('accepts only canonical DER', () => {
    const der = sm2SignatureToDer(sig);
    expect(sm2SignatureFromDer(der)).toEqual(sig);
    expect(() => sm2SignatureFromDer(Buffer.concat([der, Buffer.from([0])]))).toThrow(Sm2Error);
    // r with a superfluous leading zero byte
    const rInt = Buffer.concat([Buffer.from([0x02, 33, 0]), Buffer.from([0x01]), Buffer.alloc(31, 0x11)]);
    const sInt = Buffer.concat([Buffer.from([0x02, 1, 5])]);
    const body = Buffer.concat([rInt, sInt]);
    expect(() => sm2SignatureFromDer(Buffer.concat([Buffer.from([0x30, body.length]), body]))).toThrow(
      /non-minimal/,
    );
    // negative s
    const neg = Buffer.concat([Buffer.from([0x02, 1, 1, 0x02, 1, 0x85])]);
    expect(() => sm2SignatureFromDer(Buffer.concat([Buffer.from([0x30, neg.length]), neg]))).toThrow(
      /negative/,
    );
    // long-form length where short form fits
    const longForm = Buffer.concat([Buffer.from([0x30, 0x81, der.length - 2]), der.subarray(2)]);
    expect(() => sm2SignatureFromDer(longForm)).toThrow(/non-minimal DER length/);
    // small r and s encode shortly and decode to 32-byte big-endian values
    const small = Buffer.concat([hex32(1n), hex32(0x80n)]);
    expect(sm2SignatureToDer(small).toString('hex')).toBe('3007020101020200' + '80');
    expect(sm2SignatureFromDer(sm2SignatureToDer(small))).toEqual(small);
  });

  it('rejects bad keys', () => {
    expect(() => sm2PublicKey(hex32(0n))).toThrow(Sm2Error);
    expect(() => sm2PublicKey(hex32(N - 1n))).toThrow(/\[1, n-2\]/);
    expect(() => sm2PublicKey(hex32(N))).toThrow(Sm2Error);
    expect(sm2PublicKey(hex32(1n))).toEqual(
      Buffer.concat([Buffer.from([4]), hex32(SM2_CURVE.gx), hex32(SM2_CURVE.gy)]),
    );
    const offCurve = Buffer.from(pub);
    offCurve[64]! ^= 1;
    expect(() => sm2Verify(msg, sig, offCurve)).toThrow(/not a point/);
    expect(() => sm2Verify(msg, sig, pub.subarray(1))).toThrow(Sm2Error);
    const pkcs8 = sm2PrivateKeyToPkcs8(d);
    const wrongPub = Buffer.from(pkcs8);
    wrongPub[wrongPub.length - 1]! ^= 1;
    expect(() => sm2PrivateKeyFromPkcs8(wrongPub)).toThrow(/does not match/);
    const ed = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'der' });
    expect(() => sm2PrivateKeyFromPkcs8(ed)).toThrow(Sm2Error);
  });

  it('computes Z_A over ENTL ‖ ID ‖ a ‖ b ‖ G ‖ P with SM3', () => {
    expect(SM2_DEFAULT_ID.toString()).toBe('1234567812345678');
    const za = sm2Za(pub);
    expect(za).toHaveLength(32);
    expect(sm2Za(pub, Buffer.alloc(0)).equals(za)).toBe(false);
  });
});
