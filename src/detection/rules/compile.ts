import { RE2JS } from 're2js';
import type { z } from 'zod';
import { TermError, defaultWordBoundary, validateTerm, type TermOptions } from '../matcher/term-patterns.js';
import type { TermInput } from '../matcher/term-matcher.js';
import { PII_KINDS, type PiiKind } from '../pii/detect.js';
import { isExternalId, isOffHours, isRedpacket, isTimeZone } from './behaviour.js';
import { PolicyError, type PolicyIssue } from './errors.js';
import type { CompiledRule, CompiledScope, CondNode } from './nodes.js';
import {
  COMPOSITE_KEYS,
  leafConditionSchemas,
  policySetSchema,
  ruleSchema,
  type LeafKey,
  type LexiconDoc,
  type PolicySetDoc,
  type ScopeDoc,
  type TermDoc,
} from './schema.js';

type TermOptionDoc = {
  evasion?: boolean;
  exact?: boolean;
  pinyin?: boolean;
  initials?: boolean;
  homophone?: boolean;
  wordBoundary?: boolean;
};

/** What compilation hands to CompiledPolicySet: rules plus the terms for one shared automaton. */
export interface CompiledDocs {
  ids: string[];
  rules: CompiledRule[];
  terms: TermInput[];
}

function formatZod(err: z.ZodError): { path: string; message: string }[] {
  return err.issues.map((i) => ({
    path: i.path
      .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
      .join('')
      .replace(/^\./, ''),
    message: i.message,
  }));
}

function resolveOptions(text: string, ...layers: (TermOptionDoc | undefined)[]): TermOptions {
  const merged: TermOptionDoc = Object.assign({}, ...layers.filter(Boolean));
  const evasion = merged.exact === true ? false : (merged.evasion ?? true);
  return {
    evasion,
    pinyin: merged.pinyin ?? false,
    initials: merged.initials ?? false,
    homophone: merged.homophone ?? false,
    wordBoundary: merged.wordBoundary ?? defaultWordBoundary(text),
  };
}

class Compiler {
  readonly issues: PolicyIssue[] = [];
  readonly terms: TermInput[] = [];
  readonly rules: CompiledRule[] = [];
  private lexicons = new Map<string, string>(); // "<set>/<lexicon>" → group key
  private inline = 0;

  issue(where: string, path: string, message: string): void {
    this.issues.push({ where, path, message });
  }

  addTerm(
    doc: TermDoc,
    group: string,
    where: string,
    path: string,
    inherited?: TermOptionDoc,
    allow: readonly string[] = [],
  ): void {
    const text = typeof doc === 'string' ? doc : doc.text;
    const own = typeof doc === 'string' ? undefined : doc;
    const extraAllow = typeof doc === 'string' ? [] : (doc.allow ?? []);
    try {
      validateTerm(text);
      for (const a of [...allow, ...extraAllow]) validateTerm(a);
    } catch (e) {
      if (e instanceof TermError) return this.issue(where, path, e.message);
      throw e;
    }
    this.terms.push({
      text,
      options: resolveOptions(text, inherited, own),
      groups: [group],
      allow: [...allow, ...extraAllow],
    });
  }

  addLexicon(setId: string, lex: LexiconDoc, index: number): void {
    const key = `${setId}/${lex.id}`;
    if (this.lexicons.has(key))
      return this.issue(`lexicon ${lex.id}`, `lexicons[${index}]`, 'duplicate lexicon id');
    this.lexicons.set(key, key);
    lex.terms.forEach((t, i) =>
      this.addTerm(t, key, `lexicon ${lex.id}`, `terms[${i}]`, lex.options, lex.allow ?? []),
    );
  }

