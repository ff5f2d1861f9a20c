import { describe, expect, it } from 'vitest';
import {
  computeSignature,
  generateEncodingAesKey,
  WXBizMsgCrypt,
  WXBizMsgCryptError,
  xmlField,
} from './callback-crypto.js';

// The official sample vector from WeCom's WXBizMsgCrypt documentation (URL verification).
const TOKEN = 'QDG6eK';
const AES_KEY = 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C';
const CORP_ID = 'wx5823bf96d3bd56c7';

function codeOf(fn: () => unknown): number | null {
  try {
    fn();
    return null;
  } catch (e) {
    return e instanceof WXBizMsgCryptError ? e.code : NaN;
  }
}

describe('WXBizMsgCrypt', () => {
  const crypt = new WXBizMsgCrypt(TOKEN, AES_KEY, CORP_ID);

  it('verifies the official URL-verification sample', () => {
    const echostr =
      'P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==';
    const sig = '5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3';
    expect(computeSignature(TOKEN, '1409659589', '263014780', echostr)).toBe(sig);
    expect(crypt.verifyUrl(sig, '1409659589', '263014780', echostr)).toBe('1616140317555161061');
  });

  it('round-trips a message through encryptMsg / decryptMsg, including Chinese text', () => {
    const inner =
      '<xml><Event><![CDATA[msgaudit_notify]]></Event><Content><![CDATA[新消息]]></Content></xml>';
    const xml = crypt.encryptMsg(inner, '1700000000', 'nonce123');
    const sig = xmlField(xml, 'MsgSignature')!;
    expect(crypt.decryptMsg(sig, '1700000000', 'nonce123', xml)).toBe(inner);
  });

  it('pads to a 32-byte block', () => {
    for (const len of [0, 1, 11, 12, 31, 32, 100]) {
      const enc = crypt.encrypt('x'.repeat(len));
      expect(Buffer.from(enc, 'base64').length % 32).toBe(0);
      expect(crypt.decrypt(enc)).toBe('x'.repeat(len));
    }
  });

  it('rejects a tampered signature, ciphertext, corp id and key', () => {
    const enc = crypt.encrypt('hello');
    const sig = computeSignature(TOKEN, '1', 'n', enc);
    expect(codeOf(() => crypt.verifyUrl(sig.replace(/^./, sig[0] === 'a' ? 'b' : 'a'), '1', 'n', enc))).toBe(
      -40001,
    );
    expect(codeOf(() => crypt.verifyUrl(sig, '2', 'n', enc))).toBe(-40001);
    const bytes = Buffer.from(enc, 'base64');
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0x55;
    const tampered = bytes.toString('base64');
    expect([-40007, -40008, -40005]).toContain(codeOf(() => crypt.decrypt(tampered)));
    expect(codeOf(() => crypt.decrypt('not base64!'))).toBe(-40010);
    const other = new WXBizMsgCrypt(TOKEN, AES_KEY, 'wwOtherCorp');
    expect(codeOf(() => other.decrypt(enc))).toBe(-40005);
    expect(codeOf(() => new WXBizMsgCrypt(TOKEN, 'short', CORP_ID))).toBe(-40004);
    expect(codeOf(() => crypt.decryptMsg(sig, '1', 'n', '<xml></xml>'))).toBe(-40002);
    const wrongKey = new WXBizMsgCrypt(TOKEN, generateEncodingAesKey(), CORP_ID);
    expect([-40007, -40008, -40005]).toContain(codeOf(() => wrongKey.decrypt(enc)));
  });

  it('generates valid EncodingAESKeys', () => {
    const k = generateEncodingAesKey();
    expect(k).toHaveLength(43);
    expect(new WXBizMsgCrypt('t', k, 'c').decrypt(new WXBizMsgCrypt('t', k, 'c').encrypt('ok'))).toBe('ok');
  });
});
