import { DeniedAfterCommit, auditedTransaction } from '../../access/denials.js';
import type { Principal } from '../../access/types.js';
import type { AuditLog } from '../../audit/audit-log.js';
import type { NotificationService } from '../../notifications/notifications.service.js';
import type { Pool, PoolClient } from '../../platform/db/pool.js';
import { AppError, forbidden, notFound } from '../../platform/http/errors.js';

export interface Notice {
  id: string;
  alertId: string;
  employeeUserid: string;
  body: string;
  createdAt: Date;
  category: string;
  conversationId: string;
  windowStart: Date;
  windowEnd: Date;
  msgids: string[];
  appeal: Appeal | null;
}

export interface Appeal {
  id: string;
  noticeId: string;
  alertId: string;
  appellantId: string;
  statement: string;
  /** granted: the finding is overturned; dismissed: it stands. */
  status: 'pending' | 'granted' | 'dismissed';
  decidedBy: string | null;
  decisionNote: string | null;
  createdAt: Date;
  decidedAt: Date | null;
}

const APPEAL_COLUMNS = `p.id::text, p.notice_id::text AS "noticeId", p.alert_id::text AS "alertId",
  p.appellant_id::text AS "appellantId", p.statement, p.status, p.decided_by::text AS "decidedBy",
  p.decision_note AS "decisionNote", p.created_at AS "createdAt", p.decided_at AS "decidedAt"`;

/**
 * Employees' side of review (PIPL): the notices about them, and appeals (申诉) decided by someone
 * who took no part in the alert's review. An appeal that succeeds turns the disposition to
 * compliant, which also corrects the rule's measured precision.
 */
export class AppealsService {
  constructor(
    private readonly deps: {
      pool: Pool;
      audit: AuditLog;
      notifications?: Pick<NotificationService, 'notify'>;
    },
  ) {}

  /** Notices about the principal's own WeCom account in this corp. */
  async myNotices(principal: Principal, corpId: number): Promise<Notice[]> {
    const { rows } = await this.deps.pool.query<Omit<Notice, 'appeal'> & { appeal: Appeal | null }>(
      `SELECT n.id::text, n.alert_id::text AS "alertId", n.employee_userid AS "employeeUserid", n.body,
         n.created_at AS "createdAt", a.category, a.conversation_id::text AS "conversationId",
         a.window_start AS "windowStart", a.window_end AS "windowEnd", a.msgids,
         (SELECT row_to_json(x) FROM (SELECT ${APPEAL_COLUMNS} FROM review_appeals p
            WHERE p.corp_id = n.corp_id AND p.notice_id = n.id) x) AS appeal
       FROM review_notices n
       JOIN review_alerts a ON a.corp_id = n.corp_id AND a.id = n.alert_id
       JOIN users u ON u.id = $2 AND u.corp_id = n.corp_id AND u.employee_userid = n.employee_userid
       WHERE n.corp_id = $1 ORDER BY n.id DESC`,
      [corpId, principal.userId],
    );
    return rows;
  }

  async appeal(
    principal: Principal,
    corpId: number,
    noticeId: string,
    statement: string,
    ip: string | null,
  ): Promise<Appeal> {
    const notice = (await this.myNotices(principal, corpId)).find((n) => n.id === noticeId);
    if (!notice) throw notFound('notice');
    if (notice.appeal) throw new AppError(409, 'appeal_exists', 'this notice has been appealed already');
    return auditedTransaction(this.deps.pool, async (client) => {
      const { rows } = await client.query<Appeal>(
        `INSERT INTO review_appeals AS p (corp_id, notice_id, alert_id, appellant_id, statement)
         VALUES ($1, $2, $3, $4, $5) RETURNING ${APPEAL_COLUMNS}`,
        [corpId, noticeId, notice.alertId, principal.userId, statement],
      );
      await this.audit(client, principal, corpId, ip, 'review.appeal', rows[0]!.id, 'allowed');
      await this.deps.notifications?.notify(client, {
        corpId,
        recipients: { role: { role: 'compliance_lead', corpId } },
        kind: 'review.appeal',
        title: `新的申诉 / New appeal #${rows[0]!.id}`,
        body: `On alert #${notice.alertId}; decide it if you took no part in its review.`,
        link: `/review/appeals/${rows[0]!.id}`,
      });
      return rows[0]!;
    });
  }

