import { describe, expect, it } from 'vitest';
import { message } from '../test-support.js';
import { PolicyError } from './errors.js';
import { compilePolicySet } from './policy-set.js';

const base = {
  id: 'test',
  name: 'test',
  lexicons: [
    { id: 'money', terms: ['转账', '打款'] },
    { id: 'private', terms: ['私下', '个人卡'] },
  ],
};

function errorOf(doc: unknown): string {
  try {
    compilePolicySet(doc);
  } catch (e) {
    expect(e).toBeInstanceOf(PolicyError);
    return (e as Error).message;
  }
  throw new Error('expected a PolicyError');
}

describe('rule language errors name the rule and the problem', () => {
  const rule = (when: unknown, extra: object = {}) => ({
    ...base,
    rules: [{ id: 'r1', name: 'R', category: 'c', severity: 'high', when, ...extra }],
  });

  it('unknown lexicon', () =>
    expect(errorOf(rule({ lexicon: 'nope' }))).toMatch(/rule r1 at when\.lexicon: unknown lexicon "nope"/));
  it('invalid regex', () =>
    expect(errorOf(rule({ regex: '(a' }))).toMatch(/rule r1 at when\.regex: invalid regular expression/));
  it('ReDoS-prone lookaround is rejected', () =>
    expect(errorOf(rule({ regex: '(?=a)b' }))).toMatch(/rule r1.*invalid regular expression/));
  it('unknown condition key', () =>
    expect(errorOf(rule({ lexcon: 'money' }))).toMatch(/rule r1 at when: unknown condition "lexcon"/));
  it('two keys in one condition', () =>
    expect(errorOf(rule({ lexicon: 'money', term: 'x' }))).toMatch(/exactly one key/));
  it('bad severity', () =>
    expect(errorOf(rule({ lexicon: 'money' }, { severity: 'urgent' }))).toMatch(/rule r1 at severity/));
  it('near needs within', () =>
    expect(errorOf(rule({ near: { all: [{ lexicon: 'money' }, { lexicon: 'private' }] } }))).toMatch(
      /near needs/,
    ));
  it('bad pii kind', () => expect(errorOf(rule({ pii: 'ssn' }))).toMatch(/rule r1 at when\.pii/));
  it('term with a sentence boundary', () =>
    expect(errorOf(rule({ term: '你好，世界' }))).toMatch(/sentence punctuation/));
  it('bad time zone', () =>
    expect(errorOf(rule({ offHours: { timezone: 'Mars/Base' } }))).toMatch(/unknown time zone/));
  it('duplicate rule ids', () => {
    const doc = {
      ...base,
      rules: [
        { id: 'r1', name: 'a', category: 'c', severity: 'low', when: { lexicon: 'money' } },
        { id: 'r1', name: 'b', category: 'c', severity: 'low', when: { lexicon: 'money' } },
      ],
    };
    expect(errorOf(doc)).toMatch(/rule r1 at id: duplicate rule id/);
  });
  it('lists several problems at once', () => {
    const doc = {
      ...base,
      rules: [
        { id: 'a', name: 'a', category: 'c', severity: 'low', when: { lexicon: 'x' } },
        { id: 'b', name: 'b', category: 'c', severity: 'low', when: { regex: '[' } },
      ],
    };
    const msg = errorOf(doc);
    expect(msg).toMatch(/rule a/);
    expect(msg).toMatch(/rule b/);
  });
});

