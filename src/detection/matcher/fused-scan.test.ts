import { describe, expect, it } from 'vitest';
import { prng } from '../../../test/support/prng.js';
import { M_HOMOPHONE } from '../normalize/fold.js';
import type { CompiledAutomaton } from './automaton.js';
import { scanTwo } from './fused-scan.js';
import { mergeSorted, sortHits } from './hit-order.js';
import { Scanner, type Candidates } from './scanner.js';
import { TermMatcher } from './term-matcher.js';

/** TermMatcher's private automata, to compare the fused scan with one scan per automaton. */
interface Internals {
  chars: CompiledAutomaton;
  sound: CompiledAutomaton;
  pairs: Uint32Array;
  twin: Int32Array;
}

const CONTENT = [
  '回',
  '扣',
  '会',
  '灰',
  '口',
  '返',
  '点',
  '電',
  '店',
  '银',
  '行',
  '杭',
  'h',
  'k',
  '1',
  '𠮷',
  '⑩',
  '扌',
];
const NOISE = [' ', '*', '😀', '\u200b', '，', '\n'];

function pick(rand: () => number, alphabet: readonly string[], len: number): string {
  let s = '';
  for (let i = 0; i < len; i++) s += alphabet[Math.floor(rand() * alphabet.length)]!;
  return s;
}

function rows(c: Candidates, onlyHomophones: boolean): string[] {
  const out: string[] = [];
  for (let i = 0; i < c.count; i++)
    if (!onlyHomophones || c.methods[i]! & M_HOMOPHONE)
      out.push(`${c.pattern[i]}@${c.start[i]}-${c.end[i]}/${c.methods[i]}`);
  return out;
}

describe('fused character + homophone scan', () => {
  it('yields the candidates of two separate scans (300 random lexicons × 8 texts)', () => {
    const rand = prng(5150);
    let homophones = 0;
    for (let iter = 0; iter < 300; iter++) {
      const terms = [
        ...new Set(
          Array.from({ length: 1 + Math.floor(rand() * 6) }, () =>
            pick(rand, CONTENT, 1 + Math.floor(rand() * 4)),
          ),
        ),
      ];
      const m = new TermMatcher(
        terms.map((text) => ({
          text,
          options: {
            evasion: rand() < 0.7,
            pinyin: rand() < 0.3,
            initials: false,
            homophone: true,
            wordBoundary: false,
          },
          groups: [],
          allow: [],
        })),
      );
      const x = m as unknown as Internals;
      if (!x.sound) continue;
      const fusedChars = new Scanner(x.chars);
      const fusedSound = new Scanner(x.sound, undefined, M_HOMOPHONE);
      for (let t = 0; t < 8; t++) {
        const text = pick(rand, rand() < 0.5 ? CONTENT : [...CONTENT, ...NOISE], Math.floor(rand() * 60));
        scanTwo(fusedChars, fusedSound, x.pairs, x.twin, text);
        const where = JSON.stringify({ terms, text });
        expect(rows(fusedChars.candidates, false), where).toEqual(
          rows(new Scanner(x.chars).scan(text), false),
        );
        // The homophone lane skips the term's own spelling, which a separate scan drops later.
        const sound = rows(new Scanner(x.sound, undefined, M_HOMOPHONE).scan(text), true);
        expect(rows(fusedSound.candidates, true), where).toEqual(sound);
        homophones += sound.length;
      }
    }
    expect(homophones).toBeGreaterThan(1000);
  });
});

describe('hit order', () => {
  const cmp = (a: Span, b: Span) => a.start - b.start || a.end - b.end || a.termIndex - b.termIndex;
  interface Span {
    start: number;
    end: number;
    termIndex: number;
    id: number;
  }
  const spans = (rand: () => number, n: number, spread: number): Span[] =>
    Array.from({ length: n }, (_, id) => {
      const end = id + Math.floor(rand() * spread);
      return { start: end - Math.floor(rand() * spread), end, termIndex: Math.floor(rand() * 3), id };
    });

  it('sorts stably like Array.prototype.sort, near-sorted or not', () => {
    const rand = prng(3);
    for (const spread of [2, 8, 5000]) {
      for (let iter = 0; iter < 50; iter++) {
        const a = spans(rand, Math.floor(rand() * 3000), spread);
        expect(sortHits([...a]).map((s) => s.id)).toEqual([...a].sort(cmp).map((s) => s.id));
      }
    }
  });

  it('merges two sorted lists as a stable sort of their concatenation', () => {
    const rand = prng(4);
    for (let iter = 0; iter < 200; iter++) {
      const a = spans(rand, Math.floor(rand() * 200), 6).sort(cmp);
      const b = spans(rand, Math.floor(rand() * 50), 6)
        .map((s) => ({ ...s, id: s.id + 1000 }))
        .sort(cmp);
      expect(mergeSorted([...a], b).map((s) => s.id)).toEqual([...a, ...b].sort(cmp).map((s) => s.id));
    }
  });
});
