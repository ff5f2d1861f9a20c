import { pinyin } from 'pinyin-pro';

let syllables: (string | undefined)[] | undefined;

function isHan(unit: number): boolean {
  return (unit >= 0x4e00 && unit <= 0x9fff) || (unit >= 0x3400 && unit <= 0x4dbf);
}

/**
 * Toneless pinyin (ü written v) of a character's most common reading, precomputed once for every
 * BMP ideograph: the homophone matcher keys characters by it.
 */
export function syllableOf(unit: number): string | undefined {
  if (!syllables) {
    const table: (string | undefined)[] = new Array<string | undefined>(0xa000);
    for (let u = 0x3400; u < 0xa000; u++) {
      if (!isHan(u)) continue;
      const ch = String.fromCharCode(u);
      const p = pinyin(ch, { toneType: 'none', type: 'array', v: true, toneSandhi: false })[0];
      if (p && p !== ch && /^[a-z]+$/.test(p)) table[u] = p;
    }
    syllables = table;
  }
  return unit < 0xa000 ? syllables[unit] : undefined;
}

/**
 * Contextual toneless pinyin of a term, one entry per character (undefined for non-Han), so
 * 银行 reads yin hang rather than yin xing.
 */
export function termSyllables(term: string): (string | undefined)[] {
  const chars = [...term];
  const read = pinyin(term, {
    toneType: 'none',
    type: 'array',
    v: true,
    toneSandhi: false,
    nonZh: 'consecutive',
  });
  if (read.length === chars.length) {
    return chars.map((c, i) => (isHan(c.charCodeAt(0)) && /^[a-z]+$/.test(read[i]!) ? read[i] : undefined));
  }
  return chars.map((c) => (isHan(c.charCodeAt(0)) ? syllableOf(c.charCodeAt(0)) : undefined));
}

export { isHan };
