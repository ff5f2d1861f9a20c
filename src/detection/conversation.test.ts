import { describe, expect, it } from 'vitest';
import { ConversationTracker } from './conversation.js';
import { Engine } from './engine.js';
import { compilePolicySet } from './rules/policy-set.js';
import { message } from './test-support.js';

const policy = compilePolicySet({
  id: 'conv',
  name: 'conv',
  lexicons: [{ id: 'price', terms: ['底价'] }],
  rules: [
    {
      id: 'price-then-private',
      name: 'price then private',
      category: 'c',
      severity: 'high',
      conversation: { messages: 3, minutes: 10, all: [{ lexicon: 'price' }, { term: '私下' }] },
    },
  ],
});

const t0 = Date.UTC(2024, 0, 1);
const msg = (i: number, text: string, minute: number, conversationId = 'a') =>
  message({ msgid: `m${i}`, text, time: t0 + minute * 60_000, conversationId });

describe('conversation-level proximity', () => {
  it('fires when the steps meet within K messages and T minutes', () => {
    const tr = new ConversationTracker(policy);
    expect(tr.push(msg(1, '底价多少', 0))).toEqual([]);
    const hits = tr.push(msg(2, '私下说', 1));
    expect(hits).toHaveLength(1);
    expect(hits[0]).toMatchObject({
      ruleId: 'price-then-private',
      msgid: 'm2',
      relatedMsgids: ['m1'],
      matched: '私下',
    });
  });

  it('respects the message window', () => {
    const tr = new ConversationTracker(policy);
    tr.push(msg(1, '底价多少', 0));
    tr.push(msg(2, '好的', 0));
    tr.push(msg(3, '嗯', 0));
    expect(tr.push(msg(4, '私下说', 1))).toEqual([]);
  });

  it('respects the time window', () => {
    const tr = new ConversationTracker(policy);
    tr.push(msg(1, '底价多少', 0));
    expect(tr.push(msg(2, '私下说', 11))).toEqual([]);
  });

  it('keeps conversations apart', () => {
    const tr = new ConversationTracker(policy);
    tr.push(msg(1, '底价多少', 0, 'a'));
    expect(tr.push(msg(2, '私下说', 1, 'b'))).toEqual([]);
  });

  it('one message alone never completes a two-step rule', () => {
    expect(new ConversationTracker(policy).push(msg(1, '底价私下说', 0))).toEqual([]);
  });

  it('bounds the number of remembered conversations', () => {
    const tr = new ConversationTracker(policy, { maxConversations: 10 });
    for (let i = 0; i < 100; i++) tr.push(msg(i, '底价', 0, `c${i}`));
    expect(tr.size).toBe(10);
  });
});

describe('Engine', () => {
  it('swaps policy sets atomically and restarts windows', () => {
    const other = compilePolicySet({
      id: 'o',
      name: 'o',
      rules: [{ id: 'x', name: 'x', category: 'c', severity: 'low', when: { term: '底价' } }],
    });
    const engine = new Engine(policy);
    engine.process(msg(1, '底价多少', 0));
    expect(engine.swap(other)).toBe(policy);
    expect(engine.policy).toBe(other);
    expect(engine.process(msg(2, '底价', 1)).map((h) => h.ruleId)).toEqual(['x']);
    expect(Object.isFrozen(other)).toBe(true);
  });
});