  condition(raw: unknown, setId: string, where: string, path: string): CondNode | undefined {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      this.issue(where, path, 'a condition must be an object with one key, e.g. { lexicon: bribery }');
      return undefined;
    }
    const keys = Object.keys(raw);
    if (keys.length !== 1) {
      this.issue(
        where,
        path,
        `a condition needs exactly one key, got ${keys.length === 0 ? 'none' : keys.join(', ')}`,
      );
      return undefined;
    }
    const key = keys[0]!;
    const value = (raw as Record<string, unknown>)[key];
    const sub = `${path}.${key}`;
    if ((COMPOSITE_KEYS as readonly string[]).includes(key))
      return this.composite(key, value, setId, where, sub);
    if (!(key in leafConditionSchemas)) {
      const known = [...COMPOSITE_KEYS, ...Object.keys(leafConditionSchemas)].join(', ');
      this.issue(where, path, `unknown condition "${key}" (known: ${known})`);
      return undefined;
    }
    const parsed = leafConditionSchemas[key as LeafKey].safeParse(value);
    if (!parsed.success) {
      for (const i of formatZod(parsed.error))
        this.issue(where, i.path ? `${sub}.${i.path}` : sub, i.message);
      return undefined;
    }
    return this.leaf(key as LeafKey, parsed.data, setId, where, sub);
  }

  private composite(
    key: string,
    value: unknown,
    setId: string,
    where: string,
    path: string,
  ): CondNode | undefined {
    if (key === 'not') {
      const item = this.condition(value, setId, where, path);
      return item && { k: 'not', item };
    }
    let list: unknown = value;
    let within = 0;
    if (key === 'near') {
      const v = value as { all?: unknown; within?: unknown } | null;
      if (
        !v ||
        typeof v !== 'object' ||
        !Array.isArray(v.all) ||
        typeof v.within !== 'number' ||
        !Number.isInteger(v.within) ||
        v.within < 0
      ) {
        this.issue(
          where,
          path,
          'near needs { all: [two or more text conditions], within: characters (integer ≥ 0) }',
        );
        return undefined;
      }
      list = v.all;
      within = v.within;
    }
    if (!Array.isArray(list) || list.length === 0 || (key === 'near' && list.length < 2)) {
      this.issue(
        where,
        path,
        `${key} needs a list of ${key === 'near' ? 'at least two' : 'one or more'} conditions`,
      );
      return undefined;
    }
    const items = list.map((c, i) =>
      this.condition(c, setId, where, `${path}${key === 'near' ? '.all' : ''}[${i}]`),
    );
    if (items.some((i) => i === undefined)) return undefined;
    const nodes = items as CondNode[];
    if (key === 'near') {
      nodes.forEach((n, i) => {
        if (!['terms', 'regex', 'pii', 'any'].includes(n.k)) {
          this.issue(
            where,
            `${path}.all[${i}]`,
            'near only combines text conditions (lexicon, term, terms, regex, pii, any)',
          );
        }
      });
      return { k: 'near', items: nodes, within };
    }
    return { k: key as 'all' | 'any', items: nodes };
  }

  private leaf(key: LeafKey, v: unknown, setId: string, where: string, path: string): CondNode | undefined {
    switch (key) {
      case 'lexicon': {
        const ids = Array.isArray(v) ? (v as string[]) : [v as string];
        const groups: string[] = [];
        for (const id of ids) {
          const group = this.lexicons.get(id.includes('/') ? id : `${setId}/${id}`);
          if (!group) this.issue(where, path, `unknown lexicon "${id}"`);
          else groups.push(group);
        }
        return groups.length === ids.length ? { k: 'terms', groups, label: ids.join(',') } : undefined;
      }
      case 'term':
      case 'terms': {
        const group = `inline:${this.inline++}`;
        const list = key === 'term' ? [v as TermDoc] : (v as TermDoc[]);
        const before = this.issues.length;
        list.forEach((t, i) => this.addTerm(t, group, where, key === 'terms' ? `${path}[${i}]` : path));
        return this.issues.length === before ? { k: 'terms', groups: [group], label: 'inline' } : undefined;
      }
      case 'regex': {
        const spec =
          typeof v === 'string'
            ? { pattern: v }
            : (v as { pattern: string; ignoreCase?: boolean; raw?: boolean });
        const raw = spec.raw === true;
        // The folded view is lower case, so normalised patterns always ignore case.
        const flags = spec.ignoreCase || !raw ? RE2JS.CASE_INSENSITIVE : 0;
        try {
          return { k: 'regex', re: RE2JS.compile(spec.pattern, flags), source: spec.pattern, raw };
        } catch (e) {
          this.issue(
            where,
            path,
            `invalid regular expression /${spec.pattern}/: ${(e as Error).message} (RE2 syntax: no backreferences or lookaround)`,
          );
          return undefined;
        }
      }
      case 'pii':
        return { k: 'pii', kinds: (Array.isArray(v) ? v : [v]) as PiiKind[] };
      case 'msgtype':
      case 'action': {
        const set = new Set(Array.isArray(v) ? (v as string[]) : [v as string]);
        return {
          k: 'behaviour',
          name: `${key}:${[...set].join('|')}`,
          test: (m) => set.has(key === 'msgtype' ? m.msgtype : m.action),
        };
      }
      case 'redpacket': {
        const min = (v as { minAmountFen: number }).minAmountFen;
        return {
          k: 'behaviour',
          name: `redpacket≥${min}fen`,
          test: (m) => isRedpacket(m) && (m.redpacketAmountFen ?? 0) >= min,
        };
      }
      case 'mediaToExternal': {
        const types = new Set(
          v === true ? ['file', 'image', 'video'] : (v as { msgtypes: string[] }).msgtypes,
        );
        return {
          k: 'behaviour',
          name: 'media-to-external',
          test: (m) => types.has(m.msgtype) && m.senderKind === 'employee' && m.recipientsExternal,
        };
      }
      case 'contactCard': {
        const external = v === 'external';
        return {
          k: 'behaviour',
          name: external ? 'customer-card-forwarded' : 'card-forwarded',
          test: (m) => m.msgtype === 'card' && (!external || isExternalId(m.cardUserId)),
        };
      }
      case 'fileSize': {
        const min = (v as { minBytes: number }).minBytes;
        return { k: 'behaviour', name: `file≥${min}B`, test: (m) => (m.fileSize ?? 0) >= min };
      }
      case 'fileName': {
        try {
          const re = RE2JS.compile(v as string, RE2JS.CASE_INSENSITIVE);
          return {
            k: 'behaviour',
            name: `file-name:${v as string}`,
            test: (m) => m.fileName !== undefined && re.matcher(m.fileName).find(),
          };
        } catch (e) {
          this.issue(where, path, `invalid regular expression /${v as string}/: ${(e as Error).message}`);
          return undefined;
        }
      }
      case 'offHours': {
        const o = v as { workStart: string; workEnd: string; weekends: boolean; timezone: string };
        if (!isTimeZone(o.timezone)) {
          this.issue(where, `${path}.timezone`, `unknown time zone "${o.timezone}"`);
          return undefined;
        }
        return { k: 'behaviour', name: 'off-hours', test: (m) => isOffHours(m.time, o) };
      }
      case 'consentWithdrawn':
        return { k: 'behaviour', name: 'consent-withdrawn', test: (m) => m.msgtype === 'disagree' };
      case 'textLength': {
        const o = v as { min?: number; max?: number };
        return {
          k: 'behaviour',
          name: 'text-length',
          test: (m) => m.text.length >= (o.min ?? 0) && m.text.length <= (o.max ?? Number.MAX_SAFE_INTEGER),
        };
      }
    }
  }

  scope(doc: ScopeDoc | undefined): CompiledScope | undefined {
    if (!doc) return undefined;
    const set = <T>(a: readonly T[] | undefined): ReadonlySet<T> | undefined => (a ? new Set(a) : undefined);
    return {
      corpIds: set(doc.corpIds),
      departmentIds: set(doc.departmentIds),
      employeeIds: set(doc.employeeIds),
      sensitivePostsOnly: doc.sensitivePostsOnly,
      conversationKinds: set(doc.conversationKinds),
      directions: set(doc.directions),
      senderKinds: set(doc.senderKinds),
    };
  }
}

