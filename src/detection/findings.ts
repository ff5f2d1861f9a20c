import { SEVERITIES, type Hit, type Severity } from './types.js';

/** Hits of one rule (or category) in one conversation within one time window. */
export interface Finding {
  id: string;
  corpId: string;
  conversationId: string;
  key: string;
  ruleIds: string[];
  category: string;
  severity: Severity;
  firstTime: number;
  lastTime: number;
  msgids: string[];
  hitCount: number;
  /** The first hits, up to maxHitsPerFinding, for display. */
  hits: Hit[];
}

export interface GrouperOptions {
  /** Window length from a finding's first hit. */
  windowMs: number;
  /** Group by rule (default) or by category. */
  by: 'rule' | 'category';
  maxHitsPerFinding: number;
}

export const DEFAULT_GROUPER_OPTIONS: GrouperOptions = {
  windowMs: 30 * 60_000,
  by: 'rule',
  maxHitsPerFinding: 50,
};

function maxSeverity(a: Severity, b: Severity): Severity {
  return SEVERITIES.indexOf(a) >= SEVERITIES.indexOf(b) ? a : b;
}

/**
 * Folds hits into findings: one per conversation, rule (or category) and window, so a group chat
 * repeating a word thirty times in half an hour is one finding. Pure: no I/O, no clock; feed hits
 * in time order with `add`, or use `FindingGrouper.group` for a batch.
 */
export class FindingGrouper {
  private readonly opts: GrouperOptions;
  private readonly open = new Map<string, Finding>();
  private readonly all: Finding[] = [];

  constructor(opts: Partial<GrouperOptions> = {}) {
    this.opts = { ...DEFAULT_GROUPER_OPTIONS, ...opts };
  }

  /** Adds a hit; returns its finding and whether the hit opened a new one. */
  add(hit: Hit): { finding: Finding; created: boolean } {
    const key = `${hit.corpId}\u0000${hit.conversationId}\u0000${this.opts.by === 'rule' ? hit.ruleId : hit.category}`;
    const current = this.open.get(key);
    if (current && Math.abs(hit.time - current.firstTime) < this.opts.windowMs) {
      current.hitCount++;
      current.lastTime = Math.max(current.lastTime, hit.time);
      current.severity = maxSeverity(current.severity, hit.severity);
      if (!current.msgids.includes(hit.msgid)) current.msgids.push(hit.msgid);
      if (!current.ruleIds.includes(hit.ruleId)) current.ruleIds.push(hit.ruleId);
      if (current.hits.length < this.opts.maxHitsPerFinding) current.hits.push(hit);
      return { finding: current, created: false };
    }
    const finding: Finding = {
      id: `${hit.conversationId}|${key.split('\u0000')[2]}|${hit.time}`,
      corpId: hit.corpId,
      conversationId: hit.conversationId,
      key: key.split('\u0000')[2]!,
      ruleIds: [hit.ruleId],
      category: hit.category,
      severity: hit.severity,
      firstTime: hit.time,
      lastTime: hit.time,
      msgids: [hit.msgid],
      hitCount: 1,
      hits: [hit],
    };
    this.open.set(key, finding);
    this.all.push(finding);
    return { finding, created: true };
  }

  /** Forgets open windows that started before `time` (they can no longer grow). */
  closeBefore(time: number): void {
    for (const [key, f] of this.open) if (f.firstTime + this.opts.windowMs <= time) this.open.delete(key);
  }

  /** Every finding so far, in creation order. */
  findings(): Finding[] {
    return [...this.all];
  }

  /** Groups a batch of hits (sorted by time first). */
  static group(hits: readonly Hit[], opts: Partial<GrouperOptions> = {}): Finding[] {
    const g = new FindingGrouper(opts);
    for (const h of [...hits].sort((a, b) => a.time - b.time)) g.add(h);
    return g.findings();
  }
}
