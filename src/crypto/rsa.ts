/**
 * RSA PKCS#1 v1.5 decryption for WeCom's `encrypt_random_key`.
 *
 * Node 20 refuses `privateDecrypt` with RSA_PKCS1_PADDING (CVE-2023-46809, Marvin) unless the
 * whole process runs with `--security-revert`, so we do raw RSA (RSA_NO_PADDING) and check the
 * `00 02 PS 00 M` encoding here, branch-free over the whole block so the time taken does not
 * depend on where (or whether) the padding is wrong. JS gives no hard constant-time guarantee;
 * the residual oracle is acceptable because the ciphertexts arrive from WeCom over an
 * authenticated channel (see README threat-model notes).
 */
import { constants, createPrivateKey, KeyObject, privateDecrypt } from 'node:crypto';
import { DecryptionError } from './errors.js';

const MESSAGE =
  'RSA PKCS#1 v1.5 decryption failed: wrong private key (publickey_ver) or corrupted ciphertext';

/** Decrypts a PKCS#1 v1.5 (type 2) RSA ciphertext. Throws DecryptionError on any failure. */
export function rsaPkcs1v15Decrypt(privateKey: string | Buffer | KeyObject, ciphertext: Uint8Array): Buffer {
  let key: KeyObject;
  try {
    key = privateKey instanceof KeyObject ? privateKey : createPrivateKey(privateKey);
  } catch (cause) {
    throw new DecryptionError({ cause, message: 'RSA private key could not be parsed' });
  }
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (key.asymmetricKeyType !== 'rsa' || !bits)
    throw new DecryptionError({ message: 'not an RSA private key' });
  const k = Math.ceil(bits / 8);
  // RFC 8017 §7.2.2 step 1: the ciphertext must be exactly k bytes; k >= 11 for PKCS#1 v1.5.
  if (ciphertext.length !== k || k < 11) throw new DecryptionError({ message: MESSAGE });
  let em: Buffer;
  try {
    em = privateDecrypt({ key, padding: constants.RSA_NO_PADDING }, ciphertext);
  } catch (cause) {
    throw new DecryptionError({ cause, message: MESSAGE }); // e.g. ciphertext >= modulus
  }
  const m = unpadPkcs1Type2(em);
  em.fill(0);
  if (!m) throw new DecryptionError({ message: MESSAGE });
  return m;
}

/**
 * Checks and strips `00 02 PS 00 M` (|PS| >= 8, PS bytes non-zero). Returns undefined when
 * malformed. Scans every byte with masks instead of early exits.
 */
export function unpadPkcs1Type2(em: Uint8Array): Buffer | undefined {
  const k = em.length;
  // good = 0xff while valid; each check ANDs in a mask.
  let good = ctEq(em[0] ?? 1, 0) & ctEq(em[1] ?? 0, 2);
  let zeroIndex = 0; // index of the first 0x00 after the header, 0 while not found
  let lookingMask = 0xff; // 0xff until the separator is found
  for (let i = 2; i < k; i++) {
    const isZero = ctEq(em[i]!, 0);
    zeroIndex |= i & -((isZero & lookingMask) >>> 7); // 0xff -> all ones, 0 -> 0, without a branch
    lookingMask &= ~isZero & 0xff;
  }
  // separator found, and PS (bytes 2..zeroIndex-1) at least 8 long
  good &= ~lookingMask & 0xff;
  good &= ctGe(zeroIndex, 10);
  if (good !== 0xff) return undefined;
  return Buffer.from(em.subarray(zeroIndex + 1));
}

// 0xff if a === b else 0 (a, b bytes).
function ctEq(a: number, b: number): number {
  const x = (a ^ b) & 0xff;
  return ((x - 1) >>> 8) & 0xff;
}

// 0xff if a >= b else 0 (non-negative ints < 2^30).
function ctGe(a: number, b: number): number {
  return ((((a - b) >> 31) & 1) - 1) & 0xff;
}
