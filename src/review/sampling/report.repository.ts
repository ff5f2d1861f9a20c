import type { Queryable } from '../../platform/db/pool.js';

/** Decision stages in which a person judges an alert (a claim or assignment shows as first_action_at). */
export const JUDGING_STAGES = ['first', 'second', 'final', 'appeal'] as const;

/** SQL of the sampling report. */
export class SamplingReportRepository {
  constructor(private readonly db: Queryable) {}

  /** Conversations with a sensitive-post sampling alert for exactly the week [start, end). */
  async coveredSensitive(corpId: number, start: Date, end: Date): Promise<Set<string>> {
    const { rows } = await this.db.query<{ id: string }>(
      `SELECT DISTINCT conversation_id::text AS id FROM review_alerts
       WHERE corp_id = $1 AND source = 'sampling' AND category = 'sensitive_post'
         AND window_start = $2 AND window_end = $3`,
      [corpId, start, end],
    );
    return new Set(rows.map((r) => r.id));
  }

  /**
   * Automated decisions: conversations with a message in [start, end) (each was screened by
   * detection when it was archived). Judged: those of them with an alert whose window overlaps the
   * period and that a person acted on: a first action, or a judging decision.
   */
  async humanReview(corpId: number, start: Date, end: Date): Promise<{ automated: number; judged: number }> {
    const { rows } = await this.db.query<{ automated: number; judged: number }>(
      `WITH active AS (
         SELECT DISTINCT conversation_id FROM messages WHERE corp_id = $1 AND msg_time >= $2 AND msg_time < $3
       )
       SELECT count(*)::int AS automated,
         count(*) FILTER (WHERE EXISTS (
           SELECT 1 FROM review_alerts a
           WHERE a.corp_id = $1 AND a.conversation_id = active.conversation_id
             AND a.window_start < $3 AND a.window_end >= $2
             AND (a.first_action_at IS NOT NULL OR EXISTS (
               SELECT 1 FROM review_decisions d
               WHERE d.corp_id = $1 AND d.alert_id = a.id AND d.stage = ANY ($4::text[])))
         ))::int AS judged
       FROM active`,
      [corpId, start, end, JUDGING_STAGES],
    );
    return rows[0]!;
  }
}
