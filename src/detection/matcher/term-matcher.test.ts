import { describe, expect, it } from 'vitest';
import { TermMatcher, type TermInput } from './term-matcher.js';
import type { TermOptions } from './term-patterns.js';

const EXACT: TermOptions = {
  evasion: false,
  pinyin: false,
  initials: false,
  homophone: false,
  wordBoundary: false,
};
const EVASION: TermOptions = { ...EXACT, evasion: true };

function matcher(terms: [string, Partial<TermOptions>?, string[]?][]): TermMatcher {
  const inputs: TermInput[] = terms.map(([text, opts, allow]) => ({
    text,
    options: { ...EVASION, ...opts },
    groups: ['g'],
    allow: allow ?? [],
  }));
  return new TermMatcher(inputs);
}

function found(m: TermMatcher, text: string): string[] {
  return m.scan(text).map((h) => `${h.term}@${h.start}-${h.end}:${h.method}`);
}

describe('evasion forms (each fails without its option)', () => {
  const cases: [string, string, Partial<TermOptions>, string][] = [
    ['回扣', '要点回 扣吗', {}, 'noise'],
    ['回扣', '回*_*扣', {}, 'noise'],
    ['回扣', '回\u200b扣', {}, 'noise'],
    ['回扣', '回😀扣', {}, 'noise'],
    ['保本收益', '保保本本收益', {}, 'repeat'],
    ['vx', '加ＶＸ', {}, 'fullwidth'],
    ['回扣', '給你迴扣', {}, 'traditional'],
    ['返点', '返點多少', {}, 'traditional'],
    ['8个点', '给你⑧个点', {}, 'number-form'],
    ['8个点', '给你捌个点', {}, 'number-form'],
    ['8个点', '给你８个点', {}, 'fullwidth'],
    ['vx', '加ⓥⓧ', {}, 'letter-form'],
    ['vx', '加vх', {}, 'letter-form'], // Cyrillic х
    ['vx', '加𝐯𝐱', {}, 'letter-form'],
    ['回扣', '回扌口', {}, 'split'],
  ];
  for (const [term, text, opts, method] of cases) {
    it(`${method}: ${term} in ${text}`, () => {
      const on = matcher([[term, opts]]).scan(text);
      expect(on.map((h) => h.method)).toContain(method);
      expect(matcher([[term, { ...opts, evasion: false }]]).scan(text)).toEqual([]);
    });
  }

  it('pinyin, mixed pinyin and initials only when enabled', () => {
    const on = matcher([['回扣', { pinyin: true, initials: true }]]);
    expect(found(on, '给点huikou')).toEqual(['回扣@2-8:pinyin']);
    expect(found(on, 'Hui Kou')).toEqual(['回扣@0-7:pinyin']);
    expect(found(on, '给点回kou')).toEqual(['回扣@2-6:pinyin']);
    expect(found(on, '给点hui扣')).toEqual(['回扣@2-6:pinyin']);
    expect(found(on, '有hk吗')).toEqual(['回扣@1-3:pinyin-initials']);
    const off = matcher([['回扣']]);
    expect(off.scan('huikou hk 回kou')).toEqual([]);
  });

  it('pinyin needs a word boundary before it, initials on both sides', () => {
    const m = matcher([['回扣', { pinyin: true, initials: true }]]);
    expect(m.scan('shuikou')).toEqual([]); // 水口
    expect(m.scan('hkust thanks')).toEqual([]);
    expect(found(m, 'huikoule')).toEqual(['回扣@0-6:pinyin']);
  });

  it('homophones only when enabled', () => {
    expect(found(matcher([['回扣', { homophone: true }]]), '灰口给到位')).toEqual(['回扣@0-2:homophone']);
    expect(found(matcher([['回扣', { homophone: true }]]), '回口')).toEqual(['回扣@0-2:homophone']);
    expect(matcher([['回扣']]).scan('灰口给到位')).toEqual([]);
  });

  it('reports the original span and text for highlighting', () => {
    const [hit] = matcher([['回扣']]).scan('老规矩😀，回 😀 扣照旧');
    expect(hit).toMatchObject({ start: 6, end: 12, matched: '回 😀 扣' });
  });
});

