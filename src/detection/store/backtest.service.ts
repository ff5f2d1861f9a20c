import type { ArchiveService } from '../../archive/archive.service.js';
import type { Pool, Queryable } from '../../platform/db/pool.js';
import { AppError, notFound } from '../../platform/http/errors.js';
import type { JobRepository } from '../../platform/jobs/queue.js';
import type { JobProgress } from '../../platform/jobs/types.js';
import { Engine } from '../engine.js';
import { FindingGrouper } from '../findings.js';
import type { CanonicalMessage, Hit } from '../types.js';
import { fromWecomMessage } from '../wecom-message.js';
import { FindingsRepository } from './findings.repository.js';
import { PolicyRepository } from './policy.repository.js';
import { validatePolicyDocument } from './policy.service.js';

export const BACKTEST_JOB = 'detection.backtest';
export const RESCAN_JOB = 'detection.rescan';

/** Which archived messages a back-test reads: a time range, and optionally only the latest `sample`. */
export interface BacktestScope {
  from?: string;
  to?: string;
  /** Only the most recent N messages of the range. */
  sample?: number;
  /** Explicitly the whole archive (no range). */
  all?: boolean;
}

export interface RuleSummary {
  ruleId: string;
  name: string;
  category: string;
  severity: string;
  hits: number;
  messages: number;
  /** Up to five msgids, to open through the access path. */
  examples: string[];
  /** Share of this rule's reviewed alerts confirmed as violations; null until reviews exist. */
  precision: number | null;
}

export interface TermSummary {
  ruleId: string;
  term: string;
  hits: number;
  examples: string[];
}

export interface BacktestResult {
  messages: number;
  /** Messages whose content was destroyed by retention or could not be decrypted. */
  unreadable: number;
  skipped: number;
  hits: number;
  /** Findings the hits would make (one per conversation, category and window). */
  findings: number;
  rules: RuleSummary[];
  terms: TermSummary[];
}

export interface Backtest {
  id: string;
  corpId: number;
  policyId: number | null;
  policyVersion: number | null;
  document: unknown;
  scope: BacktestScope;
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  progress: JobProgress | null;
  result: BacktestResult | null;
  error: string | null;
  jobId: string | null;
  requestedBy: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

interface BacktestRow {
  id: string;
  corp_id: number;
  policy_id: number | null;
  policy_version: number | null;
  document: unknown;
  scope: BacktestScope;
  status: Backtest['status'];
  progress: JobProgress | null;
  result: BacktestResult | null;
  error: string | null;
  job_id: string | null;
  requested_by: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

const COLUMNS = `id::text, corp_id, policy_id, policy_version, document, scope, status, progress, result, error,
  job_id::text, requested_by, created_at, started_at, finished_at`;

function toBacktest(r: BacktestRow): Backtest {
  return {
    id: r.id,
    corpId: r.corp_id,
    policyId: r.policy_id,
    policyVersion: r.policy_version,
    document: r.document,
    scope: r.scope,
    status: r.status,
    progress: r.progress,
    result: r.result,
    error: r.error,
    jobId: r.job_id,
    requestedBy: r.requested_by,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
  };
}

/**
 * Measured precision of a rule: the share of its reviewed alerts that reviewers confirmed.
 * Returns null until the review module provides the view `detection_rule_dispositions`
 * (corp_id integer, rule_id text, confirmed boolean: one row per decided alert per rule) or while
 * the rule has no decided alert.
 */
export async function measuredPrecision(
  db: Queryable,
  corpId: number,
  ruleId: string,
): Promise<number | null> {
  const { rows: exists } = await db.query<{ present: boolean }>(
    `SELECT to_regclass('detection_rule_dispositions') IS NOT NULL AS present`,
  );
  if (!exists[0]?.present) return null;
  const { rows } = await db.query<{ decided: string; confirmed: string }>(
    `SELECT count(*)::text AS decided, count(*) FILTER (WHERE confirmed)::text AS confirmed
     FROM detection_rule_dispositions WHERE corp_id = $1 AND rule_id = $2`,
    [corpId, ruleId],
  );
  const decided = Number(rows[0]?.decided ?? 0);
  return decided === 0 ? null : Number(rows[0]!.confirmed) / decided;
}

/** Input of a back-test: a draft document, or a stored policy version. */
export interface BacktestRequest {
  corpId: number;
  document?: unknown;
  policyId?: number;
  version?: number;
  scope?: BacktestScope;
  requestedBy?: string;
}

/**
 * Back-tests: run a draft (or stored) policy over archived messages without storing hits, and
 * keep per-rule and per-term counts with a few example msgids (never matched text).
 */
export class BacktestService {
  constructor(
    private readonly pool: Pool,
    private readonly archive: ArchiveService,
    private readonly jobs?: JobRepository,
  ) {}

