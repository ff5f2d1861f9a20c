import { auditedTransaction } from '../../access/denials.js';
import type { Principal } from '../../access/types.js';
import type { AuditLog } from '../../audit/audit-log.js';
import type { Pool, PoolClient } from '../../platform/db/pool.js';
import { AppError, notFound } from '../../platform/http/errors.js';
import type { AlertsService } from '../alerts/alerts.service.js';

export interface Case {
  id: string;
  corpId: number;
  title: string;
  status: 'open' | 'closed';
  legalHold: boolean;
  createdBy: string;
  createdAt: Date;
  closedAt: Date | null;
  alertIds: string[];
  participants: Array<{ userId: string; role: string }>;
  timeline: Array<{ id: string; actorId: string | null; kind: string; body: string | null; createdAt: Date }>;
}

/**
 * Investigations: alerts grouped into a case with notes, a timeline, participants and a legal
 * hold (nothing in a held case may be purged). Every change is on the timeline and audited.
 */
export class CasesService {
  constructor(private readonly deps: { pool: Pool; audit: AuditLog; alerts: AlertsService }) {}

  async create(
    principal: Principal,
    corpId: number,
    title: string,
    alertIds: string[],
    ip: string | null,
  ): Promise<Case> {
    const id = await this.tx(principal, corpId, ip, 'case.create', async (client) => {
      const { rows } = await client.query<{ id: string }>(
        'INSERT INTO review_cases (corp_id, title, created_by) VALUES ($1, $2, $3) RETURNING id::text',
        [corpId, title, principal.userId],
      );
      const caseId = rows[0]!.id;
      await client.query(
        `INSERT INTO review_case_participants (corp_id, case_id, user_id, role) VALUES ($1, $2, $3, 'owner')`,
        [corpId, caseId, principal.userId],
      );
      await this.event(client, corpId, caseId, principal.userId, 'created', title);
      await this.attach(client, principal, corpId, caseId, alertIds);
      return caseId;
    });
    return this.get(corpId, id);
  }

  async addAlerts(
    principal: Principal,
    corpId: number,
    caseId: string,
    alertIds: string[],
    ip: string | null,
  ) {
    await this.tx(principal, corpId, ip, 'case.add_alerts', async (client) => {
      await this.open(client, corpId, caseId);
      await this.attach(client, principal, corpId, caseId, alertIds);
      return caseId;
    });
    return this.get(corpId, caseId);
  }

  async addNote(principal: Principal, corpId: number, caseId: string, note: string, ip: string | null) {
    await this.tx(principal, corpId, ip, 'case.note', async (client) => {
      await this.open(client, corpId, caseId);
      await this.event(client, corpId, caseId, principal.userId, 'note', note);
      return caseId;
    });
    return this.get(corpId, caseId);
  }

  async addParticipant(
    principal: Principal,
    corpId: number,
    caseId: string,
    userId: string,
    role: string,
    ip: string | null,
  ) {
    await this.tx(principal, corpId, ip, 'case.participant', async (client) => {
      await this.open(client, corpId, caseId);
      await client.query(
        `INSERT INTO review_case_participants (corp_id, case_id, user_id, role) VALUES ($1, $2, $3, $4)
         ON CONFLICT (corp_id, case_id, user_id) DO UPDATE SET role = EXCLUDED.role`,
        [corpId, caseId, userId, role],
      );
      await this.event(
        client,
        corpId,
        caseId,
        principal.userId,
        'participant_added',
        `user #${userId} as ${role}`,
      );
      return caseId;
    });
    return this.get(corpId, caseId);
  }

  async setLegalHold(
    principal: Principal,
    corpId: number,
    caseId: string,
    hold: boolean,
    reason: string,
    ip: string | null,
  ) {
    await this.tx(principal, corpId, ip, hold ? 'case.hold' : 'case.release', async (client) => {
      await this.find(client, corpId, caseId);
      await client.query('UPDATE review_cases SET legal_hold = $3 WHERE corp_id = $1 AND id = $2', [
        corpId,
        caseId,
        hold,
      ]);
      await this.event(client, corpId, caseId, principal.userId, hold ? 'hold_set' : 'hold_released', reason);
      return caseId;
    });
    return this.get(corpId, caseId);
  }

