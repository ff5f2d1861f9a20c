import { describe, expect, it } from 'vitest';
import { decodeContent, encodeContent } from './content-format.js';

describe('sealed content format', () => {
  it('round-trips WeCom JSON and its text in the binary framing, without escaping', () => {
    const raw = '{"msgid":"m1","text":{"content":"回扣 \\"走\\" 私户\\n"}}';
    const text = '回扣 "走" 私户\n';
    const encoded = encodeContent(raw, text);
    expect(encoded[0]).toBe(2);
    expect(encoded.length).toBe(5 + Buffer.byteLength(raw) + Buffer.byteLength(text));
    expect(decodeContent(encoded)).toEqual({ raw, text });
    expect(decodeContent(encodeContent('', ''))).toEqual({ raw: '', text: '' });
  });

  it('keeps lone surrogates exact by falling back to version 1', () => {
    const text = 'a\ud800b';
    const encoded = encodeContent('{}', text);
    expect(encoded[0]).toBe('{'.charCodeAt(0));
    expect(decodeContent(encoded)).toEqual({ raw: '{}', text });
  });

  it('reads version 1 content archived before, and refuses a truncated frame', () => {
    const v1 = Buffer.from(JSON.stringify({ v: 1, raw: '{"a":1}', text: '好' }));
    expect(decodeContent(v1)).toEqual({ raw: '{"a":1}', text: '好' });
    const cut = encodeContent('{"msgid":"m"}', 'x').subarray(0, 8);
    expect(() => decodeContent(cut)).toThrow(/beyond the end/);
  });
});
