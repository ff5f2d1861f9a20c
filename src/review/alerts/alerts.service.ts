import { subtreeOf } from '../../access/content/content-scope.js';
import type { ContentAccessService, Viewer } from '../../access/content/content-access.service.js';
import type { ViewedMessage } from '../../access/content/present.js';
import { DeniedAfterCommit, auditedTransaction } from '../../access/denials.js';
import { grantsFor } from '../../access/scope.js';
import type { Principal } from '../../access/types.js';
import type { AuditLog } from '../../audit/audit-log.js';
import type { NotificationService } from '../../notifications/notifications.service.js';
import type { Pool, PoolClient, Queryable } from '../../platform/db/pool.js';
import { SqlParams } from '../../platform/db/sql-params.js';
import { AppError, forbidden, notFound } from '../../platform/http/errors.js';
import type { Alert, AlertSource, AlertStatus, Disposition, Severity } from '../types.js';
import {
  ALERT_COLUMNS,
  AlertsRepository,
  toAlert,
  type AlertPage,
  type AlertRow,
} from './alerts.repository.js';
import { decide } from './dual-review.js';
import { noticeFor } from './notice-template.js';

export interface AlertFilters {
  queueId?: string;
  status?: AlertStatus[];
  severity?: Severity[];
  category?: string[];
  /** A user id, 'me' or 'none' (unassigned). */
  assignee?: string;
  source?: AlertSource;
  /** Unclosed alerts past a deadline, or within the queue's reminder window of one. */
  sla?: 'overdue' | 'due_soon';
}

export interface Decision {
  id: string;
  reviewerId: string;
  stage: string;
  disposition: string | null;
  agrees: boolean | null;
  comment: string | null;
  tags: string[];
  createdAt: Date;
}

export interface Hit {
  msgid: string;
  ruleId: string;
  term: string;
  category: string;
  severity: string;
  start: number | null;
  end: number | null;
}

export interface AlertsServiceDeps {
  pool: Pool;
  audit: AuditLog;
  content: ContentAccessService;
  notifications?: Pick<NotificationService, 'notify'>;
}

/** Hours of conversation shown before and after an alert's window. */
const CONTEXT_HOURS = 2;

/**
 * Alerts for reviewers: listing within one's review scope (corp, or department subtree), detail
 * with hits and the conversation around them (read through the content choke point), claim and
 * assignment, and decisions under the dual-review rules. Every change is audited.
 */
export class AlertsService {
  constructor(private readonly deps: AlertsServiceDeps) {}

  /**
   * One page of the alerts in the principal's review scope, in the queue's order (unclosed first,
   * highest priority, earliest deadline, id): after `cursor` (keyset; what the previous page
   * returned as `nextCursor`) or, for older callers, at `offset`. `total` counts every page.
   */
  async list(
    principal: Principal,
    corpId: number,
    filters: AlertFilters,
    page: { limit: number; offset?: number; cursor?: string },
  ): Promise<AlertPage> {
    const p = new SqlParams([corpId]);
    const scope = await this.reviewScope(this.deps.pool, principal, corpId, p);
    const { assignee, ...rest } = filters;
    return new AlertsRepository(this.deps.pool).page(
      p,
      scope,
      { ...rest, assignee: assignee === 'me' ? principal.userId : assignee },
      page,
    );
  }

  /** The categories of the alerts in the principal's review scope, with how many are not closed. */
  async categories(principal: Principal, corpId: number): Promise<Array<{ category: string; open: number }>> {
    const p = new SqlParams([corpId]);
    const scope = await this.reviewScope(this.deps.pool, principal, corpId, p);
    const { rows } = await this.deps.pool.query<{ category: string; open: number }>(
      `SELECT a.category, (count(*) FILTER (WHERE a.status <> 'closed'))::int AS open
       FROM review_alerts a WHERE a.corp_id = $1 AND ${scope} GROUP BY a.category ORDER BY a.category`,
      p.values,
    );
    return rows;
  }

