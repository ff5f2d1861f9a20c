import { SPLIT_FORMS } from '../normalize/char-tables.js';
import { M_INITIALS, M_PINYIN, M_SPLIT, containsBoundary, foldString } from '../normalize/fold.js';
import { isHan, termSyllables } from '../normalize/pinyin.js';
import type { PatternInput } from './automaton.js';

/** Per-term matching options (see README: "Methods"). */
export interface TermOptions {
  /** Tolerate noise, repeats, full-width, traditional, number/letter forms and split characters. */
  evasion: boolean;
  /** Also match the full pinyin ("huikou", "hui kou", mixed "回kou"). */
  pinyin: boolean;
  /** Also match pinyin initials ("hk"), always as a whole Latin word. */
  initials: boolean;
  /** Also match characters that sound the same, ignoring tones (灰口 for 回扣). */
  homophone: boolean;
  /** Latin terms must not touch other Latin letters or digits ("vx" not inside "vxworks"). */
  wordBoundary: boolean;
}

/** One way of writing a term, as an automaton pattern plus what it implies. */
export interface Variant {
  input: PatternInput;
  /** M_* bits the variant itself stands for (pinyin, split …). */
  implied: number;
  /** Whether Latin letters must not touch the start / end of the occurrence. */
  boundaryStart: boolean;
  boundaryEnd: boolean;
}

export class TermError extends Error {}

function fromString(s: string, implied: number, boundaryStart: boolean, boundaryEnd: boolean): Variant {
  const folded = foldString(s);
  return {
    input: { units: folded.map((c) => c.unit), orig: folded.map((c) => s.slice(c.start, c.end)) },
    implied,
    boundaryStart,
    boundaryEnd,
  };
}

function isLatinWord(s: string): boolean {
  return foldString(s).every((c) => (c.unit >= 0x61 && c.unit <= 0x7a) || (c.unit >= 0x30 && c.unit <= 0x39));
}

/** Whether `wordBoundary` should default to on: the term is only Latin letters and digits. */
export function defaultWordBoundary(term: string): boolean {
  return isLatinWord(term);
}

/** Checks a term can be matched at all; throws TermError naming the problem. */
export function validateTerm(term: string): void {
  if (containsBoundary(term)) {
    throw new TermError(
      `term "${term}" contains sentence punctuation or a line break, which matching never crosses`,
    );
  }
  if (foldString(term).length === 0)
    throw new TermError(`term "${term}" has no letters, digits or characters to match`);
}

/** Character-level variants: the term itself and, with evasion on, split-character spellings. */
export function charVariants(term: string, opts: TermOptions): Variant[] {
  const variants = [fromString(term, 0, opts.wordBoundary, opts.wordBoundary)];
  if (!opts.evasion) return variants;
  const chars = [...term];
  const splitAt = chars.map((c, i) => (SPLIT_FORMS[c] ? i : -1)).filter((i) => i >= 0);
  for (const i of splitAt) {
    for (const form of SPLIT_FORMS[chars[i]!]!) {
      const spelled = chars.map((c, j) => (j === i ? form : c)).join('');
      variants.push(fromString(spelled, M_SPLIT, false, false));
    }
  }
  if (splitAt.length > 1) {
    // Every splittable character split at once (禾厶下车专 for 私下转).
    variants.push(fromString(chars.map((c) => SPLIT_FORMS[c]?.[0] ?? c).join(''), M_SPLIT, false, false));
  }
  return variants;
}

/**
 * Pinyin variants: the full reading, readings mixing characters and syllables (回kou, hui扣) for
 * short terms, and initials. Latin ends must sit on a word boundary so 水口 "shuikou" does not
 * contain "huikou"; full pinyin may run on ("huikoule") since syllables follow each other.
 */
export function pinyinVariants(term: string, opts: TermOptions): Variant[] {
  if (!opts.pinyin && !opts.initials) return [];
  const chars = [...term];
  const sylls = termSyllables(term);
  const han = sylls.filter((s) => s !== undefined).length;
  if (han === 0) return [];
  const variants: Variant[] = [];
  if (opts.pinyin) {
    const full = chars.map((c, i) => sylls[i] ?? c).join('');
    variants.push(fromString(full, M_PINYIN, true, false));
    if (chars.length <= 4 && han >= 2) {
      const hanIdx = chars.map((_, i) => i).filter((i) => sylls[i] !== undefined);
      const total = 1 << hanIdx.length;
      for (let mask = 1; mask < total - 1; mask++) {
        const spelled = chars.map((c, i) => {
          const bit = hanIdx.indexOf(i);
          return bit >= 0 && mask & (1 << bit) ? sylls[i]! : c;
        });
        const startsLatin = (mask & 1) === 1 && hanIdx[0] === 0;
        variants.push(fromString(spelled.join(''), M_PINYIN, startsLatin, false));
      }
    }
  }
  if (opts.initials && han >= 2 && chars.every((c, i) => sylls[i] !== undefined || !isHan(c.charCodeAt(0)))) {
    const initials = chars.map((c, i) => sylls[i]?.[0] ?? c).join('');
    variants.push(fromString(initials, M_INITIALS, true, true));
  }
  return variants;
}

/** The syllable keys of a term for the homophone automaton (non-Han characters key as themselves). */
export function homophoneKeys(term: string): { input: PatternInput; keys: string[] } | undefined {
  const folded = foldString(term);
  const sylls = termSyllables(term);
  const chars = [...term];
  // Map each folded unit back to its source character to pick the contextual syllable.
  const charStarts: number[] = [];
  let off = 0;
  for (const c of chars) {
    charStarts.push(off);
    off += c.length;
  }
  const keys = folded.map((f) => {
    const idx = charStarts.indexOf(f.start);
    const syl = idx >= 0 ? sylls[idx] : undefined;
    return syl !== undefined ? `py:${syl}` : `ch:${f.unit}`;
  });
  if (!keys.some((k) => k.startsWith('py:'))) return undefined;
  return {
    input: { units: folded.map((c) => c.unit), orig: folded.map((c) => term.slice(c.start, c.end)) },
    keys,
  };
}
