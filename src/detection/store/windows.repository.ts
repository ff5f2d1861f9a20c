import type { Queryable } from '../../platform/db/pool.js';
import type { StepEntry, WindowState } from '../conversation-window.js';

interface WindowRow {
  conversation_id: string;
  rule_id: string;
  version: string;
  message_count: string;
  steps: (StepEntry | null)[];
  last_time: Date;
}

/** SQL of detection_conversation_windows; call with the ingest transaction's client. */
export class WindowsRepository {
  constructor(private readonly db: Queryable) {}

  /** Stored windows of these conversations for these rules. */
  async load(corpId: number, conversationIds: string[], ruleIds: string[]): Promise<WindowState[]> {
    if (conversationIds.length === 0 || ruleIds.length === 0) return [];
    const { rows } = await this.db.query<WindowRow>(
      `SELECT conversation_id::text, rule_id, version, message_count::text, steps, last_time
       FROM detection_conversation_windows
       WHERE corp_id = $1 AND conversation_id = ANY($2::bigint[]) AND rule_id = ANY($3::text[])`,
      [corpId, conversationIds, ruleIds],
    );
    return rows.map((r) => ({
      conversationId: r.conversation_id,
      ruleId: r.rule_id,
      version: r.version,
      count: Number(r.message_count),
      steps: r.steps,
      lastTime: r.last_time.getTime(),
    }));
  }

  /** Inserts or overwrites windows; `expiresAt` (ms) lets purgeExpired drop quiet conversations' windows. */
  async save(corpId: number, windows: Array<{ state: WindowState; expiresAt?: number }>): Promise<void> {
    if (windows.length === 0) return;
    const col = <T>(f: (w: { state: WindowState; expiresAt?: number }) => T): T[] => windows.map(f);
    await this.db.query(
      `INSERT INTO detection_conversation_windows AS w
         (corp_id, conversation_id, rule_id, version, message_count, steps, last_time, expires_at)
       SELECT $1, v.conversation_id, v.rule_id, v.version, v.message_count, v.steps, v.last_time, v.expires_at
       FROM unnest($2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::jsonb[], $7::timestamptz[],
         $8::timestamptz[]) AS v(conversation_id, rule_id, version, message_count, steps, last_time, expires_at)
       ON CONFLICT (corp_id, conversation_id, rule_id) DO UPDATE SET version = excluded.version,
         message_count = excluded.message_count, steps = excluded.steps, last_time = excluded.last_time,
         expires_at = excluded.expires_at, updated_at = now()`,
      [
        corpId,
        col((w) => w.state.conversationId),
        col((w) => w.state.ruleId),
        col((w) => w.state.version),
        col((w) => w.state.count),
        col((w) => JSON.stringify(w.state.steps)),
        col((w) => new Date(w.state.lastTime)),
        col((w) => (w.expiresAt === undefined ? null : new Date(w.expiresAt))),
      ],
    );
  }

  /** Deletes windows that can no longer complete. */
  async remove(corpId: number, windows: readonly WindowState[]): Promise<void> {
    if (windows.length === 0) return;
    await this.db.query(
      `DELETE FROM detection_conversation_windows w
       USING unnest($2::bigint[], $3::text[]) AS v(conversation_id, rule_id)
       WHERE w.corp_id = $1 AND w.conversation_id = v.conversation_id AND w.rule_id = v.rule_id`,
      [corpId, windows.map((w) => w.conversationId), windows.map((w) => w.ruleId)],
    );
  }

  /**
   * Deletes time-limited windows whose every step is older than the limit at `now` (the newest
   * message time of the batch): conversations that went quiet are never loaded again to close them.
   */
  async purgeExpired(corpId: number, now: Date): Promise<void> {
    await this.db.query(`DELETE FROM detection_conversation_windows WHERE corp_id = $1 AND expires_at < $2`, [
      corpId,
      now,
    ]);
  }
}