  /** An alert with its hits, its review trail and the conversation around it. */
  async get(
    viewer: Viewer,
    corpId: number,
    id: string,
  ): Promise<{
    alert: Alert;
    hits: Hit[];
    decisions: Decision[];
    context: ViewedMessage[];
    watermark: string;
  }> {
    const alert = await this.visible(this.deps.pool, viewer.principal, corpId, id);
    const [hits, decisions] = await Promise.all([
      this.hits(corpId, id),
      this.decisions(this.deps.pool, corpId, id),
    ]);
    const hour = 3_600_000;
    const context = await this.deps.content.conversation(viewer, corpId, alert.conversationId, {
      from: new Date(alert.windowStart.getTime() - CONTEXT_HOURS * hour),
      to: new Date(alert.windowEnd.getTime() + CONTEXT_HOURS * hour + 1),
      limit: 200,
    });
    return { alert, hits, decisions, context: context.items, watermark: context.watermark };
  }

  /** Claims unassigned (or one's own) alerts. */
  claim(principal: Principal, corpId: number, ids: string[], ip: string | null): Promise<Alert[]> {
    return this.each(principal, corpId, ids, ip, 'review.claim', async (client, alert) => {
      if (alert.status === 'closed') throw conflict(`alert ${alert.id} is closed`);
      if (alert.assigneeId && alert.assigneeId !== principal.userId)
        throw conflict(`alert ${alert.id} is claimed by someone else`);
      await this.record(client, corpId, alert.id, principal.userId, 'claim', {});
      return this.update(
        client,
        corpId,
        alert.id,
        `assignee_id = $3, status = CASE WHEN status = 'open' THEN 'in_review' ELSE status END,
        first_action_at = coalesce(first_action_at, now())`,
        [principal.userId],
      );
    });
  }

  /** Assigns or reassigns alerts to a reviewer who may decide in this corp. */
  async assign(
    principal: Principal,
    corpId: number,
    ids: string[],
    assigneeId: string,
    ip: string | null,
  ): Promise<Alert[]> {
    if (!(await this.canDecide(corpId, assigneeId)))
      throw new AppError(400, 'invalid_assignee', 'the assignee cannot review alerts in this corp');
    return this.each(principal, corpId, ids, ip, 'review.assign', async (client, alert) => {
      if (alert.status === 'closed') throw conflict(`alert ${alert.id} is closed`);
      await this.record(client, corpId, alert.id, principal.userId, 'assign', {
        comment: `→ user #${assigneeId}`,
      });
      return this.update(
        client,
        corpId,
        alert.id,
        `assignee_id = $3, first_action_at = coalesce(first_action_at, now())`,
        [assigneeId],
      );
    });
  }

  /** Decides alerts (one, or many at once) under the dual-review rules. */
  decideMany(
    principal: Principal,
    corpId: number,
    ids: string[],
    input: { disposition: Disposition; comment?: string; tags?: string[] },
    ip: string | null,
  ): Promise<Alert[]> {
    return this.each(principal, corpId, ids, ip, 'review.decide', async (client, alert) => {
      const queue = alert.queueId
        ? await new AlertsRepository(client).queue(corpId, alert.queueId)
        : undefined;
      const earlier = new Set(
        (await this.decisions(client, corpId, alert.id))
          .filter((d) => ['first', 'second'].includes(d.stage))
          .map((d) => d.reviewerId),
      );
      const outcome = decide(alert, queue, principal.userId, input.disposition, earlier);
      const note = { comment: input.comment ?? null, tags: input.tags ?? [] };
      switch (outcome.kind) {
        case 'refuse':
          await this.deps.audit.record(client, {
            corpId,
            actor: principal.actor,
            actorIp: ip,
            action: 'review.decide',
            resourceType: 'alert',
            resourceIds: [alert.id],
            result: 'denied',
            details: { reason: outcome.reason, disposition: input.disposition },
          });
          throw new DeniedAfterCommit(forbidden(outcome.reason));
        case 'await_second':
          await this.record(client, corpId, alert.id, principal.userId, 'first', {
            ...note,
            disposition: outcome.proposed,
          });
          await this.notifyLeads(
            client,
            corpId,
            alert,
            'review.second_review',
            '待复核 / Second review needed',
          );
          return this.update(
            client,
            corpId,
            alert.id,
            `status = 'awaiting_second', proposed_disposition = $3, proposed_by = $4,
            first_action_at = coalesce(first_action_at, now())`,
            [outcome.proposed, principal.userId],
          );
        case 'escalate':
          await this.record(client, corpId, alert.id, principal.userId, outcome.stage, {
            ...note,
            disposition: input.disposition,
            agrees: outcome.stage === 'second' ? false : null,
          });
          await this.notifyLeads(client, corpId, alert, 'review.escalated', '告警已升级 / Alert escalated');
          return this.update(
            client,
            corpId,
            alert.id,
            `status = 'escalated', escalated_at = coalesce(escalated_at, now()),
            first_action_at = coalesce(first_action_at, now())`,
            [],
          );
        case 'close': {
          await this.record(client, corpId, alert.id, principal.userId, outcome.stage, {
            ...note,
            disposition: outcome.disposition,
            agrees: outcome.stage === 'second' ? true : null,
          });
          const closed = await this.update(
            client,
            corpId,
            alert.id,
            `status = 'closed', disposition = $3, closed_at = now(),
            first_action_at = coalesce(first_action_at, now())`,
            [outcome.disposition],
          );
          if (outcome.disposition === 'violation_confirmed') await this.noticeEmployees(client, closed);
          return closed;
        }
      }
    });
  }

