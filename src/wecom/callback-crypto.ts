/**
 * WeCom callback crypto (WXBizMsgCrypt, doc 91144): AES-256-CBC with IV = key[0..16) and PKCS#7
 * padding to a 32-byte block, plaintext = 16 random bytes ‖ uint32be length ‖ msg ‖ receiveId,
 * and msg_signature = sha1 of the sorted concatenation of token, timestamp, nonce and ciphertext.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** WXBizMsgCrypt error codes, as in the official samples. */
export const WXBizMsgCryptErrorCode = {
  ValidateSignatureError: -40001,
  ParseXmlError: -40002,
  ComputeSignatureError: -40003,
  IllegalAesKey: -40004,
  ValidateCorpidError: -40005,
  EncryptAESError: -40006,
  DecryptAESError: -40007,
  IllegalBuffer: -40008,
  EncodeBase64Error: -40009,
  DecodeBase64Error: -40010,
  GenReturnXmlError: -40011,
} as const;

/** A WXBizMsgCrypt failure carrying the official negative error code. */
export class WXBizMsgCryptError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'WXBizMsgCryptError';
  }
}

const BLOCK = 32;

/** msg_signature: sha1 hex over the lexicographically sorted parts. */
export function computeSignature(token: string, timestamp: string, nonce: string, encrypted: string): string {
  try {
    return createHash('sha1').update([token, timestamp, nonce, encrypted].sort().join('')).digest('hex');
  } catch (e) {
    throw new WXBizMsgCryptError(WXBizMsgCryptErrorCode.ComputeSignatureError, (e as Error).message);
  }
}

function safeEqualHex(a: string, b: string): boolean {
  const ba = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  return ba.length === bb.length && timingSafeEqual(ba, bb);
}

/** Extracts `<Tag><![CDATA[value]]></Tag>` or `<Tag>value</Tag>` from a flat WeCom XML document. */
export function xmlField(xml: string, tag: string): string | null {
  const re = new RegExp(`<${tag}>\\s*(?:<!\\[CDATA\\[([\\s\\S]*?)\\]\\]>|([^<]*))\\s*</${tag}>`);
  const m = re.exec(xml);
  if (!m) return null;
  return m[1] ?? m[2] ?? '';
}

function cdata(v: string): string {
  return `<![CDATA[${v.replaceAll(']]>', ']]]]><![CDATA[>')}]]>`;
}

/** Encrypt/decrypt and sign WeCom callback messages for one app (token, EncodingAESKey, receiveId). */
export class WXBizMsgCrypt {
  private readonly key: Buffer;
  private readonly iv: Buffer;

  constructor(
    private readonly token: string,
    encodingAesKey: string,
    private readonly receiveId: string,
  ) {
    if (encodingAesKey.length !== 43 || !/^[A-Za-z0-9+/]+$/.test(encodingAesKey)) {
      throw new WXBizMsgCryptError(
        WXBizMsgCryptErrorCode.IllegalAesKey,
        'EncodingAESKey must be 43 base64 characters',
      );
    }
    this.key = Buffer.from(`${encodingAesKey}=`, 'base64');
    if (this.key.length !== 32) {
      throw new WXBizMsgCryptError(
        WXBizMsgCryptErrorCode.IllegalAesKey,
        'EncodingAESKey does not decode to 32 bytes',
      );
    }
    this.iv = this.key.subarray(0, 16);
  }

  /** Encrypts a plaintext message; returns base64 ciphertext (the `Encrypt` field). */
  encrypt(plaintext: string, random: Buffer = randomBytes(16)): string {
    try {
      const msg = Buffer.from(plaintext, 'utf8');
      const len = Buffer.alloc(4);
      len.writeUInt32BE(msg.length);
      const body = Buffer.concat([random.subarray(0, 16), len, msg, Buffer.from(this.receiveId, 'utf8')]);
      const pad = BLOCK - (body.length % BLOCK);
      const padded = Buffer.concat([body, Buffer.alloc(pad, pad)]);
      const c = createCipheriv('aes-256-cbc', this.key, this.iv).setAutoPadding(false);
      return Buffer.concat([c.update(padded), c.final()]).toString('base64');
    } catch (e) {
      throw new WXBizMsgCryptError(WXBizMsgCryptErrorCode.EncryptAESError, (e as Error).message);
    }
  }

