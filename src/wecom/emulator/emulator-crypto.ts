/**
 * The emulator's own message encryption. Tencent's real DecryptData algorithm is sealed inside
 * libWeWorkFinanceSdk_C.so, so the emulator documents and uses this scheme instead (the stand-in
 * C library and HttpEmulatorFinanceSdk implement the decrypt side):
 *
 *   encrypt_random_key = base64(RSA-PKCS#1-v1.5-encrypt(publicKey[publickey_ver], randomKey))
 *   encrypt_chat_msg   = base64(AES-256-CBC(key = SHA-256(randomKey), iv = key[0..16), PKCS#7, plaintext UTF-8))
 *
 * randomKey is a 32-character alphanumeric string. Only the RSA layer matches the real protocol.
 */
import {
  constants,
  createCipheriv,
  createDecipheriv,
  createHash,
  createPrivateKey,
  createPublicKey,
  privateDecrypt,
  publicEncrypt,
  type KeyObject,
} from 'node:crypto';

function keyIv(randomKey: string): { key: Buffer; iv: Buffer } {
  const key = createHash('sha256').update(randomKey, 'utf8').digest();
  return { key, iv: key.subarray(0, 16) };
}

/** Encrypts a message plaintext with the emulator scheme; returns base64. */
export function encryptChatMsg(randomKey: string, plaintext: string): string {
  const { key, iv } = keyIv(randomKey);
  const c = createCipheriv('aes-256-cbc', key, iv);
  return Buffer.concat([c.update(plaintext, 'utf8'), c.final()]).toString('base64');
}

/** Decrypts `encrypt_chat_msg` with the emulator scheme. Throws on bad padding. */
export function decryptChatMsg(randomKey: string, encryptChatMsg: string): string {
  const { key, iv } = keyIv(randomKey);
  const d = createDecipheriv('aes-256-cbc', key, iv);
  return Buffer.concat([d.update(Buffer.from(encryptChatMsg, 'base64')), d.final()]).toString('utf8');
}

/** RSA PKCS#1 v1.5 encryption of the random key (public-key side; Node 20 still allows it). */
export function encryptRandomKey(publicKey: KeyObject | string, randomKey: string): string {
  const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
  return publicEncrypt(
    { key, padding: constants.RSA_PKCS1_PADDING },
    Buffer.from(randomKey, 'utf8'),
  ).toString('base64');
}

/**
 * RSA PKCS#1 v1.5 decryption without Node's refused RSA_PKCS1_PADDING private path: raw RSA,
 * then the `00 02 PS 00 M` padding is checked and stripped here (protocol reference §2.2).
 * For tests and the demo; production decryption belongs to the crypto module (HSM or key store).
 */
export function decryptRandomKey(privateKey: KeyObject | string, encryptRandomKeyB64: string): string {
  const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
  const raw = privateDecrypt(
    { key, padding: constants.RSA_NO_PADDING },
    Buffer.from(encryptRandomKeyB64, 'base64'),
  );
  if (raw.length < 11 || raw[0] !== 0x00 || raw[1] !== 0x02) throw new Error('RSA PKCS#1 v1.5: bad padding');
  const sep = raw.indexOf(0x00, 2);
  if (sep < 10) throw new Error('RSA PKCS#1 v1.5: bad padding');
  return raw.subarray(sep + 1).toString('utf8');
}
