import {
  FOLD_BOUNDARY,
  FOLD_INVISIBLE,
  FOLD_NOISE,
  FOLD_SLOW,
  M_HOMOPHONE,
  foldSlow,
  foldTables,
} from '../normalize/fold.js';

/** One code point of the original text as the verifier sees it. */
export interface Token {
  start: number;
  end: number;
  kind: 'content' | 'noise' | 'invisible' | 'boundary';
  /** Folded units (usually one; several for ⑩ → "10"). */
  units: number[];
  method: number;
}

/** Reads the code point starting at `i`. Allocates: only used off the hot path. */
export function tokenAt(text: string, i: number): Token {
  const { fold, method } = foldTables();
  const u = text.charCodeAt(i);
  const f = fold[u]!;
  if (f > FOLD_SLOW) return { start: i, end: i + 1, kind: 'content', units: [f], method: method[u]! };
  if (f === FOLD_NOISE) return { start: i, end: i + 1, kind: 'noise', units: [], method: 0 };
  if (f === FOLD_INVISIBLE) return { start: i, end: i + 1, kind: 'invisible', units: [], method: 0 };
  if (f === FOLD_BOUNDARY) return { start: i, end: i + 1, kind: 'boundary', units: [], method: 0 };
  const { fold: slow, width } = foldSlow(text, i);
  const units: number[] = [];
  for (let k = 0; k < slow.out.length; k++) units.push(slow.out.charCodeAt(k));
  return { start: i, end: i + width, kind: slow.kind, units, method: slow.method };
}

/** Start of the code point that ends at `j` (handles surrogate pairs). */
export function codePointStartBefore(text: string, j: number): number {
  const lo = text.charCodeAt(j - 1);
  if (lo >= 0xdc00 && lo <= 0xdfff && j >= 2) {
    const hi = text.charCodeAt(j - 2);
    if (hi >= 0xd800 && hi <= 0xdbff) return j - 2;
  }
  return j - 1;
}

/**
 * Why a text character differs from the pattern character it matched: the text side's fold bits,
 * else the pattern side's (a traditional term matched by simplified text), else a homophone.
 */
export function charMethod(
  textChar: string,
  textMethod: number,
  textUnit: number,
  patChar: string,
  patUnit: number,
): number {
  if (textChar === patChar) return 0;
  if (textChar.toLowerCase() === patChar.toLowerCase() && textUnit === patUnit) return 0;
  if (textUnit !== patUnit) return M_HOMOPHONE;
  if (textMethod !== 0) return textMethod;
  const { method } = foldTables();
  return patChar.length === 1 ? method[patChar.charCodeAt(0)]! : 0;
}
