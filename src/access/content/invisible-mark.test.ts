import { describe, expect, it } from 'vitest';
import { decodeMarks, markText } from './invisible-mark.js';

describe('invisible copy mark (溯源)', () => {
  it('traces a copied snippet back to the viewer and minute, and survives surrounding edits', () => {
    const marked = markText('这单给你三个点回扣', { userId: '42', minute: 29_000_000 });
    expect(marked.replace(/[\u200b\u200c\u2060]/g, '')).toBe('这单给你三个点回扣');
    const leaked = `转发：${marked.slice(0, marked.length - 3)}……（截取）`; // trimmed at the end
    expect(decodeMarks(leaked)).toEqual([{ userId: '42', minute: 29_000_000 }]);
  });

  it('ignores damaged marks', () => {
    const marked = markText('回扣', { userId: '7', minute: 1 });
    const damaged = marked.replace('\u200b', '\u200c');
    expect(decodeMarks(damaged)).toEqual([]);
    expect(decodeMarks('no mark here')).toEqual([]);
  });
});