describe('rule evaluation', () => {
  const policy = compilePolicySet({
    ...base,
    rules: [
      {
        id: 'and',
        name: 'and',
        category: 'c',
        severity: 'high',
        when: { all: [{ lexicon: 'money' }, { lexicon: 'private' }] },
      },
      {
        id: 'near',
        name: 'near',
        category: 'c',
        severity: 'high',
        when: { near: { all: [{ lexicon: 'money' }, { lexicon: 'private' }], within: 3 } },
      },
      {
        id: 'not',
        name: 'not',
        category: 'c',
        severity: 'low',
        when: { all: [{ lexicon: 'money' }, { not: { term: '公户' } }] },
      },
      {
        id: 'scoped',
        name: 'scoped',
        category: 'c',
        severity: 'low',
        when: { lexicon: 'money' },
        scope: { departmentIds: [7], directions: ['outbound'] },
      },
      {
        id: 'excluded',
        name: 'ex',
        category: 'c',
        severity: 'low',
        when: { lexicon: 'money' },
        exclude: { term: '工资' },
      },
      { id: 'pii', name: 'pii', category: 'c', severity: 'low', when: { pii: 'mobile' } },
      {
        id: 'regex',
        name: 're',
        category: 'c',
        severity: 'low',
        when: { regex: { pattern: 'order-\\d+', ignoreCase: true } },
      },
      { id: 'rp', name: 'rp', category: 'c', severity: 'low', when: { redpacket: { minAmountFen: 20000 } } },
      {
        id: 'night',
        name: 'night',
        category: 'c',
        severity: 'low',
        when: { all: [{ mediaToExternal: true }, { offHours: {} }] },
      },
      { id: 'consent', name: 'consent', category: 'c', severity: 'low', when: { consentWithdrawn: true } },
      { id: 'card', name: 'card', category: 'c', severity: 'low', when: { contactCard: 'external' } },
      { id: 'big', name: 'big', category: 'c', severity: 'low', when: { fileSize: { minBytes: 1000 } } },
    ],
  });
  const rules = (m: Parameters<typeof policy.scanMessage>[0]) =>
    [...new Set(policy.scanMessage(m).map((h) => h.ruleId))].sort();

  it('AND, NOT, proximity', () => {
    expect(rules(message({ text: '私下转账' }))).toEqual(['and', 'excluded', 'near', 'not']);
    expect(rules(message({ text: '私下说一下，这笔钱下周再转账' }))).toEqual(['and', 'excluded', 'not']);
    expect(rules(message({ text: '转账到公户' }))).toEqual(['excluded']);
  });

  it('scope and exclusions', () => {
    expect(rules(message({ text: '转账', senderDepartmentIds: [7] }))).toContain('scoped');
    expect(rules(message({ text: '转账', senderDepartmentIds: [7], direction: 'inbound' }))).not.toContain(
      'scoped',
    );
    expect(rules(message({ text: '工资转账' }))).not.toContain('excluded');
  });

  it('PII, regex and hit offsets', () => {
    const hits = policy.scanMessage(message({ text: '电话13812345678，单号ORDER-42' }));
    expect(hits.find((h) => h.ruleId === 'pii')).toMatchObject({
      start: 2,
      end: 13,
      matched: '13812345678',
      method: 'pii',
    });
    expect(hits.find((h) => h.ruleId === 'regex')).toMatchObject({ matched: 'ORDER-42', method: 'regex' });
  });

  it('behaviour conditions', () => {
    expect(rules(message({ msgtype: 'redpacket', redpacketAmountFen: 20000 }))).toEqual(['rp']);
    expect(rules(message({ msgtype: 'external_redpacket', redpacketAmountFen: 19999 }))).toEqual([]);
    const night = Date.UTC(2024, 5, 3, 14, 0); // 22:00 Shanghai, Monday
    expect(rules(message({ msgtype: 'file', time: night, fileSize: 10 }))).toEqual(['night']);
    expect(rules(message({ msgtype: 'file', fileSize: 10 }))).toEqual([]);
    expect(rules(message({ msgtype: 'file', time: night, recipientsExternal: false }))).toEqual([]);
    expect(rules(message({ msgtype: 'disagree' }))).toEqual(['consent']);
    expect(rules(message({ msgtype: 'card', cardUserId: 'wmABC' }))).toEqual(['card']);
    expect(rules(message({ msgtype: 'card', cardUserId: 'lisi' }))).toEqual([]);
    expect(rules(message({ msgtype: 'video', fileSize: 5000 }))).toEqual(['big']);
  });
});
