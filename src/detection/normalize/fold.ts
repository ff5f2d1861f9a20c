import {
  BOUNDARY_CHARS,
  CHINESE_DIGITS,
  EXTRA_LETTER_RANGES,
  EXTRA_NUMBER_RANGES,
  LOOKALIKE_LETTERS,
} from './char-tables.js';
import { traditionalToSimplifiedMap } from './t2s.js';

/*
 * The fold table maps every UTF-16 code unit to the unit it compares as (NFKC, full-width→ASCII,
 * lower case, look-alike letters, number forms, traditional→simplified), or to one of the special
 * codes below. Real characters never fold to U+0000–U+0003, so the codes cannot collide.
 */
export const FOLD_NOISE = 0; // punctuation, symbols, spaces, emoji: skipped, counted against the gap
export const FOLD_INVISIBLE = 1; // zero-width, format and combining characters: skipped for free
export const FOLD_BOUNDARY = 2; // sentence punctuation and line breaks: matching never crosses
export const FOLD_SLOW = 3; // surrogate pair or a multi-unit fold: see foldCodePoint

/** Bits describing why a character differs from what it folds to. */
export const M_NOISE = 1;
export const M_REPEAT = 2;
export const M_FULLWIDTH = 4;
export const M_TRADITIONAL = 8;
export const M_NUMBER = 16;
export const M_LETTER = 32;
export const M_SPLIT = 64;
export const M_PINYIN = 128;
export const M_INITIALS = 256;
export const M_HOMOPHONE = 512;
/** Everything the per-term `evasion` switch allows. */
export const M_EVASION = M_NOISE | M_REPEAT | M_FULLWIDTH | M_TRADITIONAL | M_NUMBER | M_LETTER | M_SPLIT;

export type FoldKind = 'content' | 'noise' | 'invisible' | 'boundary';

/** The fold of one code point: `out` is empty unless kind is content. */
export interface CodePointFold {
  kind: FoldKind;
  out: string;
  method: number;
}

export interface FoldTables {
  /** code unit → folded unit or a FOLD_* code. */
  fold: Uint16Array;
  /** code unit → M_* bits explaining the fold. */
  method: Uint8Array;
}

const NOISE_RE = /^[\p{P}\p{S}\p{Z}\s]$/u;
const INVISIBLE_RE = /^[\p{Cc}\p{Cf}\p{M}\p{Co}\p{Cn}]$/u;
const PICTOGRAPHIC_RE = /^\p{Extended_Pictographic}$/u;

function inRanges(cp: number, ranges: readonly (readonly number[])[]): number {
  for (const r of ranges) if (cp >= r[0]! && cp <= r[1]!) return cp - r[0]! + (r[2] ?? 0);
  return -1;
}

function classifyNfkcChange(cp: number, out: string): number {
  if ((cp >= 0xff01 && cp <= 0xff5e) || (cp >= 0xffe0 && cp <= 0xffee) || cp === 0x3000) return M_FULLWIDTH;
  return /\d/.test(out) ? M_NUMBER : M_LETTER;
}

/** Folds one code point from scratch; the tables below cache it for the BMP. */
export function foldCodePoint(cp: number): CodePointFold {
  const ch = String.fromCodePoint(cp);
  if (BOUNDARY_CHARS.has(ch)) return { kind: 'boundary', out: '', method: 0 };
  let method = 0;
  let s: string;
  const extraNumber = inRanges(cp, EXTRA_NUMBER_RANGES);
  const extraLetter = inRanges(cp, EXTRA_LETTER_RANGES);
  if (extraNumber >= 0) {
    s = String(extraNumber);
    method |= M_NUMBER;
  } else if (extraLetter >= 0) {
    s = String.fromCharCode(0x61 + (extraLetter % 26));
    method |= M_LETTER;
  } else {
    s = ch.normalize('NFKC');
    if (s !== ch) method |= classifyNfkcChange(cp, s);
  }
  if (s.length > 0 && [...s].every((c) => BOUNDARY_CHARS.has(c))) {
    return { kind: 'boundary', out: '', method: 0 };
  }
  const t2s = traditionalToSimplifiedMap();
  let out = '';
  for (const c0 of s.toLowerCase()) {
    let c = c0;
    const look = LOOKALIKE_LETTERS[c];
    if (look !== undefined) {
      c = look;
      method |= M_LETTER;
    }
    let digit = CHINESE_DIGITS[c];
    if (digit === undefined && c.length === 1) {
      const simplified = t2s.get(c.charCodeAt(0));
      if (simplified !== undefined) {
        c = String.fromCharCode(simplified);
        method |= M_TRADITIONAL;
      }
      digit = CHINESE_DIGITS[c];
    }
    if (digit !== undefined) {
      c = digit;
      method |= M_NUMBER;
    }
    if (NOISE_RE.test(c) || INVISIBLE_RE.test(c) || PICTOGRAPHIC_RE.test(c)) continue;
    out += c;
  }
  if (out.length > 0) return { kind: 'content', out, method };
  const invisible = INVISIBLE_RE.test(ch) && !/\s/.test(ch);
  return { kind: invisible ? 'invisible' : 'noise', out: '', method: 0 };
}