  async list(corpId: number, status?: Appeal['status']): Promise<Appeal[]> {
    const { rows } = await this.deps.pool.query<Appeal>(
      `SELECT ${APPEAL_COLUMNS} FROM review_appeals p WHERE p.corp_id = $1 AND ($2::text IS NULL OR p.status = $2)
       ORDER BY p.id DESC LIMIT 500`,
      [corpId, status ?? null],
    );
    return rows;
  }

  /** Decides an appeal; the decider took no part in the alert (nor is the appellant). */
  decide(
    principal: Principal,
    corpId: number,
    appealId: string,
    outcome: 'granted' | 'dismissed',
    note: string,
    ip: string | null,
  ): Promise<Appeal> {
    return auditedTransaction(this.deps.pool, async (client) => {
      const { rows } = await client.query<Appeal>(
        `SELECT ${APPEAL_COLUMNS} FROM review_appeals p WHERE p.corp_id = $1 AND p.id = $2::bigint FOR UPDATE`,
        [corpId, appealId],
      );
      const appeal = rows[0];
      if (!appeal) throw notFound('appeal');
      if (appeal.status !== 'pending')
        throw new AppError(409, 'appeal_decided', 'the appeal is decided already');
      const { rows: involved } = await client.query<{ id: string }>(
        `SELECT reviewer_id::text AS id FROM review_decisions WHERE corp_id = $1 AND alert_id = $2
           AND stage IN ('first', 'second', 'final')`,
        [corpId, appeal.alertId],
      );
      if (principal.userId === appeal.appellantId || involved.some((r) => r.id === principal.userId)) {
        await this.audit(client, principal, corpId, ip, 'review.appeal_decide', appealId, 'denied');
        throw new DeniedAfterCommit(
          forbidden('an appeal is decided by someone who took no part in the review'),
        );
      }
      const decided = await client.query<Appeal>(
        `UPDATE review_appeals p SET status = $3, decided_by = $4, decision_note = $5, decided_at = now()
         WHERE p.corp_id = $1 AND p.id = $2 RETURNING ${APPEAL_COLUMNS}`,
        [corpId, appealId, outcome, principal.userId, note],
      );
      await client.query(
        `INSERT INTO review_decisions (corp_id, alert_id, reviewer_id, stage, disposition, comment)
         VALUES ($1, $2, $3, 'appeal', $4, $5)`,
        [
          corpId,
          appeal.alertId,
          principal.userId,
          outcome === 'granted' ? 'compliant' : 'violation_confirmed',
          note,
        ],
      );
      if (outcome === 'granted')
        await client.query(
          `UPDATE review_alerts SET disposition = 'compliant' WHERE corp_id = $1 AND id = $2`,
          [corpId, appeal.alertId],
        );
      await this.audit(client, principal, corpId, ip, 'review.appeal_decide', appealId, 'allowed', {
        outcome,
      });
      await this.deps.notifications?.notify(client, {
        corpId,
        recipients: { userIds: [appeal.appellantId] },
        kind: 'review.appeal_decided',
        title:
          outcome === 'granted'
            ? '申诉成立 / Your appeal was granted'
            : '申诉未获支持 / Your appeal was dismissed',
        body: note,
        link: '/me/notices',
      });
      return decided.rows[0]!;
    });
  }

  private audit(
    client: PoolClient,
    principal: Principal,
    corpId: number,
    ip: string | null,
    action: string,
    id: string,
    result: 'allowed' | 'denied',
    details: Record<string, unknown> = {},
  ) {
    return this.deps.audit.record(client, {
      corpId,
      actor: principal.actor,
      actorIp: ip,
      action,
      resourceType: 'appeal',
      resourceIds: [id],
      result,
      details,
    });
  }
}