  /** Decrypts an `Encrypt` field and checks the receiveId; returns the message text. */
  decrypt(encrypted: string): string {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(encrypted) || encrypted.length % 4 !== 0) {
      throw new WXBizMsgCryptError(WXBizMsgCryptErrorCode.DecodeBase64Error, 'ciphertext is not base64');
    }
    const data = Buffer.from(encrypted, 'base64');
    let plain: Buffer;
    try {
      const d = createDecipheriv('aes-256-cbc', this.key, this.iv).setAutoPadding(false);
      plain = Buffer.concat([d.update(data), d.final()]);
    } catch (e) {
      throw new WXBizMsgCryptError(WXBizMsgCryptErrorCode.DecryptAESError, (e as Error).message);
    }
    const pad = plain[plain.length - 1] ?? 0;
    if (pad < 1 || pad > BLOCK || pad > plain.length) {
      throw new WXBizMsgCryptError(WXBizMsgCryptErrorCode.IllegalBuffer, 'bad padding');
    }
    const body = plain.subarray(0, plain.length - pad);
    if (body.length < 20)
      throw new WXBizMsgCryptError(WXBizMsgCryptErrorCode.IllegalBuffer, 'plaintext too short');
    const len = body.readUInt32BE(16);
    if (20 + len > body.length)
      throw new WXBizMsgCryptError(WXBizMsgCryptErrorCode.IllegalBuffer, 'bad length');
    const msg = body.subarray(20, 20 + len).toString('utf8');
    const receiveId = body.subarray(20 + len).toString('utf8');
    if (receiveId !== this.receiveId) {
      throw new WXBizMsgCryptError(WXBizMsgCryptErrorCode.ValidateCorpidError, 'receiveId mismatch');
    }
    return msg;
  }

  /** Verifies msg_signature over `encrypted`; throws -40001 when it does not match. */
  verifySignature(msgSignature: string, timestamp: string, nonce: string, encrypted: string): void {
    const expected = computeSignature(this.token, timestamp, nonce, encrypted);
    if (!safeEqualHex(expected, msgSignature.toLowerCase())) {
      throw new WXBizMsgCryptError(WXBizMsgCryptErrorCode.ValidateSignatureError, 'signature mismatch');
    }
  }

  /** URL verification (GET with echostr): returns the plaintext to echo back. */
  verifyUrl(msgSignature: string, timestamp: string, nonce: string, echostr: string): string {
    this.verifySignature(msgSignature, timestamp, nonce, echostr);
    return this.decrypt(echostr);
  }

  /** Decrypts a callback POST body (XML with an Encrypt field); returns the inner plaintext XML. */
  decryptMsg(msgSignature: string, timestamp: string, nonce: string, postData: string): string {
    const encrypted = xmlField(postData, 'Encrypt');
    if (encrypted === null)
      throw new WXBizMsgCryptError(WXBizMsgCryptErrorCode.ParseXmlError, 'no Encrypt field');
    this.verifySignature(msgSignature, timestamp, nonce, encrypted);
    return this.decrypt(encrypted);
  }

  /** Encrypts a reply (or an outgoing event) into the signed XML envelope. */
  encryptMsg(replyMsg: string, timestamp: string, nonce: string): string {
    const encrypted = this.encrypt(replyMsg);
    const signature = computeSignature(this.token, timestamp, nonce, encrypted);
    try {
      return (
        `<xml><Encrypt>${cdata(encrypted)}</Encrypt><MsgSignature>${cdata(signature)}</MsgSignature>` +
        `<TimeStamp>${timestamp}</TimeStamp><Nonce>${cdata(nonce)}</Nonce></xml>`
      );
    } catch (e) {
      throw new WXBizMsgCryptError(WXBizMsgCryptErrorCode.GenReturnXmlError, (e as Error).message);
    }
  }
}

/** Creates a random 43-character EncodingAESKey. */
export function generateEncodingAesKey(): string {
  return randomBytes(32).toString('base64').slice(0, 43);
}
