import * as OpenCC from 'opencc-js';

let cached: Map<number, number> | undefined;

/** BMP ideograph blocks worth converting: CJK unified, extension A and compatibility ideographs. */
const RANGES: readonly (readonly [number, number])[] = [
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xf900, 0xfaff],
];

/**
 * Traditional→simplified as a single-character map, built once by running OpenCC over every
 * ideograph separately (newline-separated so phrase rules never fire); conversions that do not
 * stay one UTF-16 unit are dropped, since the scanner folds per code unit.
 */
export function traditionalToSimplifiedMap(): Map<number, number> {
  if (cached) return cached;
  const convert = OpenCC.Converter({ from: 't', to: 'cn' });
  const chars: string[] = [];
  for (const [lo, hi] of RANGES) for (let c = lo; c <= hi; c++) chars.push(String.fromCharCode(c));
  const out = convert(chars.join('\n')).split('\n');
  const map = new Map<number, number>();
  if (out.length === chars.length) {
    for (let i = 0; i < chars.length; i++) {
      const from = chars[i]!;
      const to = out[i]!;
      if (to.length === 1 && to !== from) map.set(from.charCodeAt(0), to.charCodeAt(0));
    }
  }
  cached = map;
  return map;
}