  /** A note on an alert in its review trail, also on a closed alert (no decision, no state change). */
  comment(principal: Principal, corpId: number, id: string, text: string, ip: string | null): Promise<Alert> {
    return this.each(principal, corpId, [id], ip, 'review.comment', async (client, alert) => {
      await this.record(client, corpId, alert.id, principal.userId, 'comment', { comment: text });
      return alert;
    }).then(([alert]) => alert!);
  }

  async decisions(db: Queryable, corpId: number, alertId: string): Promise<Decision[]> {
    const { rows } = await db.query<Decision>(
      `SELECT id::text, reviewer_id::text AS "reviewerId", stage, disposition, agrees, comment, tags, created_at AS "createdAt"
       FROM review_decisions WHERE corp_id = $1 AND alert_id = $2 ORDER BY id`,
      [corpId, alertId],
    );
    return rows;
  }

  async hits(corpId: number, alertId: string): Promise<Hit[]> {
    const { rows } = await this.deps.pool.query<Hit>(
      `SELECT h.msgid, h.rule_id AS "ruleId", h.term, h.category, h.severity, h.start_offset AS start, h.end_offset AS "end"
       FROM review_alert_findings x JOIN detection_hits h ON h.corp_id = x.corp_id AND h.finding_id = x.finding_id
       WHERE x.corp_id = $1 AND x.alert_id = $2 ORDER BY h.msg_time, h.start_offset`,
      [corpId, alertId],
    );
    return rows;
  }

  /** The alert if the principal's review scope covers it (404 otherwise: no existence leak). */
  async visible(db: Queryable, principal: Principal, corpId: number, id: string): Promise<Alert> {
    const p = new SqlParams([corpId, id]);
    const scope = await this.reviewScope(db, principal, corpId, p);
    const { rows } = await db.query<AlertRow>(
      `SELECT ${ALERT_COLUMNS} FROM review_alerts a WHERE a.corp_id = $1 AND a.id = $2::bigint AND ${scope}`,
      p.values,
    );
    if (!rows[0]) throw notFound('alert');
    return toAlert(rows[0]);
  }

  /** The alerts a reviewer may see: the whole corp, or those about employees of their subtrees. */
  private async reviewScope(
    db: Queryable,
    principal: Principal,
    corpId: number,
    p: SqlParams,
  ): Promise<string> {
    const held = grantsFor(principal, 'review.read').filter((g) => g.corpId === null || g.corpId === corpId);
    if (held.length === 0) return 'FALSE';
    if (held.some((g) => g.departmentId === null)) return 'TRUE';
    const subtree = await subtreeOf(
      db,
      corpId,
      held.map((g) => g.departmentId!),
    );
    return `EXISTS (SELECT 1 FROM employees e WHERE e.corp_id = a.corp_id AND e.userid = ANY(a.employee_userids)
      AND e.department_ids && ${p.add(subtree)}::bigint[])`;
  }

