import type { ArchiveService } from '../../archive/archive.service.js';
import type { MessageToArchive } from '../../archive/types.js';
import { withTransaction, type Pool, type PoolClient, type Queryable } from '../../platform/db/pool.js';
import type { Logger } from '../../platform/logging/logger.js';
import { ConversationWindows } from '../conversation-window.js';
import { Engine } from '../engine.js';
import type { CompiledRule } from '../rules/nodes.js';
import { SEVERITIES, type CanonicalMessage, type Hit, type Severity } from '../types.js';
import { fromWecomMessage } from '../wecom-message.js';
import {
  FindingsRepository,
  hitKey,
  type FindingFilters,
  type HitToStore,
  type StoredFinding,
  type StoredHit,
} from './findings.repository.js';
import type { PolicyRegistry, PolicySource } from './registry.js';
import { WindowsRepository } from './windows.repository.js';

/**
 * One newly archived message, as detection at ingest needs it. `messageId` and `conversationId`
 * are the archive's ids (messages.id, conversations.id as decimal strings); `raw` the decrypted
 * WeCom JSON (string or parsed). Sender departments and sensitive post are looked up in the
 * employees table when not given.
 */
export interface MessageForDetection {
  messageId: string;
  msgid: string;
  msgTime: Date;
  conversationId: string;
  raw: string | Record<string, unknown>;
  senderDepartmentIds?: readonly number[];
  senderSensitivePost?: boolean;
}

export interface DetectResult {
  /** Messages scanned. */
  scanned: number;
  /** Messages that could not be read as WeCom messages (no msgtype, no sender…). */
  skipped: number;
  /** Hits stored (hits already stored are not counted again). */
  hits: number;
  findingsCreated: number;
  findingsUpdated: number;
}

export interface DetectionOptions {
  /** Hits of one conversation and category within this time of a finding's first hit join it. */
  windowMs: number;
  /** msgids kept on a finding (hit_count stays exact). */
  maxMsgidsPerFinding: number;
  logger?: Logger;
}

/** A hit with the archive identity of its message and the policy version that produced it. */
interface LocatedHit {
  hit: Hit;
  messageId: string;
  msgTime: Date;
  source: PolicySource | undefined;
}

const severityRank = (s: Severity): number => SEVERITIES.indexOf(s);
const maxSeverity = (a: Severity, b: Severity): Severity => (severityRank(a) >= severityRank(b) ? a : b);

/** A finding being built or extended in this transaction. */
interface Pending {
  finding: StoredFinding;
  isNew: boolean;
  hitIds: string[];
}

/**
 * Detection over archived messages: at ingest (`detectStored`, in the ingest transaction), and
 * over a time range (`rescan`). Hits are stored with offsets, never the matched text; hits are
 * grouped into findings per conversation and category within a window, extending an open finding
 * of an earlier batch when the window still holds.
 *
 * Conversation-level rules at ingest keep their windows in `detection_conversation_windows`,
 * read and written in the ingest transaction under the corp's detection lock (ConversationWindows):
 * a restart or another worker continues a window, and a rolled-back batch rolls its window
 * changes back with it. Rescans and back-tests run an Engine of their own (in-memory tracker).
 */
export class DetectionService {
  private readonly opts: DetectionOptions;

  constructor(
    private readonly pool: Pool,
    readonly registry: PolicyRegistry,
    options: Partial<DetectionOptions> = {},
  ) {
    this.opts = { windowMs: 30 * 60_000, maxMsgidsPerFinding: 1000, ...options };
  }

