import { TermMatcher } from '../matcher/term-matcher.js';
import type { ScanLimits } from '../matcher/scanner.js';
import type { CanonicalMessage, Hit } from '../types.js';
import { compileDocuments } from './compile.js';
import { MessageContext, evaluate, inScope, type Evidence } from './evaluate.js';
import type { CompiledRule } from './nodes.js';

/** Conversation-rule step results for one message, consumed by ConversationTracker. */
export interface StepResult {
  rule: CompiledRule;
  /** Evidence per step index; undefined where the step is false for this message. */
  steps: (Evidence[] | undefined)[];
}

/** Converts evidence into hits, one per distinct evidence span. */
export function hitsFor(
  rule: CompiledRule,
  m: CanonicalMessage,
  evidence: readonly Evidence[],
  related?: string[],
): Hit[] {
  const seen = new Set<string>();
  const hits: Hit[] = [];
  const list =
    evidence.length > 0
      ? evidence
      : [
          {
            term: rule.id,
            start: null,
            end: null,
            matched: null,
            method: 'behaviour' as const,
            methods: ['behaviour' as const],
          },
        ];
  for (const e of list) {
    const key = `${e.term}:${e.start}:${e.end}`;
    if (seen.has(key)) continue;
    seen.add(key);
    hits.push({
      msgid: m.msgid,
      conversationId: m.conversationId,
      corpId: m.corpId,
      time: m.time,
      ruleId: rule.id,
      ruleName: rule.name,
      category: rule.category,
      severity: rule.severity,
      term: e.term,
      start: e.start,
      end: e.end,
      matched: e.matched,
      method: e.method,
      methods: e.methods,
      ...(related && related.length > 0 ? { relatedMsgids: related } : {}),
    });
  }
  return hits;
}

/**
 * An immutable compiled policy set: its rules and one automaton for every term they use. Build
 * one with `compilePolicySet`, hand it to an Engine, and replace it wholesale to change policy.
 */
export class CompiledPolicySet {
  readonly ids: readonly string[];
  readonly rules: readonly CompiledRule[];
  readonly matcher: TermMatcher;
  readonly messageRules: readonly CompiledRule[];
  readonly conversationRules: readonly CompiledRule[];

  constructor(ids: readonly string[], rules: readonly CompiledRule[], matcher: TermMatcher) {
    this.ids = ids;
    this.rules = rules;
    this.matcher = matcher;
    this.messageRules = rules.filter((r) => r.when);
    this.conversationRules = rules.filter((r) => r.conversation);
    Object.freeze(this);
  }

  /** Evaluates message-level rules and the per-message steps of conversation rules. */
  evaluateMessage(m: CanonicalMessage): { hits: Hit[]; steps: StepResult[] } {
    const ctx = new MessageContext(m, m.text.length > 0 ? this.matcher.scan(m.text) : []);
    const hits: Hit[] = [];
    for (const rule of this.messageRules) {
      if (!inScope(rule.scope, m)) continue;
      const r = evaluate(rule.when!, ctx);
      if (!r.ok) continue;
      if (rule.exclude && evaluate(rule.exclude, ctx).ok) continue;
      hits.push(...hitsFor(rule, m, r.evidence));
    }
    const steps: StepResult[] = [];
    for (const rule of this.conversationRules) {
      if (!inScope(rule.scope, m)) continue;
      if (rule.exclude && evaluate(rule.exclude, ctx).ok) continue;
      const results = rule.conversation!.steps.map((s) => {
        const r = evaluate(s, ctx);
        return r.ok ? r.evidence : undefined;
      });
      if (results.some((r) => r !== undefined)) steps.push({ rule, steps: results });
    }
    return { hits, steps };
  }

  /** Message-level hits only (conversation rules need a ConversationTracker). */
  scanMessage(m: CanonicalMessage): Hit[] {
    return this.evaluateMessage(m).hits;
  }
}

/**
 * Compiles policy documents (already parsed from YAML/JSON) into a CompiledPolicySet. Throws
 * PolicyError naming each bad rule or lexicon and what is wrong with it.
 */
export function compilePolicySet(
  docs: unknown | readonly unknown[],
  limits: Partial<ScanLimits> = {},
): CompiledPolicySet {
  const list = Array.isArray(docs) ? docs : [docs];
  const compiled = compileDocuments(list);
  return new CompiledPolicySet(compiled.ids, compiled.rules, new TermMatcher(compiled.terms, limits));
}