  private async canDecide(corpId: number, userId: string): Promise<boolean> {
    const { rows } = await this.deps.pool.query(
      `SELECT 1 FROM role_assignments r JOIN users u ON u.id = r.user_id
       WHERE r.user_id = $1 AND u.disabled_at IS NULL AND r.role IN ('compliance_officer', 'compliance_lead')
         AND (r.corp_id IS NULL OR r.corp_id = $2)`,
      [userId, corpId],
    );
    return rows.length > 0;
  }

  /** Runs `work` for each alert (locked, in scope) in one audited transaction. */
  private each(
    principal: Principal,
    corpId: number,
    ids: string[],
    ip: string | null,
    action: string,
    work: (client: PoolClient, alert: Alert) => Promise<Alert>,
  ): Promise<Alert[]> {
    return auditedTransaction(this.deps.pool, async (client) => {
      const out: Alert[] = [];
      for (const id of [...new Set(ids)].sort((a, b) => Number(a) - Number(b))) {
        const alert = await this.visible(client, principal, corpId, id);
        await client.query('SELECT 1 FROM review_alerts WHERE corp_id = $1 AND id = $2 FOR UPDATE', [
          corpId,
          id,
        ]);
        const fresh = (await new AlertsRepository(client).find(corpId, alert.id))!;
        out.push(await work(client, fresh));
      }
      await this.deps.audit.record(client, {
        corpId,
        actor: principal.actor,
        actorIp: ip,
        action,
        resourceType: 'alert',
        resourceIds: out.map((a) => a.id),
        result: 'allowed',
        details: { statuses: out.map((a) => a.status), dispositions: out.map((a) => a.disposition) },
      });
      return out;
    });
  }

  private async update(
    client: PoolClient,
    corpId: number,
    id: string,
    set: string,
    values: unknown[],
  ): Promise<Alert> {
    const { rows } = await client.query<AlertRow>(
      `UPDATE review_alerts a SET ${set} WHERE a.corp_id = $1 AND a.id = $2::bigint RETURNING ${ALERT_COLUMNS}`,
      [corpId, id, ...values],
    );
    return toAlert(rows[0]!);
  }

  private async record(
    client: PoolClient,
    corpId: number,
    alertId: string,
    reviewerId: string,
    stage: string,
    d: { disposition?: string; agrees?: boolean | null; comment?: string | null; tags?: string[] },
  ): Promise<void> {
    await client.query(
      `INSERT INTO review_decisions (corp_id, alert_id, reviewer_id, stage, disposition, agrees, comment, tags)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        corpId,
        alertId,
        reviewerId,
        stage,
        d.disposition ?? null,
        d.agrees ?? null,
        d.comment ?? null,
        d.tags ?? [],
      ],
    );
  }

  private async notifyLeads(client: PoolClient, corpId: number, alert: Alert, kind: string, title: string) {
    await this.deps.notifications?.notify(client, {
      corpId,
      recipients: { role: { role: 'compliance_lead', corpId } },
      kind,
      title,
      body: `Alert #${alert.id} (${alert.category}, ${alert.severity})`,
      link: `/review/alerts/${alert.id}`,
    });
  }

  /** The templated notice to each employee a confirmed alert is about (and a notification when linked). */
  private async noticeEmployees(client: PoolClient, alert: Alert): Promise<void> {
    for (const userid of alert.employeeUserids) {
      const { rows } = await client.query<{ id: string | null; name: string | null }>(
        `SELECT u.id::text, e.name FROM employees e LEFT JOIN users u ON u.corp_id = e.corp_id AND u.employee_userid = e.userid
           AND u.disabled_at IS NULL
         WHERE e.corp_id = $1 AND e.userid = $2`,
        [alert.corpId, userid],
      );
      const account = rows[0]?.id ?? null;
      await client.query(
        `INSERT INTO review_notices (corp_id, alert_id, employee_userid, user_id, body) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT DO NOTHING`,
        [alert.corpId, alert.id, userid, account, noticeFor(rows[0]?.name ?? userid, alert)],
      );
      if (account)
        await this.deps.notifications?.notify(client, {
          corpId: alert.corpId,
          recipients: { userIds: [account] },
          kind: 'review.notice',
          title: '合规复核结果通知 / Compliance review result',
          body: 'A finding about your conversations was confirmed. You can read it and appeal in Vigil.',
          link: '/me/notices',
        });
    }
  }
}

const conflict = (message: string) => new AppError(409, 'alert_state', message);
