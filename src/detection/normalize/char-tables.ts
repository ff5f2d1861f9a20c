/** Small hand-written tables the Unicode data does not give us: look-alikes, number forms, splits. */

/** Cyrillic and Greek letters that render like Latin ones (lower case; input is lower-cased first). */
export const LOOKALIKE_LETTERS: Readonly<Record<string, string>> = {
  а: 'a',
  в: 'b',
  е: 'e',
  ё: 'e',
  һ: 'h',
  н: 'h',
  і: 'i',
  ј: 'j',
  к: 'k',
  м: 'm',
  о: 'o',
  р: 'p',
  с: 'c',
  т: 't',
  у: 'y',
  х: 'x',
  ѕ: 's',
  ԁ: 'd',
  ԛ: 'q',
  ԝ: 'w',
  ո: 'n',
  α: 'a',
  β: 'b',
  ε: 'e',
  η: 'n',
  ι: 'i',
  κ: 'k',
  ν: 'v',
  ο: 'o',
  ρ: 'p',
  τ: 't',
  υ: 'u',
  χ: 'x',
  ω: 'w',
  γ: 'y',
  μ: 'u',
};

/** Chinese numerals (plain and financial) folded to ASCII digits so 八/捌/8/⑧ compare equal. */
export const CHINESE_DIGITS: Readonly<Record<string, string>> = {
  〇: '0',
  零: '0',
  一: '1',
  壹: '1',
  二: '2',
  贰: '2',
  貳: '2',
  三: '3',
  叁: '3',
  參: '3',
  四: '4',
  肆: '4',
  五: '5',
  伍: '5',
  六: '6',
  陆: '6',
  陸: '6',
  七: '7',
  柒: '7',
  八: '8',
  捌: '8',
  九: '9',
  玖: '9',
  拾: '十',
  佰: '百',
  仟: '千',
};

/** Code point ranges of digit forms NFKC leaves alone: dingbat and double circled digits. */
export const EXTRA_NUMBER_RANGES: readonly (readonly [number, number, number])[] = [
  // [first code point, last code point, value of the first]
  [0x2776, 0x277f, 1], // ❶–❿
  [0x2780, 0x2789, 1], // ➀–➉
  [0x278a, 0x2793, 1], // ➊–➓
  [0x24f5, 0x24fe, 1], // ⓵–⓾
  [0x24eb, 0x24f4, 11], // ⓫–⓴
  [0x24ff, 0x24ff, 0], // ⓿
];

/** Enclosed letter blocks NFKC leaves alone (negative circled/squared, regional indicators). */
export const EXTRA_LETTER_RANGES: readonly (readonly [number, number])[] = [
  [0x1f150, 0x1f169], // 🅐–🅩
  [0x1f170, 0x1f189], // 🅰–🆉
  [0x1f1e6, 0x1f1ff], // regional indicators 🇦–🇿
  [0x1f130, 0x1f149], // 🄰–🅉
];

/**
 * Characters people type as their components to dodge filters (扌口 for 扣). Kept to the words our
 * lexicons care about; a full decomposition table would mostly produce noise.
 */
export const SPLIT_FORMS: Readonly<Record<string, readonly string[]>> = {
  扣: ['扌口'],
  赚: ['贝兼'],
  账: ['贝长'],
  贿: ['贝有'],
  赂: ['贝各'],
  钱: ['钅戋'],
  银: ['钅艮'],
  款: ['士示欠'],
  保: ['亻呆'],
  删: ['册刂'],
  私: ['禾厶'],
  好: ['女子'],
  妈: ['女马'],
  加: ['力口'],
  返: ['反辶'],
  利: ['禾刂'],
  现: ['王见'],
  转: ['车专'],
};

/**
 * Sentence punctuation and line breaks: hard boundaries that noise skipping never crosses, so
 * "你先回，扣款…" cannot read as 回扣. Compared after NFKC, so full-width forms are covered.
 */
export const BOUNDARY_CHARS = new Set([
  '\n',
  '\r',
  '\u2028',
  '\u2029',
  '\u0085',
  '\u000b',
  '\u000c',
  ',',
  ';',
  '!',
  '?',
  ':',
  '。',
  '、',
  '｡',
  '､',
  '¡',
  '¿',
  '‼',
  '⁇',
  '⁈',
  '⁉',
]);
