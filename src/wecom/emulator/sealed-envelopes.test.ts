import { describe, expect, it } from 'vitest';
import { SealedEnvelopes } from './sealed-envelopes.js';

describe('SealedEnvelopes', () => {
  it('serves any range as the comma-joined envelopes, across chunk boundaries', () => {
    const texts = Array.from({ length: 25 }, (_, i) => `{"seq":${i},"msgid":"${'回'.repeat(i % 7)}"}`);
    const sealed = new SealedEnvelopes(texts.length, 64); // a few envelopes per chunk
    for (const t of texts) sealed.append(t);
    expect(sealed.count).toBe(25);
    for (let start = 0; start < texts.length; start++)
      for (let end = start; end <= texts.length; end++)
        expect(Buffer.concat(sealed.pieces(start, end)).toString(), `${start}..${end}`).toBe(
          texts.slice(start, end).join(','),
        );
  });
});
