import {
  M_EVASION,
  M_HOMOPHONE,
  M_INITIALS,
  M_NOISE,
  M_PINYIN,
  M_REPEAT,
  foldTables,
} from '../normalize/fold.js';
import { isHan, syllableOf } from '../normalize/pinyin.js';
import type { MatchMethod } from '../types.js';
import { compileAutomaton, type CompiledAutomaton, type PatternInput } from './automaton.js';
import { pairClassTable, scanTwo, twinStates } from './fused-scan.js';
import { mergeSorted, sortHits } from './hit-order.js';
import { DEFAULT_LIMITS, Scanner, type Candidates, type ScanLimits } from './scanner.js';
import {
  charVariants,
  homophoneKeys,
  pinyinVariants,
  validateTerm,
  type TermOptions,
} from './term-patterns.js';

/** A term to compile: its text, options, the groups (lexicons) it belongs to and its allow-list. */
export interface TermInput {
  text: string;
  options: TermOptions;
  groups: readonly string[];
  /** Allow-list phrases: an occurrence of one overlapping a hit of this term suppresses the hit. */
  allow: readonly string[];
}

/** A term occurrence in the original text. */
export interface TermHit {
  term: string;
  termIndex: number;
  groups: readonly string[];
  start: number;
  end: number;
  matched: string;
  method: MatchMethod;
  methods: MatchMethod[];
}

interface Owner {
  term: number; // index into terms, or -1 for an allow phrase
  allowId: number;
  implied: number;
  /** M_* bits a hit may carry: the term's options, computed once instead of per hit. */
  allowed: number;
  boundaryStart: boolean;
  boundaryEnd: boolean;
}

interface AllowSpan {
  id: number;
  start: number;
  end: number;
}

/** Method names by bit, most evasive first: `method` reports the first one present. */
const METHOD_BITS: readonly (readonly [number, MatchMethod])[] = [
  [M_HOMOPHONE, 'homophone'],
  [M_INITIALS, 'pinyin-initials'],
  [M_PINYIN, 'pinyin'],
  [64, 'split'],
  [8, 'traditional'],
  [32, 'letter-form'],
  [16, 'number-form'],
  [4, 'fullwidth'],
  [M_REPEAT, 'repeat'],
  [M_NOISE, 'noise'],
];

/** Names the M_* bits, most evasive first (`exact` when none). */
export function methodNames(bits: number): MatchMethod[] {
  const names = METHOD_BITS.filter(([bit]) => bits & bit).map(([, name]) => name);
  return names.length > 0 ? names : ['exact'];
}

// Shared, frozen per bit pattern: hits are produced by the hundred thousand in bulk scans.
const METHOD_NAMES: readonly MatchMethod[][] = Array.from(
  { length: 1024 },
  (_, bits) => Object.freeze(methodNames(bits)) as MatchMethod[],
);

function allowedBits(o: TermOptions, implied: number): number {
  return (
    (o.evasion ? M_EVASION : 0) |
    (o.pinyin ? M_PINYIN : 0) |
    (o.initials ? M_INITIALS : 0) |
    (o.homophone ? M_HOMOPHONE : 0) |
    // Pinyin is typed with spaces between syllables; that is not an evasion of its own.
    (implied & (M_PINYIN | M_INITIALS) ? M_NOISE | M_REPEAT : 0)
  );
}

function isWordUnitAt(text: string, i: number): boolean {
  if (i < 0 || i >= text.length) return false;
  const u = text.charCodeAt(i);
  if (isHan(u)) return false; // 一 folds to "1" but is not a Latin neighbour
  const f = foldTables().fold[u]!;
  return (f >= 0x61 && f <= 0x7a) || (f >= 0x30 && f <= 0x39);
}

function keyOfUnit(u: number): string | number {
  return u;
}

function soundKeyOfUnit(u: number): string {
  const s = syllableOf(u);
  return s !== undefined ? `py:${s}` : `ch:${u}`;
}

/**
 * Many terms compiled into one character automaton (plus a homophone automaton when a term asks
 * for it). Immutable after construction; `scan` reuses internal buffers, so one instance must not
 * be used re-entrantly (JavaScript's single thread makes that the natural case).
 */
export class TermMatcher {
  readonly terms: readonly TermInput[];
  private readonly chars: CompiledAutomaton;
  private readonly charOwners: Owner[][];
  private readonly charScanner: Scanner;
  private readonly sound?: CompiledAutomaton;
  private readonly soundOwners: Owner[][] = [];
  private readonly soundScanner?: Scanner;
  /** Both automata's classes per code unit, for the fused scan. */
  private readonly pairs?: Uint32Array;
  /** Per homophone pattern: the character state of the term's own spelling (twinStates). */
  private readonly twin?: Int32Array;
  private readonly allowIds = new Map<string, number>();
  /** Per term: allow-list ids that suppress it. */
  private readonly termAllow: Set<number>[];
  private readonly limits: ScanLimits;
  /** Set when the last scan hit maxCandidates. */
  truncated = false;