let tables: FoldTables | undefined;
const expansions = new Map<number, string>();
const astral = new Map<number, CodePointFold>();

/** Builds (once) the per-code-unit fold and method tables. */
export function foldTables(): FoldTables {
  if (tables) return tables;
  const fold = new Uint16Array(65536);
  const method = new Uint8Array(65536);
  for (let u = 0; u < 65536; u++) {
    if (u >= 0xd800 && u <= 0xdbff) {
      fold[u] = FOLD_SLOW;
      continue;
    }
    if (u >= 0xdc00 && u <= 0xdfff) {
      fold[u] = FOLD_INVISIBLE; // a lone low surrogate: malformed input, ignore it
      continue;
    }
    const f = foldCodePoint(u);
    method[u] = f.method;
    if (f.kind === 'boundary') fold[u] = FOLD_BOUNDARY;
    else if (f.kind === 'noise') fold[u] = FOLD_NOISE;
    else if (f.kind === 'invisible') fold[u] = FOLD_INVISIBLE;
    else if (f.out.length === 1 && f.out.charCodeAt(0) > FOLD_SLOW) fold[u] = f.out.charCodeAt(0);
    else {
      fold[u] = FOLD_SLOW;
      expansions.set(u, f.out);
    }
  }
  tables = { fold, method };
  return tables;
}

/**
 * Folds the code point at `i` of `text` when the table says FOLD_SLOW: a surrogate pair or a BMP
 * character that expands to several units (⑩ → "10"). Astral results are cached.
 */
export function foldSlow(text: string, i: number): { fold: CodePointFold; width: number } {
  const u = text.charCodeAt(i);
  if (u >= 0xd800 && u <= 0xdbff) {
    const lo = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
    if (lo < 0xdc00 || lo > 0xdfff) return { fold: { kind: 'invisible', out: '', method: 0 }, width: 1 };
    const cp = ((u - 0xd800) << 10) + (lo - 0xdc00) + 0x10000;
    let f = astral.get(cp);
    if (f === undefined) {
      f = foldCodePoint(cp);
      if (f.kind === 'content' && /^\p{Extended_Pictographic}$/u.test(String.fromCodePoint(cp))) {
        f = { kind: 'noise', out: '', method: 0 };
      }
      if (astral.size < 100_000) astral.set(cp, f);
    }
    return { fold: f, width: 2 };
  }
  foldTables();
  const out = expansions.get(u);
  if (out !== undefined) return { fold: { kind: 'content', out, method: foldTables().method[u]! }, width: 1 };
  return { fold: foldCodePoint(u), width: 1 };
}

/** One content character of a folded string, with its span in the original. */
export interface FoldedChar {
  /** Folded UTF-16 unit. */
  unit: number;
  start: number;
  end: number;
  method: number;
}

/** Folds a whole string: content characters only; noise and boundaries are dropped. */
export function foldString(text: string): FoldedChar[] {
  const { fold, method } = foldTables();
  const result: FoldedChar[] = [];
  for (let i = 0; i < text.length;) {
    const f = fold[text.charCodeAt(i)]!;
    if (f > FOLD_SLOW) {
      result.push({ unit: f, start: i, end: i + 1, method: method[text.charCodeAt(i)]! });
      i++;
      continue;
    }
    if (f !== FOLD_SLOW) {
      i++;
      continue;
    }
    const { fold: slow, width } = foldSlow(text, i);
    for (let k = 0; k < slow.out.length; k++) {
      result.push({ unit: slow.out.charCodeAt(k), start: i, end: i + width, method: slow.method });
    }
    i += width;
  }
  return result;
}

/** The folded form of a string as text (handy for tests and term keys). */
export function normalizeText(text: string): string {
  return String.fromCharCode(...foldString(text).map((c) => c.unit));
}

/** True when the text contains a character that acts as a hard boundary. */
export function containsBoundary(text: string): boolean {
  const { fold } = foldTables();
  for (let i = 0; i < text.length; i++) if (fold[text.charCodeAt(i)] === FOLD_BOUNDARY) return true;
  return false;
}

/**
 * A same-length folded copy of the text for regular expressions and PII detectors: each code unit
 * that folds to one unit is replaced by it (traditional→simplified, full-width→ASCII, ③/叁→3,
 * lower case); noise, boundaries and multi-unit folds are kept as they are, so offsets into the
 * view are offsets into the original.
 */
export function foldedView(text: string): string {
  const { fold } = foldTables();
  const parts: string[] = [];
  const chunk = new Uint16Array(Math.min(text.length, 8192));
  for (let off = 0; off < text.length; off += chunk.length) {
    const n = Math.min(chunk.length, text.length - off);
    for (let i = 0; i < n; i++) {
      const u = text.charCodeAt(off + i);
      const f = fold[u]!;
      chunk[i] = f > FOLD_SLOW ? f : u;
    }
    parts.push(String.fromCharCode(...chunk.subarray(0, n)));
  }
  return parts.join('');
}
