import { describe, expect, it } from 'vitest';
import { prng } from '../../test/support/prng.js';
import { ConversationTracker } from './conversation.js';
import { ConversationWindows, type WindowState } from './conversation-window.js';
import { compilePolicySet } from './rules/policy-set.js';
import { message } from './test-support.js';
import type { CanonicalMessage, Hit } from './types.js';

const policy = compilePolicySet({
  id: 'win',
  name: 'win',
  lexicons: [{ id: 'price', terms: ['底价'] }],
  rules: [
    {
      id: 'both',
      name: 'price then private, 3 messages and 10 minutes',
      category: 'c',
      severity: 'high',
      conversation: { messages: 3, minutes: 10, all: [{ lexicon: 'price' }, { term: '私下' }] },
    },
    {
      id: 'count',
      name: 'three steps within 5 messages',
      category: 'c',
      severity: 'low',
      conversation: { messages: 5, all: [{ term: '回扣' }, { term: '私下' }, { term: '转账' }] },
    },
    {
      id: 'time',
      name: 'two steps within 4 minutes',
      category: 'c',
      severity: 'medium',
      conversation: { minutes: 4, all: [{ term: '转账' }, { lexicon: 'price' }] },
    },
  ],
});

const t0 = Date.UTC(2024, 0, 1);
const version = () => 'v1';
const summary = (hits: Hit[]) =>
  hits.map((h) => `${h.ruleId}@${h.msgid}<${(h.relatedMsgids ?? []).join(',')}>`);

/**
 * Runs messages through ConversationWindows in batches, as ingest does: each batch starts from
 * the windows the previous one stored (round-tripped through JSON like the jsonb column).
 */
function runInBatches(messages: CanonicalMessage[], cuts: number[]): string[] {
  let stored: WindowState[] = [];
  const out: string[] = [];
  let from = 0;
  for (const to of [...cuts, messages.length]) {
    const batch = messages.slice(from, to);
    from = to;
    const w = new ConversationWindows(policy.conversationRules, stored, version);
    for (const m of batch) out.push(...summary(w.push(m, policy.evaluateMessage(m).steps)));
    const closed = new Set(w.closed());
    const dirty = new Map(w.dirty().map((s) => [`${s.conversationId}/${s.ruleId}`, s]));
    stored = [
      ...stored.filter((s) => !dirty.has(`${s.conversationId}/${s.ruleId}`) && !closed.has(s)),
      ...dirty.values(),
    ].map((s) => JSON.parse(JSON.stringify(s)) as WindowState);
  }
  return out;
}

describe('conversation windows kept between batches', () => {
  it('equal the in-memory tracker however the stream is split (500 random streams)', () => {
    const rand = prng(41);
    const texts = ['底价多少', '私下说', '回扣', '转账', '好的', '底价私下', '转账回扣'];
    let fired = 0;
    for (let iter = 0; iter < 500; iter++) {
      let time = t0;
      const messages = Array.from({ length: 5 + Math.floor(rand() * 40) }, (_, i) => {
        time += Math.floor(rand() * 4) * 60_000;
        return message({
          msgid: `m${i}`,
          text: texts[Math.floor(rand() * texts.length)]!,
          time,
          conversationId: rand() < 0.7 ? 'a' : 'b',
        });
      });
      const tracker = new ConversationTracker(policy);
      const expected = messages.flatMap((m) => summary(tracker.push(m).filter((h) => h.relatedMsgids)));
      const cuts = [
        ...new Set(
          Array.from({ length: Math.floor(rand() * 6) }, () => Math.floor(rand() * messages.length)),
        ),
      ].sort((a, b) => a - b);
      expect(runInBatches(messages, cuts), JSON.stringify({ iter, cuts })).toEqual(expected);
      fired += expected.length;
    }
    expect(fired).toBeGreaterThan(500); // the streams do exercise the windows
  });

  it('fires once when the steps arrive in separate batches, and not for a replayed message', () => {
    const first = new ConversationWindows(policy.conversationRules, [], version);
    const p1 = message({ msgid: 'p1', text: '底价', time: t0 });
    expect(first.push(p1, policy.evaluateMessage(p1).steps)).toEqual([]);
    const stored = first.dirty();
    expect(stored.map((s) => s.ruleId).sort()).toEqual(['both', 'time']);

    const second = new ConversationWindows(policy.conversationRules, stored, version);
    const p2 = message({ msgid: 'p2', text: '私下', time: t0 + 60_000 });
    expect(summary(second.push(p2, policy.evaluateMessage(p2).steps))).toEqual(['both@p2<p1>']);
    // The same message fed again (a batch retried after it committed) is not counted again.
    expect(second.push(p2, policy.evaluateMessage(p2).steps)).toEqual([]);
    expect(second.dirty().find((s) => s.ruleId === 'both')?.count).toBe(2);
  });

  it('closes windows that can no longer complete, and restarts those of a changed policy', () => {
    const w = new ConversationWindows(policy.conversationRules, [], version);
    const p1 = message({ msgid: 'p1', text: '转账', time: t0 });
    w.push(p1, policy.evaluateMessage(p1).steps);
    const p2 = message({ msgid: 'p2', text: '好的', time: t0 + 5 * 60_000 });
    w.push(p2, policy.evaluateMessage(p2).steps);
    // 'time' (4 minutes) has aged out; 'count' (5 messages) is still open.
    expect(w.closed().map((s) => s.ruleId)).toEqual(['time']);
    expect(w.dirty().map((s) => s.ruleId)).toEqual(['count']);
    expect(w.expiresAt(w.closed()[0]!)).toBe(t0 + 4 * 60_000);

    const changed = new ConversationWindows(policy.conversationRules, w.dirty(), () => 'v2');
    const p3 = message({ msgid: 'p3', text: '回扣', time: t0 + 6 * 60_000 });
    const p4 = message({ msgid: 'p4', text: '私下', time: t0 + 6 * 60_000 });
    changed.push(p3, policy.evaluateMessage(p3).steps);
    expect(changed.push(p4, policy.evaluateMessage(p4).steps)).toEqual([]); // p1 belonged to v1
    expect(changed.dirty().map((s) => [s.ruleId, s.version, s.steps.map((e) => e?.msgid ?? null)])).toEqual([
      ['count', 'v2', ['p3', 'p4', null]],
      ['both', 'v2', [null, 'p4']],
    ]);
    expect(changed.closed()).toEqual([]); // the v1 row is overwritten by the fresh one
  });
});