/**
 * Compiles one or more policy documents (parsed YAML/JSON) into rules and the term list for a
 * single shared automaton. Throws PolicyError listing every problem with its rule and path.
 */
export function compileDocuments(raw: readonly unknown[]): CompiledDocs {
  const c = new Compiler();
  const docs: PolicySetDoc[] = [];
  raw.forEach((r, i) => {
    const parsed = policySetSchema.safeParse(r);
    if (!parsed.success) {
      const name = (r as { id?: unknown } | null)?.id;
      for (const is of formatZod(parsed.error))
        c.issue(`policy set ${typeof name === 'string' ? name : `#${i + 1}`}`, is.path, is.message);
      return;
    }
    docs.push(parsed.data);
  });
  const setIds = new Set<string>();
  for (const doc of docs) {
    if (setIds.has(doc.id)) c.issue(`policy set ${doc.id}`, 'id', 'duplicate policy set id');
    setIds.add(doc.id);
    doc.lexicons.forEach((lex, i) => c.addLexicon(doc.id, lex, i));
  }
  const ruleIds = new Set<string>();
  for (const doc of docs) {
    doc.rules.forEach((rawRule, i) => {
      const ruleName = (rawRule as { id?: unknown } | null)?.id;
      const where = `rule ${typeof ruleName === 'string' ? ruleName : `#${i + 1} of ${doc.id}`}`;
      const parsed = ruleSchema.safeParse(rawRule);
      if (!parsed.success) {
        for (const is of formatZod(parsed.error)) c.issue(where, is.path, is.message);
        return;
      }
      const r = parsed.data;
      if (ruleIds.has(r.id)) return c.issue(where, 'id', 'duplicate rule id');
      ruleIds.add(r.id);
      const before = c.issues.length;
      const when = r.when !== undefined ? c.condition(r.when, doc.id, where, 'when') : undefined;
      const steps = r.conversation?.all.map((s, j) =>
        c.condition(s, doc.id, where, `conversation.all[${j}]`),
      );
      const exclude = r.exclude !== undefined ? c.condition(r.exclude, doc.id, where, 'exclude') : undefined;
      if (c.issues.length !== before || !r.enabled) return;
      c.rules.push({
        id: r.id,
        name: r.name,
        category: r.category,
        severity: r.severity as CompiledRule['severity'],
        policySetId: doc.id,
        when,
        conversation: r.conversation && {
          messages: r.conversation.messages,
          minutes: r.conversation.minutes,
          steps: steps as CondNode[],
        },
        scope: c.scope(r.scope),
        exclude,
      });
    });
  }
  if (c.issues.length > 0) throw new PolicyError(c.issues);
  return { ids: docs.map((d) => d.id), rules: c.rules, terms: c.terms };
}

export { PII_KINDS };
