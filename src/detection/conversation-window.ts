import type { CompiledRule } from './rules/nodes.js';
import { hitsFor, type StepResult } from './rules/policy-set.js';
import type { CanonicalMessage, Hit } from './types.js';

/** The latest message that satisfied one step of a conversation rule. */
export interface StepEntry {
  msgid: string;
  /** UTC milliseconds. */
  time: number;
  /** Position in the conversation, counted from the message that opened the window. */
  index: number;
}

/**
 * One conversation rule's window in one conversation: what ingest keeps between batches (in
 * `detection_conversation_windows`) so a restart or another worker continues it.
 */
export interface WindowState {
  conversationId: string;
  ruleId: string;
  /** The rule's policy version when the window opened; another version starts a fresh window. */
  version: string;
  /** Messages of the conversation seen since the window opened: the next message's index. */
  count: number;
  /** Per step, the latest message that satisfied it. */
  steps: (StepEntry | null)[];
  /** Time of the latest message seen in the conversation. */
  lastTime: number;
}

const keyOf = (conversationId: string, ruleId: string): string => `${conversationId}\u0000${ruleId}`;

/**
 * Conversation rules over one batch of messages, starting from stored windows. The semantics are
 * ConversationTracker's ("every step within K messages and/or T minutes of the same conversation";
 * one message alone never completes a rule), kept in a form that fits a row per conversation and
 * rule: for each step only the latest message that satisfied it. For messages fed in time order
 * that is the message the tracker would find; the tracker's cap on remembered entries does not
 * apply. Feed messages in time order; then store `dirty()` and delete `closed()`.
 */
export class ConversationWindows {
  private readonly states = new Map<string, WindowState>();
  private readonly byConversation = new Map<string, WindowState[]>();
  private readonly touched = new Set<WindowState>();
  private readonly rules: ReadonlyMap<string, CompiledRule>;

  /**
   * @param stored windows loaded for the batch's conversations; ones of another rule version or
   *   step count are dropped (the rule changed: its windows restart, as Engine.swap does).
   * @param versionOf the current version of a rule's policy.
   */
  constructor(
    rules: readonly CompiledRule[],
    stored: readonly WindowState[],
    private readonly versionOf: (rule: CompiledRule) => string,
  ) {
    this.rules = new Map(rules.filter((r) => r.conversation).map((r) => [r.id, r]));
    for (const s of stored) {
      const rule = this.rules.get(s.ruleId);
      if (!rule || s.version !== versionOf(rule) || s.steps.length !== rule.conversation!.steps.length) {
        this.touched.add(s); // stale: deleted unless reopened below
        continue;
      }
      this.add(s);
    }
  }

  /** Conversation-rule hits completed by `m`, given its step results from evaluateMessage. */
  push(m: CanonicalMessage, steps: readonly StepResult[]): Hit[] {
    const open = this.byConversation.get(m.conversationId) ?? [];
    // A message already recorded in one of its conversation's windows was fed before (a retried
    // batch after commit): feeding it again would count it twice.
    if (open.some((s) => s.steps.some((e) => e?.msgid === m.msgid))) return [];
    for (const s of open) {
      s.count++;
      s.lastTime = Math.max(s.lastTime, m.time);
      this.touched.add(s);
    }
    const hits: Hit[] = [];
    for (const step of steps) {
      const rule = step.rule;
      const w = rule.conversation!;
      let s = this.states.get(keyOf(m.conversationId, rule.id));
      if (!s) {
        s = {
          conversationId: m.conversationId,
          ruleId: rule.id,
          version: this.versionOf(rule),
          count: 1,
          steps: w.steps.map(() => null),
          lastTime: m.time,
        };
        this.add(s);
        this.touched.add(s);
      }
      const index = s.count - 1;
      const related = new Set<string>();
      let complete = true;
      step.steps.forEach((ev, j) => {
        if (ev !== undefined) return;
        const prior = s.steps[j];
        if (
          prior &&
          (w.messages === undefined || prior.index > index - w.messages) &&
          (w.minutes === undefined || prior.time >= m.time - w.minutes * 60_000)
        )
          related.add(prior.msgid);
        else complete = false;
      });
      if (complete && related.size > 0)
        hits.push(
          ...hitsFor(
            rule,
            m,
            step.steps.flatMap((e) => e ?? []),
            [...related],
          ),
        );
      step.steps.forEach((ev, j) => {
        if (ev !== undefined) s.steps[j] = { msgid: m.msgid, time: m.time, index };
      });
    }
    return hits;
  }

  /** Windows changed by the batch that can still complete: to store. */
  dirty(): WindowState[] {
    return [...this.touched].filter((s) => this.isLive(s));
  }

  /**
   * Windows no later message can complete (every step aged out) or left by a changed rule: to
   * delete. A stale window replaced by a fresh one under the same key is not listed (the fresh one
   * is in dirty() and overwrites it).
   */
  closed(): WindowState[] {
    const live = new Set(this.dirty().map((s) => keyOf(s.conversationId, s.ruleId)));
    return [...this.touched].filter((s) => !this.isLive(s) && !live.has(keyOf(s.conversationId, s.ruleId)));
  }

  /** When the window's time limit passes for all its steps; undefined for message-count windows. */
  expiresAt(s: WindowState): number | undefined {
    const minutes = this.rules.get(s.ruleId)?.conversation?.minutes;
    if (minutes === undefined) return undefined;
    return Math.max(...s.steps.map((e) => e?.time ?? -Infinity)) + minutes * 60_000;
  }

  private isLive(s: WindowState): boolean {
    if (this.states.get(keyOf(s.conversationId, s.ruleId)) !== s) return false;
    const w = this.rules.get(s.ruleId)!.conversation!;
    return s.steps.some(
      (e) =>
        e !== null &&
        (w.messages === undefined || e.index > s.count - w.messages) &&
        (w.minutes === undefined || e.time >= s.lastTime - w.minutes * 60_000),
    );
  }

  private add(s: WindowState): void {
    this.states.set(keyOf(s.conversationId, s.ruleId), s);
    let list = this.byConversation.get(s.conversationId);
    if (!list) this.byConversation.set(s.conversationId, (list = []));
    list.push(s);
  }
}
