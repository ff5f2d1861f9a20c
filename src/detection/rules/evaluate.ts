import type { TermHit } from '../matcher/term-matcher.js';
import { foldedView } from '../normalize/fold.js';
import { detectPii, type PiiKind } from '../pii/detect.js';
import type { CanonicalMessage, MatchMethod } from '../types.js';
import type { CompiledScope, CondNode } from './nodes.js';

/** What made a condition true: a span of the text, or a behaviour (null span). */
export interface Evidence {
  term: string;
  start: number | null;
  end: number | null;
  matched: string | null;
  method: MatchMethod;
  methods: MatchMethod[];
}

export interface CondResult {
  ok: boolean;
  evidence: Evidence[];
}

const FALSE: CondResult = { ok: false, evidence: [] };

/** Per-message evaluation state: term hits by group, and lazily computed regex and PII results. */
export class MessageContext {
  private readonly byGroup = new Map<string, Evidence[]>();
  private readonly regexCache = new Map<CondNode, Evidence[]>();
  private readonly piiCache = new Map<PiiKind, Evidence[]>();
  private view?: string;

  constructor(
    readonly message: CanonicalMessage,
    termHits: readonly TermHit[],
  ) {
    for (const h of termHits) {
      const ev: Evidence = {
        term: h.term,
        start: h.start,
        end: h.end,
        matched: h.matched,
        method: h.method,
        methods: h.methods,
      };
      for (const g of h.groups) {
        let list = this.byGroup.get(g);
        if (!list) this.byGroup.set(g, (list = []));
        list.push(ev);
      }
    }
  }

  terms(groups: readonly string[]): Evidence[] {
    if (groups.length === 1) return this.byGroup.get(groups[0]!) ?? [];
    return groups.flatMap((g) => this.byGroup.get(g) ?? []);
  }

  regex(node: Extract<CondNode, { k: 'regex' }>): Evidence[] {
    let ev = this.regexCache.get(node);
    if (!ev) {
      ev = [];
      const text = this.message.text;
      this.view ??= foldedView(text);
      const m = node.re.matcher(node.raw ? text : this.view);
      while (m.find() && ev.length < 1000) {
        const start = m.start();
        const end = m.end();
        if (end === start) continue; // empty matches carry no evidence
        ev.push({
          term: node.source,
          start,
          end,
          matched: text.slice(start, end),
          method: 'regex',
          methods: ['regex'],
        });
      }
      this.regexCache.set(node, ev);
    }
    return ev;
  }

  pii(kinds: readonly PiiKind[]): Evidence[] {
    const out: Evidence[] = [];
    for (const kind of kinds) {
      let ev = this.piiCache.get(kind);
      if (!ev) {
        ev = detectPii(this.message.text, [kind]).map((h) => ({
          term: h.kind,
          start: h.start,
          end: h.end,
          matched: h.matched,
          method: 'pii' as const,
          methods: ['pii' as const],
        }));
        this.piiCache.set(kind, ev);
      }
      out.push(...ev);
    }
    return out;
  }
}

function gap(a: Evidence, b: Evidence): number {
  if (a.start === null || b.start === null || a.end === null || b.end === null) return Infinity;
  return Math.max(0, Math.max(a.start, b.start) - Math.min(a.end, b.end));
}

/** Evaluates a condition tree; `any`/`all` keep the evidence of every true branch. */
export function evaluate(node: CondNode, ctx: MessageContext): CondResult {
  switch (node.k) {
    case 'terms': {
      const ev = ctx.terms(node.groups);
      return ev.length > 0 ? { ok: true, evidence: ev } : FALSE;
    }
    case 'regex': {
      const ev = ctx.regex(node);
      return ev.length > 0 ? { ok: true, evidence: ev } : FALSE;
    }
    case 'pii': {
      const ev = ctx.pii(node.kinds);
      return ev.length > 0 ? { ok: true, evidence: ev } : FALSE;
    }
    case 'behaviour':
      return node.test(ctx.message)
        ? {
            ok: true,
            evidence: [
              {
                term: node.name,
                start: null,
                end: null,
                matched: null,
                method: 'behaviour',
                methods: ['behaviour'],
              },
            ],
          }
        : FALSE;
    case 'not':
      return evaluate(node.item, ctx).ok ? FALSE : { ok: true, evidence: [] };
    case 'all': {
      const evidence: Evidence[] = [];
      for (const item of node.items) {
        const r = evaluate(item, ctx);
        if (!r.ok) return FALSE;
        evidence.push(...r.evidence);
      }
      return { ok: true, evidence };
    }
    case 'any': {
      const evidence: Evidence[] = [];
      let ok = false;
      for (const item of node.items) {
        const r = evaluate(item, ctx);
        if (r.ok) {
          ok = true;
          evidence.push(...r.evidence);
        }
      }
      return ok ? { ok, evidence } : FALSE;
    }
    case 'near': {
      // Anchor on each span of the first condition; every other condition needs a span within range.
      const lists = node.items.map((i) => evaluate(i, ctx).evidence);
      if (lists.some((l) => l.length === 0)) return FALSE;
      const evidence = new Set<Evidence>();
      for (const anchor of lists[0]!) {
        const partners = lists
          .slice(1)
          .map((l) => l.filter((e) => e !== anchor && gap(anchor, e) <= node.within));
        if (partners.every((p) => p.length > 0)) {
          evidence.add(anchor);
          for (const p of partners) for (const e of p) evidence.add(e);
        }
      }
      return evidence.size > 0 ? { ok: true, evidence: [...evidence] } : FALSE;
    }
  }
}

/** Whether a message falls inside a rule's scope. */
export function inScope(scope: CompiledScope | undefined, m: CanonicalMessage): boolean {
  if (!scope) return true;
  if (scope.corpIds && !scope.corpIds.has(m.corpId)) return false;
  if (scope.employeeIds && !scope.employeeIds.has(m.senderId)) return false;
  if (scope.departmentIds && !m.senderDepartmentIds.some((d) => scope.departmentIds!.has(d))) return false;
  if (scope.sensitivePostsOnly && !m.senderSensitivePost) return false;
  if (scope.conversationKinds && !scope.conversationKinds.has(m.conversationKind)) return false;
  if (scope.directions && !scope.directions.has(m.direction)) return false;
  if (scope.senderKinds && !scope.senderKinds.has(m.senderKind)) return false;
  return true;
}