  constructor(terms: readonly TermInput[], limits: Partial<ScanLimits> = {}) {
    this.terms = terms;
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    const charPatterns: PatternInput[] = [];
    const charIndex = new Map<string, number>();
    this.charOwners = [];
    const addChar = (input: PatternInput, owner: Owner): void => {
      const key = input.units.join(',');
      let idx = charIndex.get(key);
      if (idx === undefined) {
        idx = charPatterns.length;
        charIndex.set(key, idx);
        charPatterns.push(input);
        this.charOwners.push([]);
      }
      // One owner per term and pattern (the least evasive variant), so a span is reported once.
      const owners = this.charOwners[idx]!;
      const same = owners.findIndex((o) => o.term === owner.term && o.allowId === owner.allowId);
      if (same < 0) owners.push(owner);
      else if (owner.implied < owners[same]!.implied) owners[same] = owner;
    };
    const soundPatterns: PatternInput[] = [];
    const soundTwins: number[] = [];
    this.termAllow = terms.map(() => new Set<number>());
    terms.forEach((t, ti) => {
      validateTerm(t.text);
      const variants = [...charVariants(t.text, t.options), ...pinyinVariants(t.text, t.options)];
      for (const v of variants) {
        if (v.input.units.length === 0) continue;
        addChar(v.input, {
          term: ti,
          allowId: -1,
          implied: v.implied,
          allowed: allowedBits(t.options, v.implied),
          boundaryStart: v.boundaryStart,
          boundaryEnd: v.boundaryEnd,
        });
      }
      if (t.options.homophone) {
        const h = homophoneKeys(t.text);
        if (h) {
          soundPatterns.push({ ...h.input, keys: h.keys });
          soundTwins.push(charIndex.get(h.input.units.join(',')) ?? -1);
          this.soundOwners.push([
            {
              term: ti,
              allowId: -1,
              implied: 0,
              allowed: allowedBits(t.options, 0),
              boundaryStart: t.options.wordBoundary,
              boundaryEnd: t.options.wordBoundary,
            },
          ]);
        }
      }
      for (const phrase of t.allow) {
        let id = this.allowIds.get(phrase);
        if (id === undefined) {
          validateTerm(phrase);
          id = this.allowIds.size;
          this.allowIds.set(phrase, id);
          const [v] = charVariants(phrase, {
            evasion: true,
            pinyin: false,
            initials: false,
            homophone: false,
            wordBoundary: false,
          });
          addChar(v!.input, {
            term: -1,
            allowId: id,
            implied: 0,
            allowed: 0,
            boundaryStart: false,
            boundaryEnd: false,
          });
        }
        this.termAllow[ti]!.add(id);
      }
    });
    this.chars = compileAutomaton(charPatterns, keyOfUnit);
    this.charScanner = new Scanner(this.chars, this.limits);
    if (soundPatterns.length > 0) {
      this.sound = compileAutomaton(soundPatterns, soundKeyOfUnit);
      this.soundScanner = new Scanner(this.sound, this.limits, M_HOMOPHONE);
      this.pairs = pairClassTable(this.chars, this.sound);
      this.twin = twinStates(this.chars, this.sound, soundTwins);
    }
  }

  /** Number of automaton states (character + homophone). */
  get stateCount(): number {
    return this.chars.da.stateCount + (this.sound?.da.stateCount ?? 0);
  }

  /** All term occurrences in `text`, overlapping ones included, sorted by start then end. */
  scan(text: string): TermHit[] {
    const allowSpans: AllowSpan[] = [];
    let hits: TermHit[];
    if (this.soundScanner) {
      scanTwo(this.charScanner, this.soundScanner, this.pairs!, this.twin!, text);
      this.truncated = this.charScanner.truncated || this.soundScanner.truncated;
      const chars = this.collect(text, this.charScanner.candidates, this.charOwners, false, allowSpans);
      const sounds = this.collect(text, this.soundScanner.candidates, this.soundOwners, true, allowSpans);
      hits = mergeSorted(sortHits(chars), sortHits(sounds));
    } else {
      this.charScanner.scan(text);
      this.truncated = this.charScanner.truncated;
      hits = sortHits(this.collect(text, this.charScanner.candidates, this.charOwners, false, allowSpans));
    }
    if (allowSpans.length === 0) return hits;
    return hits.filter((hit) => {
      const allow = this.termAllow[hit.termIndex]!;
      return !(
        allow.size > 0 && allowSpans.some((a) => allow.has(a.id) && a.start < hit.end && hit.start < a.end)
      );
    });
  }

  /** Turns one automaton's candidates into hits (in emission order) and allow-phrase spans. */
  private collect(
    text: string,
    cands: Candidates,
    owners: Owner[][],
    homophone: boolean,
    allowSpans: AllowSpan[],
  ): TermHit[] {
    const hits: TermHit[] = [];
    const { pattern, start: starts, end: ends, methods: candMethods } = cands;
    for (let i = 0; i < cands.count; i++) {
      const start = starts[i]!;
      const end = ends[i]!;
      const list = owners[pattern[i]!]!;
      for (let oi = 0; oi < list.length; oi++) {
        const o = list[oi]!;
        if (o.term < 0) {
          allowSpans.push({ id: o.allowId, start, end });
          continue;
        }
        let bits = candMethods[i]! | o.implied;
        if (homophone) {
          if (!(bits & M_HOMOPHONE)) continue; // identical characters: the character automaton has it
        } else bits &= ~M_HOMOPHONE;
        if (bits & ~o.allowed) continue;
        if (o.boundaryStart && isWordUnitAt(text, start - 1)) continue;
        if (o.boundaryEnd && isWordUnitAt(text, end)) continue;
        // Variants of one term never yield the same span (distinct patterns match distinct
        // text, homophone hits differ from the characters), so no de-duplication is needed.
        const term = this.terms[o.term]!;
        const methods = METHOD_NAMES[bits & 1023]!;
        hits.push({
          term: term.text,
          termIndex: o.term,
          groups: term.groups,
          start,
          end,
          matched: text.slice(start, end),
          method: methods[0]!,
          methods,
        });
      }
    }
    return hits;
  }
}