  /** Validates the policy and records a queued back-test (422 on an invalid document). */
  async create(request: BacktestRequest): Promise<Backtest> {
    let document = request.document;
    let version = request.version ?? null;
    if (document === undefined) {
      if (request.policyId === undefined)
        throw new AppError(400, 'bad_request', 'give a document or a policyId');
      const repo = new PolicyRepository(this.pool);
      const policy = await repo.get(request.policyId);
      if (!policy) throw notFound('policy');
      version ??= policy.currentVersion;
      const stored = await repo.version(policy.id, version);
      if (!stored) throw notFound(`version ${version} of policy ${policy.id}`);
      document = stored.document;
    }
    validatePolicyDocument(document);
    const scope = normaliseScope(request.scope ?? {});
    const { rows } = await this.pool.query<BacktestRow>(
      `INSERT INTO detection_backtests (corp_id, policy_id, policy_version, document, scope, requested_by)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
      [
        request.corpId,
        request.policyId ?? null,
        request.policyId !== undefined ? version : null,
        JSON.stringify(document),
        JSON.stringify(scope),
        request.requestedBy ?? null,
      ],
    );
    return toBacktest(rows[0]!);
  }

  /** Records a back-test and queues the job that runs it. */
  async start(request: BacktestRequest): Promise<Backtest> {
    if (!this.jobs) throw new Error('BacktestService.start needs the job queue');
    const backtest = await this.create(request);
    const job = await this.jobs.enqueue(BACKTEST_JOB, { backtestId: backtest.id }, { maxAttempts: 2 });
    await this.pool.query('UPDATE detection_backtests SET job_id = $2 WHERE id = $1', [backtest.id, job.id]);
    return { ...backtest, jobId: job.id };
  }

  async get(id: string): Promise<Backtest | undefined> {
    const { rows } = await this.pool.query<BacktestRow>(
      `SELECT ${COLUMNS} FROM detection_backtests WHERE id = $1`,
      [id],
    );
    return rows[0] && toBacktest(rows[0]);
  }

  async list(corpId: number, limit = 50): Promise<Backtest[]> {
    const { rows } = await this.pool.query<BacktestRow>(
      `SELECT ${COLUMNS} FROM detection_backtests WHERE corp_id = $1 ORDER BY id DESC LIMIT $2`,
      [corpId, limit],
    );
    return rows.map(toBacktest);
  }

  /** Runs a recorded back-test to completion, storing progress and the result. */
  async run(
    id: string,
    onProgress?: (p: JobProgress) => Promise<void> | void,
    signal?: AbortSignal,
  ): Promise<BacktestResult> {
    const backtest = await this.get(id);
    if (!backtest) throw notFound(`backtest ${id}`);
    await this.pool.query(
      `UPDATE detection_backtests SET status = 'running', started_at = now(), error = NULL WHERE id = $1`,
      [id],
    );
    try {
      const report = async (p: JobProgress): Promise<void> => {
        await this.pool.query('UPDATE detection_backtests SET progress = $2 WHERE id = $1', [id, p]);
        await onProgress?.(p);
      };
      const result = await this.execute(backtest, report, signal);
      await this.pool.query(
        `UPDATE detection_backtests SET status = 'succeeded', result = $2, finished_at = now() WHERE id = $1`,
        [id, JSON.stringify(result)],
      );
      return result;
    } catch (e) {
      await this.pool.query(
        `UPDATE detection_backtests SET status = 'failed', error = left($2, 2000), finished_at = now() WHERE id = $1`,
        [id, (e as Error).message],
      );
      throw e;
    }
  }

  private async execute(
    backtest: Backtest,
    report: (p: JobProgress) => Promise<void>,
    signal?: AbortSignal,
  ): Promise<BacktestResult> {
    const { compiled } = validatePolicyDocument(backtest.document);
    const corpId = backtest.corpId;
    const scope = backtest.scope;
    const from = scope.from ? new Date(scope.from) : undefined;
    const to = scope.to ? new Date(scope.to) : undefined;
    const inRange = await countMessages(this.pool, corpId, from, to);
    const total = scope.sample !== undefined ? Math.min(scope.sample, inRange) : inRange;
    const result: BacktestResult = {
      messages: 0,
      unreadable: 0,
      skipped: 0,
      hits: 0,
      findings: 0,
      rules: [],
      terms: [],
    };
    const engine = new Engine(compiled);
    const allHits: Hit[] = [];
    const rules = new Map<string, RuleSummary & { msgids: Set<string> }>();
    const terms = new Map<string, TermSummary>();
    const facts = new FindingsRepository(this.pool);
    let done = 0;
    await report({ done, total, message: 'reading archive' });
    let lastReport = Date.now();

    const scan = async (batch: CanonicalMessage[]): Promise<void> => {
      for (const m of batch) {
        for (const hit of engine.process(m)) {
          result.hits++;
          if (allHits.length < 200_000) allHits.push({ ...hit, matched: null });
          let rule = rules.get(hit.ruleId);
          if (!rule) {
            rule = {
              ruleId: hit.ruleId,
              name: hit.ruleName,
              category: hit.category,
              severity: hit.severity,
              hits: 0,
              messages: 0,
              examples: [],
              precision: null,
              msgids: new Set(),
            };
            rules.set(hit.ruleId, rule);
          }
          rule.hits++;
          if (!rule.msgids.has(hit.msgid)) {
            rule.msgids.add(hit.msgid);
            rule.messages++;
            if (rule.examples.length < 5) rule.examples.push(hit.msgid);
          }
          const key = `${hit.ruleId}\u0000${hit.term}`;
          let term = terms.get(key);
          if (!term) terms.set(key, (term = { ruleId: hit.ruleId, term: hit.term, hits: 0, examples: [] }));
          term.hits++;
          if (term.examples.length < 5 && !term.examples.includes(hit.msgid)) term.examples.push(hit.msgid);
        }
      }
    };

    // Pages of decrypted messages, oldest first (a sample: the newest N, then put in time order).
    const ascending = scope.sample === undefined;
    let cursor: string | undefined;
    const sampled: CanonicalMessage[] = [];
    do {
      if (signal?.aborted) throw new Error('backtest interrupted by shutdown');
      const limit = scope.sample !== undefined ? Math.min(500, scope.sample - done) : 500;
      if (limit <= 0) break;
      const page = await this.archive.search(corpId, '', { from, to, ascending }, { cursor, limit });
      cursor = page.next ?? undefined;
      const senders = page.hits.map((h) => h.message.senderId).filter((s): s is string => s !== null);
      const org = await facts.senderFacts(corpId, senders);
      const batch: CanonicalMessage[] = [];
      for (const { message } of page.hits) {
        done++;
        if (message.content.state !== 'ok') {
          result.unreadable++;
          continue;
        }
        try {
          const c = fromWecomMessage(JSON.parse(message.content.raw), {
            corpId: String(corpId),
            departmentsOf: (u) => org.get(u)?.departmentIds ?? [],
            isSensitivePost: (u) => org.get(u)?.sensitivePost ?? false,
          });
          batch.push({ ...c, conversationId: message.conversationId, time: message.msgTime.getTime() });
          result.messages++;
        } catch {
          result.skipped++;
        }
      }
      if (ascending) await scan(batch);
      else sampled.push(...batch);
      if (Date.now() - lastReport > 500 || !cursor) {
        await report({ done, total, message: `${result.hits} hit(s)` });
        lastReport = Date.now();
      }
    } while (cursor);
    if (!ascending) await scan(sampled.reverse());

    result.findings = FindingGrouper.group(allHits, { by: 'category' }).length;
    for (const rule of rules.values()) {
      const { msgids: _, ...summary } = rule;
      result.rules.push({ ...summary, precision: await measuredPrecision(this.pool, corpId, rule.ruleId) });
    }
    result.rules.sort((a, b) => b.hits - a.hits || a.ruleId.localeCompare(b.ruleId));
    result.terms = [...terms.values()].sort((a, b) => b.hits - a.hits || a.term.localeCompare(b.term));
    await report({ done, total: Math.max(total, done), message: `${result.hits} hit(s)` });
    return result;
  }
}

function normaliseScope(scope: BacktestScope): BacktestScope {
  const out: BacktestScope = {};
  for (const k of ['from', 'to'] as const) {
    const v = scope[k];
    if (v === undefined) continue;
    const d = new Date(v);
    if (Number.isNaN(d.getTime())) throw new AppError(400, 'bad_request', `scope.${k} is not a date: ${v}`);
    out[k] = d.toISOString();
  }
  if (scope.sample !== undefined) {
    if (!Number.isInteger(scope.sample) || scope.sample < 1)
      throw new AppError(400, 'bad_request', 'scope.sample is a positive integer');
    out.sample = scope.sample;
  }
  if (scope.all) out.all = true;
  return out;
}

async function countMessages(db: Queryable, corpId: number, from?: Date, to?: Date): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    `SELECT count(*)::text AS n FROM messages
     WHERE corp_id = $1 AND ($2::timestamptz IS NULL OR msg_time >= $2) AND ($3::timestamptz IS NULL OR msg_time < $3)`,
    [corpId, from ?? null, to ?? null],
  );
  return Number(rows[0]!.n);
}