describe('evasion must not invent matches', () => {
  it('never joins across sentence punctuation or line breaks', () => {
    const m = matcher([['回扣', { pinyin: true, homophone: true }]]);
    for (const t of [
      '你先回，扣款的事明天说',
      '你先回。扣款明天',
      '回!扣',
      '回\n扣',
      '回；扣',
      '回、扣',
      '回：扣',
      'hui,kou',
    ]) {
      expect(m.scan(t), t).toEqual([]);
    }
  });

  it('limits the noise gap', () => {
    const m = matcher([['回扣']]);
    expect(m.scan('回' + ' '.repeat(8) + '扣')).toHaveLength(1);
    expect(m.scan('回' + ' '.repeat(9) + '扣')).toEqual([]);
    expect(m.scan('回' + '\u200b'.repeat(50) + '扣')).toHaveLength(1); // invisible chars are free
  });

  it('content characters between term characters break the match', () => {
    expect(matcher([['回扣']]).scan('回来扣')).toEqual([]);
  });

  it('allow-list phrases suppress overlapping hits only', () => {
    const m = matcher([
      ['回扣', {}, ['来回扣款']],
      ['保本', {}, ['确保本月']],
      ['返点', {}, ['往返点位']],
    ]);
    expect(m.scan('来回扣款两次')).toEqual([]);
    expect(m.scan('确保本月完成')).toEqual([]);
    expect(m.scan('往返点位确认')).toEqual([]);
    expect(found(m, '确保本月完成，这单保本')).toEqual(['保本@9-11:exact']);
    expect(found(m, '來 回 扣 款')).toEqual([]); // the allow phrase tolerates evasion too
  });

  it('word boundaries for Latin terms', () => {
    const m = matcher([['vx', { wordBoundary: true }]]);
    expect(m.scan('vxworks')).toEqual([]);
    expect(m.scan('devx')).toEqual([]);
    expect(found(m, '加vx聊')).toEqual(['vx@1-3:exact']);
    expect(found(m, '加vx一下')).toEqual(['vx@1-3:exact']); // 一 folds to 1 but is not Latin
    expect(found(matcher([['vx', { wordBoundary: false }]]), 'vxworks')).toEqual(['vx@0-2:exact']);
  });

  it('exact-only terms reject every fold but ASCII case', () => {
    const m = matcher([['VX', { evasion: false }]]);
    expect(m.scan('v x')).toEqual([]);
    expect(m.scan('ＶＸ')).toEqual([]);
    expect(found(m, 'vx')).toEqual(['VX@0-2:exact']);
  });
});

describe('overlaps and adversarial input', () => {
  it('reports overlapping and nested matches', () => {
    const m = matcher([['私下'], ['私下转'], ['下转'], ['转账']]);
    expect(found(m, '私下转账')).toEqual([
      '私下@0-2:exact',
      '私下转@0-3:exact',
      '下转@1-3:exact',
      '转账@2-4:exact',
    ]);
  });

  it('stays bounded on megabytes of noise and repeats', () => {
    const m = matcher([['回扣'], ['哈'], ['回扣款']]);
    const noise = '😀 ·~'.repeat(500_000) + '回扣';
    expect(found(m, noise)).toEqual([`回扣@${noise.length - 2}-${noise.length}:exact`]);
    const repeats = '回'.repeat(1_000_000) + '扣款';
    expect(found(m, repeats)).toEqual(['回扣@999999-1000001:exact', '回扣款@999999-1000002:exact']);
    const many = '哈'.repeat(200_000);
    const hits = m.scan(many);
    expect(hits.length).toBe(10_000); // capped at maxCandidates
    expect(m.truncated).toBe(true);
  });
});
