import { describe, expect, it } from 'vitest';
import { parseChatData, quoteSeqNumbers } from './chatdata.js';
import { mediaRefsOf, parseDecryptedMessage, stripControlChars } from './messages.js';
import { FinanceSdkError, isRetryableSdkCode } from './types.js';

describe('parseChatData', () => {
  it('keeps uint64 seqs exact', () => {
    const text =
      '{"errcode":0,"errmsg":"ok","chatdata":[{"seq":18446744073709551615,"msgid":"a","publickey_ver":3,"encrypt_random_key":"k","encrypt_chat_msg":"m"},{"seq" : 9007199254740993,"msgid":"b","publickey_ver":1,"encrypt_random_key":"k","encrypt_chat_msg":"m"}]}';
    const env = parseChatData(text);
    expect(env.chatdata.map((c) => c.seq)).toEqual([18446744073709551615n, 9007199254740993n]);
    expect(env.chatdata[0]).toMatchObject({ msgid: 'a', publickeyVer: 3 });
  });

  it('does not touch "seq" inside strings and tolerates a missing chatdata key', () => {
    expect(quoteSeqNumbers('{"errmsg":"\\"seq\\":5 is bad","seq":12}')).toBe(
      '{"errmsg":"\\"seq\\":5 is bad","seq":"12"}',
    );
    expect(parseChatData('{"errcode":0,"errmsg":"ok"}')).toEqual({
      errcode: 0,
      errmsg: 'ok',
      chatdata: [],
      chatdataMissing: true,
    });
    expect(parseChatData('{"errcode":48002,"errmsg":"api forbidden","sdk":0,"chatdata":[]}').errcode).toBe(
      48002,
    );
    expect(() => parseChatData('{"errcode":0,')).toThrow(FinanceSdkError);
  });
});

describe('messages helpers', () => {
  it('strips control characters only as a fallback', () => {
    expect(stripControlChars('a\u0001b\u001fc\n')).toBe('abc\n');
    const raw = '{"msgid":"m","action":"send","msgtype":"text","text":{"content":"x\u0007y"}}';
    const r = parseDecryptedMessage(raw);
    expect(r).toMatchObject({ ok: true, controlCharsStripped: true });
    expect(parseDecryptedMessage('{"msgid":')).toMatchObject({ ok: false });
    expect(parseDecryptedMessage('[1]')).toMatchObject({ ok: false });
  });

  it('finds media in direct payloads, mixed and chatrecord items', () => {
    const mixed = {
      msgid: 'm',
      action: 'send' as const,
      from: 'a',
      tolist: ['b'],
      roomid: '',
      msgtime: 1,
      msgtype: 'mixed',
      mixed: {
        item: [
          { type: 'text', content: '{"content":"hi"}' },
          { type: 'image', content: '{"sdkfileid":"S1","md5sum":"x","filesize":3}' },
        ],
      },
    };
    expect(mediaRefsOf(mixed)).toEqual([{ sdkfileid: 'S1', md5sum: 'x', size: 3, path: 'mixed.item[1]' }]);
    const voice = { ...mixed, msgtype: 'voice', voice: { sdkfileid: 'V', md5sum: '', voice_size: 9 } };
    expect(mediaRefsOf(voice)[0]).toMatchObject({ sdkfileid: 'V', size: 9 });
    expect(mediaRefsOf({ msgid: 's', action: 'switch', time: 1, user: 'u' })).toEqual([]);
  });

  it('classifies retryable codes', () => {
    expect([10000, 10001, 10002, 10003, 10004, 10010].map(isRetryableSdkCode)).toEqual([
      false,
      true,
      true,
      true,
      false,
      false,
    ]);
  });
});