  /**
   * Runs the corp's enabled policies over newly archived messages and stores hits and findings
   * with `client` (call inside the ingest transaction, right after `storeBatch`, with the
   * messages it inserted, in time order).
   */
  async detectStored(
    client: PoolClient,
    corpId: number,
    messages: readonly MessageForDetection[],
  ): Promise<DetectResult> {
    const result: DetectResult = { scanned: 0, skipped: 0, hits: 0, findingsCreated: 0, findingsUpdated: 0 };
    if (messages.length === 0) return result;
    const active = await this.registry.active(corpId);
    const policy = active.engine.policy;
    if (policy.rules.length === 0) return result;
    const canonical = await this.toCanonical(client, corpId, messages, result);
    const setOf = new Map(policy.rules.map((r) => [r.id, r.policySetId]));
    const sourceOf = (ruleId: string): PolicySource | undefined =>
      active.sources.get(setOf.get(ruleId) ?? '');
    const windows = await this.openWindows(client, corpId, policy.conversationRules, canonical, sourceOf);
    const located: LocatedHit[] = [];
    for (const { message, source } of canonical) {
      const { hits, steps } = policy.evaluateMessage(message);
      if (windows) hits.push(...windows.push(message, steps));
      for (const hit of hits)
        located.push({
          hit,
          messageId: source.messageId,
          msgTime: source.msgTime,
          source: sourceOf(hit.ruleId),
        });
    }
    if (windows) await this.closeWindows(client, corpId, windows, canonical);
    await this.persist(client, corpId, located, result);
    return result;
  }

  /**
   * Convenience for the ingest pipeline: detection over the messages of a `storeBatch` call,
   * excluding the duplicates it reported; message and conversation ids are read back by msgid.
   */
  async detectArchived(
    client: PoolClient,
    corpId: number,
    messages: readonly MessageToArchive[],
    duplicates: readonly string[] = [],
  ): Promise<DetectResult> {
    const skip = new Set(duplicates);
    const fresh = messages.filter((m) => !skip.has(m.msgid));
    if (fresh.length === 0)
      return { scanned: 0, skipped: 0, hits: 0, findingsCreated: 0, findingsUpdated: 0 };
    const active = await this.registry.active(corpId);
    if (active.engine.policy.rules.length === 0)
      return { scanned: 0, skipped: 0, hits: 0, findingsCreated: 0, findingsUpdated: 0 };
    const ids = await new FindingsRepository(client).archivedIdentities(
      corpId,
      fresh.map((m) => m.msgid),
    );
    return this.detectStored(
      client,
      corpId,
      fresh
        .filter((m) => ids.has(m.msgid))
        .map((m) => ({ ...ids.get(m.msgid)!, msgid: m.msgid, raw: m.raw }))
        .sort((a, b) => a.msgTime.getTime() - b.msgTime.getTime()),
    );
  }

  /**
   * Re-runs the corp's current enabled policies over archived messages in [from, to) with an
   * engine of its own, storing hits and findings; hits already stored are skipped, so a rescan
   * can be repeated. Commits once per page.
   */
  async rescan(
    archive: ArchiveService,
    corpId: number,
    range: { from?: Date; to?: Date },
    progress?: (done: number) => Promise<void> | void,
    signal?: AbortSignal,
  ): Promise<DetectResult & { policies: string[] }> {
    const compiled = await this.registry.compile(corpId);
    const result: DetectResult = { scanned: 0, skipped: 0, hits: 0, findingsCreated: 0, findingsUpdated: 0 };
    const engine = new Engine(compiled.policy);
    const setOf = new Map(compiled.policy.rules.map((r) => [r.id, r.policySetId]));
    if (compiled.policy.rules.length === 0) return { ...result, policies: [] };
    let cursor: string | undefined;
    let done = 0;
    do {
      if (signal?.aborted) throw new Error('rescan interrupted by shutdown');
      const page = await archive.search(
        corpId,
        '',
        { from: range.from, to: range.to, ascending: true },
        { cursor, limit: 500 },
      );
      cursor = page.next ?? undefined;
      const messages: MessageForDetection[] = [];
      for (const { message } of page.hits) {
        done++;
        if (message.content.state !== 'ok') continue;
        messages.push({
          messageId: message.id,
          msgid: message.msgid,
          msgTime: message.msgTime,
          conversationId: message.conversationId,
          raw: message.content.raw,
        });
      }
      await withTransaction(this.pool, async (client) => {
        const canonical = await this.toCanonical(client, corpId, messages, result);
        const located: LocatedHit[] = [];
        for (const { message, source } of canonical)
          for (const hit of engine.process(message))
            located.push({
              hit,
              messageId: source.messageId,
              msgTime: source.msgTime,
              source: compiled.sources.get(setOf.get(hit.ruleId) ?? ''),
            });
        await this.persist(client, corpId, located, result);
      });
      await progress?.(done);
    } while (cursor);
    return { ...result, policies: [...compiled.sources.keys()] };
  }