  async close(principal: Principal, corpId: number, caseId: string, summary: string, ip: string | null) {
    await this.tx(principal, corpId, ip, 'case.close', async (client) => {
      await this.open(client, corpId, caseId);
      await client.query(
        `UPDATE review_cases SET status = 'closed', closed_at = now() WHERE corp_id = $1 AND id = $2`,
        [corpId, caseId],
      );
      await this.event(client, corpId, caseId, principal.userId, 'closed', summary);
      return caseId;
    });
    return this.get(corpId, caseId);
  }

  /** Records something that happened to a case from elsewhere (an evidence export). */
  async event(
    client: PoolClient,
    corpId: number,
    caseId: string,
    actorId: string | null,
    kind: string,
    body: string | null,
  ) {
    await client.query(
      'INSERT INTO review_case_events (corp_id, case_id, actor_id, kind, body) VALUES ($1, $2, $3, $4, $5)',
      [corpId, caseId, actorId, kind, body],
    );
  }

  async list(corpId: number, status?: 'open' | 'closed'): Promise<Case[]> {
    const { rows } = await this.deps.pool.query<{ id: string }>(
      `SELECT id::text FROM review_cases WHERE corp_id = $1 AND ($2::text IS NULL OR status = $2) ORDER BY id DESC LIMIT 200`,
      [corpId, status ?? null],
    );
    return Promise.all(rows.map((r) => this.get(corpId, r.id)));
  }

  async get(corpId: number, caseId: string, db: Pool | PoolClient = this.deps.pool): Promise<Case> {
    const base = await this.find(db, corpId, caseId);
    const [alerts, participants, timeline] = await Promise.all([
      db.query<{ alert_id: string }>(
        'SELECT alert_id::text FROM review_case_alerts WHERE corp_id = $1 AND case_id = $2 ORDER BY alert_id',
        [corpId, caseId],
      ),
      db.query<{ userId: string; role: string }>(
        'SELECT user_id::text AS "userId", role FROM review_case_participants WHERE corp_id = $1 AND case_id = $2 ORDER BY user_id',
        [corpId, caseId],
      ),
      db.query<Case['timeline'][number]>(
        `SELECT id::text, actor_id::text AS "actorId", kind, body, created_at AS "createdAt"
         FROM review_case_events WHERE corp_id = $1 AND case_id = $2 ORDER BY id`,
        [corpId, caseId],
      ),
    ]);
    return {
      ...base,
      alertIds: alerts.rows.map((r) => r.alert_id),
      participants: participants.rows,
      timeline: timeline.rows,
    };
  }

  private async find(db: Pool | PoolClient, corpId: number, caseId: string) {
    const { rows } = await db.query<Omit<Case, 'alertIds' | 'participants' | 'timeline'>>(
      `SELECT id::text, corp_id AS "corpId", title, status, legal_hold AS "legalHold", created_by::text AS "createdBy",
         created_at AS "createdAt", closed_at AS "closedAt"
       FROM review_cases WHERE corp_id = $1 AND id = $2::bigint`,
      [corpId, caseId],
    );
    if (!rows[0]) throw notFound('case');
    return rows[0];
  }

  private async open(client: PoolClient, corpId: number, caseId: string) {
    const c = await this.find(client, corpId, caseId);
    if (c.status !== 'open') throw new AppError(409, 'case_closed', 'the case is closed');
  }

  private async attach(
    client: PoolClient,
    principal: Principal,
    corpId: number,
    caseId: string,
    alertIds: string[],
  ) {
    for (const alertId of alertIds) {
      await this.deps.alerts.visible(client, principal, corpId, alertId);
      const added = await client.query(
        `INSERT INTO review_case_alerts (corp_id, case_id, alert_id, added_by) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
        [corpId, caseId, alertId, principal.userId],
      );
      if (added.rowCount)
        await this.event(client, corpId, caseId, principal.userId, 'alert_added', `alert #${alertId}`);
    }
  }

  private tx(
    principal: Principal,
    corpId: number,
    ip: string | null,
    action: string,
    work: (client: PoolClient) => Promise<string>,
  ) {
    return auditedTransaction(this.deps.pool, async (client) => {
      const caseId = await work(client);
      await this.deps.audit.record(client, {
        corpId,
        actor: principal.actor,
        actorIp: ip,
        action,
        resourceType: 'case',
        resourceIds: [caseId],
        result: 'allowed',
      });
      return caseId;
    });
  }
}
