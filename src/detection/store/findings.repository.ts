import type { Queryable } from '../../platform/db/pool.js';
import type { MatchMethod, Severity } from '../types.js';

/** A hit to store: where it is and which rule fired, never the matched text. */
export interface HitToStore {
  msgTime: Date;
  msgid: string;
  messageId: string;
  conversationId: string;
  ruleId: string;
  policyId: number | null;
  policyVersion: number | null;
  category: string;
  severity: Severity;
  term: string;
  start: number | null;
  end: number | null;
  method: MatchMethod;
  methods: MatchMethod[];
  relatedMsgids: string[];
}

export interface StoredHit extends HitToStore {
  id: string;
  findingId: string | null;
}

export interface StoredFinding {
  id: string;
  corpId: number;
  conversationId: string;
  category: string;
  windowStart: Date;
  windowEnd: Date;
  severity: Severity;
  ruleIds: string[];
  hitCount: number;
  msgids: string[];
  status: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface FindingFilters {
  status?: string;
  category?: string;
  severities?: Severity[];
  conversationId?: string;
  ruleId?: string;
  from?: Date;
  to?: Date;
}

interface FindingRow {
  id: string;
  corp_id: number;
  conversation_id: string;
  category: string;
  window_start: Date;
  window_end: Date;
  severity: Severity;
  rule_ids: string[];
  hit_count: number;
  msgids: string[];
  status: string;
  created_at: Date;
  updated_at: Date;
}

const FINDING_COLUMNS = `id::text, corp_id, conversation_id::text, category, window_start, window_end, severity,
  rule_ids, hit_count, msgids, status, created_at, updated_at`;

function toFinding(r: FindingRow): StoredFinding {
  return {
    id: r.id,
    corpId: r.corp_id,
    conversationId: r.conversation_id,
    category: r.category,
    windowStart: r.window_start,
    windowEnd: r.window_end,
    severity: r.severity,
    ruleIds: r.rule_ids,
    hitCount: r.hit_count,
    msgids: r.msgids,
    status: r.status,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** Identity of a hit for the uniqueness rule of detection_hits. */
export const hitKey = (h: { msgid: string; ruleId: string; term: string; start: number | null }): string =>
  `${h.msgid}\u0000${h.ruleId}\u0000${h.term}\u0000${h.start ?? -1}`;

/** SQL of detection hits and findings. */
export class FindingsRepository {
  constructor(private readonly db: Queryable) {}

  /** Serialises finding updates of a corp until the transaction ends (ingest and rescans may overlap). */
  async lockCorp(corpId: number): Promise<void> {
    await this.db.query(`SELECT pg_advisory_xact_lock(hashtext('vigil_detection_findings'), $1::integer)`, [
      corpId,
    ]);
  }

  /** Inserts hits not stored yet; returns the inserted ones (with ids) by hitKey. */
  async insertHits(corpId: number, hits: HitToStore[]): Promise<Map<string, string>> {
    if (hits.length === 0) return new Map();
    const col = <T>(f: (h: HitToStore) => T): T[] => hits.map(f);
    const { rows } = await this.db.query<{
      id: string;
      msgid: string;
      rule_id: string;
      term: string;
      s: number;
    }>(
      `INSERT INTO detection_hits (corp_id, msg_time, msgid, message_id, conversation_id, rule_id, policy_id,
         policy_version, category, severity, term, start_offset, end_offset, method, methods, related_msgids)
       SELECT $1, h.msg_time, h.msgid, h.message_id, h.conversation_id, h.rule_id, h.policy_id, h.policy_version,
         h.category, h.severity, h.term, h.start_offset, h.end_offset, h.method,
         ARRAY(SELECT jsonb_array_elements_text(h.methods)), ARRAY(SELECT jsonb_array_elements_text(h.related))
       FROM unnest($2::timestamptz[], $3::text[], $4::bigint[], $5::bigint[], $6::text[], $7::integer[],
         $8::integer[], $9::text[], $10::text[], $11::text[], $12::integer[], $13::integer[], $14::text[],
         $15::jsonb[], $16::jsonb[])
         AS h(msg_time, msgid, message_id, conversation_id, rule_id, policy_id, policy_version, category, severity,
              term, start_offset, end_offset, method, methods, related)
       ON CONFLICT DO NOTHING
       RETURNING id::text, msgid, rule_id, term, coalesce(start_offset, -1) AS s`,
      [
        corpId,
        col((h) => h.msgTime),
        col((h) => h.msgid),
        col((h) => h.messageId),
        col((h) => h.conversationId),
        col((h) => h.ruleId),
        col((h) => h.policyId),
        col((h) => h.policyVersion),
        col((h) => h.category),
        col((h) => h.severity),
        col((h) => h.term),
        col((h) => h.start),
        col((h) => h.end),
        col((h) => h.method),
        col((h) => JSON.stringify(h.methods)),
        col((h) => JSON.stringify(h.relatedMsgids)),
      ],
    );
    return new Map(
      rows.map((r) => [hitKey({ msgid: r.msgid, ruleId: r.rule_id, term: r.term, start: r.s }), r.id]),
    );
  }

  /** The open finding of a conversation and category whose window holds `time`, locked. */
  async findOpen(
    corpId: number,
    conversationId: string,
    category: string,
    time: Date,
    windowMs: number,
  ): Promise<StoredFinding | undefined> {
    const { rows } = await this.db.query<FindingRow>(
      `SELECT ${FINDING_COLUMNS} FROM detection_findings
       WHERE corp_id = $1 AND conversation_id = $2 AND category = $3 AND status = 'open'
         AND window_start > $4::timestamptz - make_interval(secs => $5::double precision / 1000)
         AND window_start < $4::timestamptz + make_interval(secs => $5::double precision / 1000)
       ORDER BY window_start DESC LIMIT 1 FOR UPDATE`,
      [corpId, conversationId, category, time, windowMs],
    );
    return rows[0] && toFinding(rows[0]);
  }

  async insertFinding(f: Omit<StoredFinding, 'id' | 'status' | 'createdAt' | 'updatedAt'>): Promise<string> {
    const { rows } = await this.db.query<{ id: string }>(
      `INSERT INTO detection_findings (corp_id, conversation_id, category, window_start, window_end, severity,
         rule_ids, hit_count, msgids)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id::text`,
      [
        f.corpId,
        f.conversationId,
        f.category,
        f.windowStart,
        f.windowEnd,
        f.severity,
        f.ruleIds,
        f.hitCount,
        f.msgids,
      ],
    );
    return rows[0]!.id;
  }

  async updateFinding(f: StoredFinding): Promise<void> {
    await this.db.query(
      `UPDATE detection_findings SET window_start = $3, window_end = $4, severity = $5, rule_ids = $6,
         hit_count = $7, msgids = $8, updated_at = now()
       WHERE corp_id = $1 AND id = $2`,
      [f.corpId, f.id, f.windowStart, f.windowEnd, f.severity, f.ruleIds, f.hitCount, f.msgids],
    );
  }

  async assignHits(corpId: number, pairs: Array<{ hitId: string; findingId: string }>): Promise<void> {
    if (pairs.length === 0) return;
    await this.db.query(
      `UPDATE detection_hits h SET finding_id = p.finding_id
       FROM unnest($2::bigint[], $3::bigint[]) AS p(hit_id, finding_id)
       WHERE h.corp_id = $1 AND h.id = p.hit_id`,
      [corpId, pairs.map((p) => p.hitId), pairs.map((p) => p.findingId)],
    );
  }

  /** A corp's findings, newest window first, keyset-paged after (windowStart, id). */
  async listFindings(
    corpId: number,
    filters: FindingFilters,
    after: { windowStart: Date; id: string } | null,
    limit: number,
  ): Promise<StoredFinding[]> {
    const { rows } = await this.db.query<FindingRow>(
      `SELECT ${FINDING_COLUMNS} FROM detection_findings
       WHERE corp_id = $1
         AND ($2::text IS NULL OR status = $2)
         AND ($3::text IS NULL OR category = $3)
         AND ($4::text[] IS NULL OR severity = ANY($4))
         AND ($5::bigint IS NULL OR conversation_id = $5)
         AND ($6::text IS NULL OR $6 = ANY(rule_ids))
         AND ($7::timestamptz IS NULL OR window_end >= $7)
         AND ($8::timestamptz IS NULL OR window_start < $8)
         AND ($9::timestamptz IS NULL OR (window_start, id) < ($9, $10::bigint))
       ORDER BY window_start DESC, id DESC
       LIMIT $11`,
      [
        corpId,
        filters.status ?? null,
        filters.category ?? null,
        filters.severities?.length ? filters.severities : null,
        filters.conversationId ?? null,
        filters.ruleId ?? null,
        filters.from ?? null,
        filters.to ?? null,
        after?.windowStart ?? null,
        after?.id ?? null,
        limit,
      ],
    );
    return rows.map(toFinding);
  }

  async getFinding(corpId: number, id: string): Promise<StoredFinding | undefined> {
    const { rows } = await this.db.query<FindingRow>(
      `SELECT ${FINDING_COLUMNS} FROM detection_findings WHERE corp_id = $1 AND id = $2`,
      [corpId, id],
    );
    return rows[0] && toFinding(rows[0]);
  }

  /** Hits of a corp: of one finding, or of some msgids. */
  async hits(corpId: number, where: { findingId?: string; msgids?: string[] }): Promise<StoredHit[]> {
    const { rows } = await this.db.query<{
      id: string;
      msg_time: Date;
      msgid: string;
      message_id: string;
      conversation_id: string;
      rule_id: string;
      policy_id: number | null;
      policy_version: number | null;
      category: string;
      severity: Severity;
      term: string;
      start_offset: number | null;
      end_offset: number | null;
      method: MatchMethod;
      methods: MatchMethod[];
      related_msgids: string[];
      finding_id: string | null;
    }>(
      `SELECT id::text, msg_time, msgid, message_id::text, conversation_id::text, rule_id, policy_id, policy_version,
         category, severity, term, start_offset, end_offset, method, methods, related_msgids, finding_id::text
       FROM detection_hits
       WHERE corp_id = $1 AND ($2::bigint IS NULL OR finding_id = $2) AND ($3::text[] IS NULL OR msgid = ANY($3))
       ORDER BY msg_time, id LIMIT 5000`,
      [corpId, where.findingId ?? null, where.msgids ?? null],
    );
    return rows.map((r) => ({
      id: r.id,
      msgTime: r.msg_time,
      msgid: r.msgid,
      messageId: r.message_id,
      conversationId: r.conversation_id,
      ruleId: r.rule_id,
      policyId: r.policy_id,
      policyVersion: r.policy_version,
      category: r.category,
      severity: r.severity,
      term: r.term,
      start: r.start_offset,
      end: r.end_offset,
      method: r.method,
      methods: r.methods,
      relatedMsgids: r.related_msgids,
      findingId: r.finding_id,
    }));
  }

  /**
   * Message ids and conversations of archived messages by msgid (the ones a store just inserted),
   * plus what detection needs from the sender's employee record.
   */
  async archivedIdentities(
    corpId: number,
    msgids: string[],
  ): Promise<Map<string, { messageId: string; conversationId: string; msgTime: Date }>> {
    if (msgids.length === 0) return new Map();
    const { rows } = await this.db.query<{
      msgid: string;
      message_id: string;
      conversation_id: string;
      msg_time: Date;
    }>(
      `SELECT k.msgid, k.message_id::text, m.conversation_id::text, k.msg_time FROM message_keys k
       JOIN messages m ON m.corp_id = k.corp_id AND m.msg_time = k.msg_time AND m.id = k.message_id
       WHERE k.corp_id = $1 AND k.msgid = ANY($2)`,
      [corpId, msgids],
    );
    return new Map(
      rows.map((r) => [
        r.msgid,
        { messageId: r.message_id, conversationId: r.conversation_id, msgTime: r.msg_time },
      ]),
    );
  }

  /**
   * Employees' departments (with every ancestor, so a rule scoped to a department covers its
   * subtree) and whether they hold a sensitive post (themselves or a department of theirs).
   */
  async senderFacts(
    corpId: number,
    userids: string[],
  ): Promise<Map<string, { departmentIds: number[]; sensitivePost: boolean }>> {
    if (userids.length === 0) return new Map();
    const { rows } = await this.db.query<{
      userid: string;
      department_ids: string[];
      ancestors: string[] | null;
      sensitive: boolean;
    }>(
      `WITH RECURSIVE emp AS (
         SELECT userid, department_ids, sensitive_post FROM employees WHERE corp_id = $1 AND userid = ANY($2)
       ), up AS (
         SELECT emp.userid, d.id, d.parent_id, d.sensitive_post AS own FROM emp
         JOIN departments d ON d.corp_id = $1 AND d.id = ANY(emp.department_ids)
         UNION
         SELECT up.userid, d.id, d.parent_id, false FROM up
         JOIN departments d ON d.corp_id = $1 AND d.id = up.parent_id
       )
       SELECT emp.userid, emp.department_ids::text[] AS department_ids,
         array_agg(up.id::text) FILTER (WHERE up.id IS NOT NULL) AS ancestors,
         emp.sensitive_post OR coalesce(bool_or(up.own), false) AS sensitive
       FROM emp LEFT JOIN up ON up.userid = emp.userid
       GROUP BY emp.userid, emp.department_ids, emp.sensitive_post`,
      [corpId, [...new Set(userids)]],
    );
    return new Map(
      rows.map((r) => [
        r.userid,
        {
          departmentIds: [...new Set([...r.department_ids, ...(r.ancestors ?? [])].map(Number))],
          sensitivePost: r.sensitive,
        },
      ]),
    );
  }
}