  /** A corp's findings, newest first; `cursor` from the previous page. */
  async listFindings(
    corpId: number,
    filters: FindingFilters,
    page: { cursor?: string; limit?: number } = {},
  ): Promise<{ items: StoredFinding[]; next: string | null }> {
    const limit = Math.min(Math.max(page.limit ?? 50, 1), 500);
    const after = page.cursor ? decodeCursor(page.cursor) : null;
    const items = await new FindingsRepository(this.pool).listFindings(corpId, filters, after, limit);
    const last = items.at(-1);
    return {
      items,
      next: items.length === limit && last ? encodeCursor(last.windowStart, last.id) : null,
    };
  }

  /** One finding with its hits (offsets, not text). */
  async getFinding(corpId: number, id: string): Promise<(StoredFinding & { hits: StoredHit[] }) | undefined> {
    const repo = new FindingsRepository(this.pool);
    const finding = await repo.getFinding(corpId, id);
    return finding && { ...finding, hits: await repo.hits(corpId, { findingId: id }) };
  }

  /**
   * Loads the stored windows of the batch's conversations for the conversation rules, under the
   * corp's detection lock: a worker ingesting the same corp waits for this transaction, then sees
   * the windows it wrote. Undefined when the policy has no conversation rules.
   */
  private async openWindows(
    client: Queryable,
    corpId: number,
    rules: readonly CompiledRule[],
    canonical: ReadonlyArray<{ message: CanonicalMessage }>,
    sourceOf: (ruleId: string) => PolicySource | undefined,
  ): Promise<ConversationWindows | undefined> {
    if (rules.length === 0 || canonical.length === 0) return undefined;
    await new FindingsRepository(client).lockCorp(corpId);
    const conversations = [...new Set(canonical.map((c) => c.message.conversationId))];
    const stored = await new WindowsRepository(client).load(
      corpId,
      conversations,
      rules.map((r) => r.id),
    );
    return new ConversationWindows(rules, stored, (rule) => {
      const source = sourceOf(rule.id);
      return source ? `${source.policyId}:${source.version}` : '';
    });
  }

  /** Stores the windows the batch changed and drops those that can no longer complete. */
  private async closeWindows(
    client: Queryable,
    corpId: number,
    windows: ConversationWindows,
    canonical: ReadonlyArray<{ message: CanonicalMessage }>,
  ): Promise<void> {
    const repo = new WindowsRepository(client);
    await repo.remove(corpId, windows.closed());
    await repo.save(
      corpId,
      windows.dirty().map((state) => ({ state, expiresAt: windows.expiresAt(state) })),
    );
    await repo.purgeExpired(corpId, new Date(Math.max(...canonical.map((c) => c.message.time))));
  }

  /** WeCom JSON → canonical form, with the archive's conversation id and the sender's org facts. */
  private async toCanonical(
    db: Queryable,
    corpId: number,
    messages: readonly MessageForDetection[],
    result: DetectResult,
  ): Promise<Array<{ message: CanonicalMessage; source: MessageForDetection }>> {
    const parsed: Array<{ json: Record<string, unknown>; source: MessageForDetection }> = [];
    for (const m of messages) {
      try {
        const json = typeof m.raw === 'string' ? (JSON.parse(m.raw) as Record<string, unknown>) : m.raw;
        parsed.push({ json, source: m });
      } catch {
        result.skipped++;
      }
    }
    const needFacts = parsed
      .filter((p) => p.source.senderDepartmentIds === undefined && typeof p.json.from === 'string')
      .map((p) => p.json.from as string);
    const facts = await new FindingsRepository(db).senderFacts(corpId, needFacts);
    const out: Array<{ message: CanonicalMessage; source: MessageForDetection }> = [];
    for (const { json, source } of parsed) {
      try {
        const message = fromWecomMessage(json, {
          corpId: String(corpId),
          departmentsOf: (user) => source.senderDepartmentIds ?? facts.get(user)?.departmentIds ?? [],
          isSensitivePost: (user) => source.senderSensitivePost ?? facts.get(user)?.sensitivePost ?? false,
        });
        // The archive's conversation id: what findings and the review UI refer to.
        out.push({
          message: { ...message, conversationId: source.conversationId, time: source.msgTime.getTime() },
          source,
        });
        result.scanned++;
      } catch {
        result.skipped++;
      }
    }
    return out;
  }

