import type { Evidence } from './rules/evaluate.js';
import { hitsFor, type CompiledPolicySet } from './rules/policy-set.js';
import type { CanonicalMessage, Hit } from './types.js';

interface Entry {
  msgid: string;
  time: number;
  index: number;
  /** rule id → evidence per step (undefined where the step was false). */
  steps: Map<string, (Evidence[] | undefined)[]>;
}

interface ConversationState {
  count: number;
  entries: Entry[];
}

export interface TrackerOptions {
  /** Conversations kept in memory; the least recently active are forgotten first. */
  maxConversations: number;
  /** Remembered messages (those that satisfied some step) per conversation. */
  maxEntriesPerConversation: number;
}

/**
 * Evaluates a policy set over a stream of messages, adding conversation-level rules: "all of these
 * steps within K messages and/or T minutes of the same conversation". Feed each conversation's
 * messages in time order. Memory is bounded by the options; state is per tracker (one per policy
 * set: swapping policy starts fresh windows).
 */
export class ConversationTracker {
  private readonly conversations = new Map<string, ConversationState>();
  private readonly opts: TrackerOptions;
  private readonly keepMessages: number;
  private readonly keepMs: number;

  constructor(
    readonly policy: CompiledPolicySet,
    opts: Partial<TrackerOptions> = {},
  ) {
    this.opts = { maxConversations: 50_000, maxEntriesPerConversation: 500, ...opts };
    const rules = policy.conversationRules.map((r) => r.conversation!);
    this.keepMessages = Math.max(0, ...rules.map((r) => r.messages ?? 0));
    this.keepMs = Math.max(0, ...rules.map((r) => (r.minutes ?? 0) * 60_000));
  }

  /** Hits for one message: message-level rules plus any conversation rule it completes. */
  push(m: CanonicalMessage): Hit[] {
    const { hits, steps } = this.policy.evaluateMessage(m);
    if (this.policy.conversationRules.length === 0) return hits;
    let conv = this.conversations.get(m.conversationId);
    if (conv)
      this.conversations.delete(m.conversationId); // re-insert: Map order doubles as LRU
    else conv = { count: 0, entries: [] };
    this.conversations.set(m.conversationId, conv);
    if (this.conversations.size > this.opts.maxConversations) {
      this.conversations.delete(this.conversations.keys().next().value!);
    }
    const index = conv.count++;
    this.evict(conv, index, m.time);
    for (const step of steps) {
      const w = step.rule.conversation!;
      const inWindow = (e: Entry): boolean =>
        (w.messages === undefined || e.index > index - w.messages) &&
        (w.minutes === undefined || e.time >= m.time - w.minutes * 60_000);
      const related = new Set<string>();
      let complete = true;
      step.steps.forEach((ev, j) => {
        if (ev !== undefined) return;
        const prior = conv.entries.findLast(
          (e) => inWindow(e) && e.steps.get(step.rule.id)?.[j] !== undefined,
        );
        if (prior) related.add(prior.msgid);
        else complete = false;
      });
      if (complete && related.size > 0) {
        hits.push(
          ...hitsFor(
            step.rule,
            m,
            step.steps.flatMap((e) => e ?? []),
            [...related],
          ),
        );
      }
    }
    if (steps.length > 0) {
      conv.entries.push({
        msgid: m.msgid,
        time: m.time,
        index,
        steps: new Map(steps.map((s) => [s.rule.id, s.steps])),
      });
      if (conv.entries.length > this.opts.maxEntriesPerConversation) conv.entries.shift();
    }
    return hits;
  }

  private evict(conv: ConversationState, index: number, now: number): void {
    const keep = (e: Entry): boolean =>
      (this.keepMessages > 0 && e.index > index - this.keepMessages) ||
      (this.keepMs > 0 && e.time >= now - this.keepMs);
    while (conv.entries.length > 0 && !keep(conv.entries[0]!)) conv.entries.shift();
  }

  /** Number of conversations currently remembered. */
  get size(): number {
    return this.conversations.size;
  }
}
