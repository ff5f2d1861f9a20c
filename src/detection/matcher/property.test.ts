import { describe, expect, it } from 'vitest';
import { normalizeText } from '../normalize/fold.js';
import { TermMatcher } from './term-matcher.js';
import { prng } from '../../../test/support/prng.js';

/** Mulberry32: a small seeded PRNG so failures reproduce. */

const CONTENT = ['回', '扣', '返', '点', 'a', 'b', '1', '𠮷'];
const NOISE = [' ', '*', '😀', '\u200b', '，', 'x'];

function randomString(rand: () => number, alphabet: readonly string[], len: number): string {
  let s = '';
  for (let i = 0; i < len; i++) s += alphabet[Math.floor(rand() * alphabet.length)]!;
  return s;
}

function bruteForce(terms: readonly string[], text: string): string[] {
  const out: string[] = [];
  terms.forEach((t, ti) => {
    for (let i = 0; i + t.length <= text.length; i++)
      if (text.startsWith(t, i)) out.push(`${ti}@${i}-${i + t.length}`);
  });
  return out.sort();
}

const EXACT = { evasion: false, pinyin: false, initials: false, homophone: false, wordBoundary: false };

describe('matcher equals a brute-force reference', () => {
  it('exact mode: every occurrence of every term, overlapping included (2,000 random cases)', () => {
    const rand = prng(20240605);
    for (let iter = 0; iter < 2000; iter++) {
      const count = 1 + Math.floor(rand() * 12);
      const terms = [
        ...new Set(
          Array.from({ length: count }, () => randomString(rand, CONTENT, 1 + Math.floor(rand() * 5))),
        ),
      ];
      const alphabet = rand() < 0.5 ? CONTENT : [...CONTENT, ...NOISE];
      const text = randomString(rand, alphabet, Math.floor(rand() * 80));
      const m = new TermMatcher(terms.map((text) => ({ text, options: EXACT, groups: [], allow: [] })));
      const got = m
        .scan(text)
        .map((h) => `${h.termIndex}@${h.start}-${h.end}`)
        .sort();
      expect(got, JSON.stringify({ terms, text })).toEqual(bruteForce(terms, text));
    }
  });

  it('evasion mode: finds every exact occurrence and every hit folds back to its term (1,000 cases)', () => {
    const rand = prng(7);
    const collapse = (s: string): string => s.replace(/(.)\1+/gu, '$1');
    for (let iter = 0; iter < 1000; iter++) {
      const terms = [
        ...new Set(
          Array.from({ length: 1 + Math.floor(rand() * 8) }, () =>
            randomString(rand, CONTENT, 2 + Math.floor(rand() * 4)),
          ),
        ),
      ];
      const text = randomString(rand, [...CONTENT, ...NOISE, '迴', 'Ａ'], Math.floor(rand() * 80));
      const m = new TermMatcher(
        terms.map((t) => ({ text: t, options: { ...EXACT, evasion: true }, groups: [], allow: [] })),
      );
      const hits = m.scan(text);
      const got = new Set(hits.map((h) => `${h.termIndex}@${h.start}-${h.end}`));
      for (const e of bruteForce(terms, text))
        expect(got.has(e), JSON.stringify({ terms, text, e })).toBe(true);
      for (const h of hits) {
        expect(collapse(normalizeText(h.matched))).toBe(collapse(normalizeText(terms[h.termIndex]!)));
        expect(h.matched).not.toMatch(/[，\n]/);
      }
    }
  });
});