  /** Stores new hits and folds them into findings (extending open ones of earlier batches). */
  private async persist(
    client: Queryable,
    corpId: number,
    located: LocatedHit[],
    result: DetectResult,
  ): Promise<void> {
    if (located.length === 0) return;
    const repo = new FindingsRepository(client);
    const toStore: HitToStore[] = located.map(({ hit, messageId, msgTime, source }) => ({
      msgTime,
      msgid: hit.msgid,
      messageId,
      conversationId: hit.conversationId,
      ruleId: hit.ruleId,
      policyId: source?.policyId ?? null,
      policyVersion: source?.version ?? null,
      category: hit.category,
      severity: hit.severity,
      term: hit.term,
      start: hit.start,
      end: hit.end,
      method: hit.method,
      methods: hit.methods,
      relatedMsgids: hit.relatedMsgids ?? [],
    }));
    await repo.lockCorp(corpId);
    const inserted = await repo.insertHits(corpId, toStore);
    result.hits += inserted.size;
    // Only hits stored now join findings: a retried batch or a rescan does not count twice.
    const fresh = toStore
      .map((h) => ({ h, id: inserted.get(hitKey(h)) }))
      .filter((x): x is { h: HitToStore; id: string } => x.id !== undefined)
      .sort((a, b) => a.h.msgTime.getTime() - b.h.msgTime.getTime());
    const pending: Pending[] = [];
    const inWindow = (f: StoredFinding, t: Date): boolean =>
      Math.abs(t.getTime() - f.windowStart.getTime()) < this.opts.windowMs;
    for (const { h, id } of fresh) {
      let target = pending.find(
        (p) =>
          p.finding.conversationId === h.conversationId &&
          p.finding.category === h.category &&
          inWindow(p.finding, h.msgTime),
      );
      if (!target) {
        const open = await repo.findOpen(corpId, h.conversationId, h.category, h.msgTime, this.opts.windowMs);
        target = open
          ? { finding: open, isNew: false, hitIds: [] }
          : {
              finding: {
                id: '',
                corpId,
                conversationId: h.conversationId,
                category: h.category,
                windowStart: h.msgTime,
                windowEnd: h.msgTime,
                severity: h.severity,
                ruleIds: [],
                hitCount: 0,
                msgids: [],
                status: 'open',
                createdAt: new Date(),
                updatedAt: new Date(),
              },
              isNew: true,
              hitIds: [],
            };
        pending.push(target);
      }
      const f = target.finding;
      f.hitCount++;
      f.severity = maxSeverity(f.severity, h.severity);
      if (h.msgTime < f.windowStart) f.windowStart = h.msgTime;
      if (h.msgTime > f.windowEnd) f.windowEnd = h.msgTime;
      if (!f.ruleIds.includes(h.ruleId)) f.ruleIds.push(h.ruleId);
      if (!f.msgids.includes(h.msgid) && f.msgids.length < this.opts.maxMsgidsPerFinding)
        f.msgids.push(h.msgid);
      target.hitIds.push(id);
    }
    const assignments: Array<{ hitId: string; findingId: string }> = [];
    for (const p of pending) {
      if (p.isNew) {
        p.finding.id = await repo.insertFinding(p.finding);
        result.findingsCreated++;
      } else {
        await repo.updateFinding(p.finding);
        result.findingsUpdated++;
      }
      for (const hitId of p.hitIds) assignments.push({ hitId, findingId: p.finding.id });
    }
    await repo.assignHits(corpId, assignments);
  }
}

function encodeCursor(windowStart: Date, id: string): string {
  return Buffer.from(`${windowStart.toISOString()}|${id}`).toString('base64url');
}

function decodeCursor(value: string): { windowStart: Date; id: string } {
  const [time, id] = Buffer.from(value, 'base64url').toString().split('|');
  if (!time || !id || !/^\d+$/.test(id) || Number.isNaN(Date.parse(time)))
    throw new RangeError('invalid findings cursor');
  return { windowStart: new Date(time), id };
}
