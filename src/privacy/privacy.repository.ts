import type { Queryable } from '../platform/db/pool.js';
import type { Acknowledgement, Coverage, PrivacyNotice } from './types.js';

const NOTICE_COLUMNS = `n.corp_id AS "corpId", n.version, n.title, n.body, n.title_en AS "titleEn",
  n.body_en AS "bodyEn", n.effective_on::text AS "effectiveOn", n.digest, n.published_by AS "publishedBy",
  n.published_at AS "publishedAt"`;

const ACK_COLUMNS = `a.id::text, a.corp_id AS "corpId", a.version, a.employee_userid AS "employeeUserid",
  a.user_id::text AS "userId", a.acknowledged_at AS "acknowledgedAt", a.ip, a.user_agent AS "userAgent"`;

/** The corp's calendar day now, in its own time zone. */
const TODAY = `(SELECT (now() AT TIME ZONE c.timezone)::date FROM corps c WHERE c.id = $1)`;

/** SQL of monitoring notices and their acknowledgements. */
export class PrivacyRepository {
  constructor(private readonly db: Queryable) {}

  /** Today in the corp's time zone (YYYY-MM-DD); undefined when the corp does not exist. */
  async today(corpId: number): Promise<string | undefined> {
    const { rows } = await this.db.query<{ today: string | null }>(`SELECT ${TODAY}::text AS today`, [
      corpId,
    ]);
    return rows[0]?.today ?? undefined;
  }

  /** Serialises publishing in a corp until the transaction ends (version numbers are per corp). */
  async lockCorp(corpId: number): Promise<void> {
    await this.db.query(`SELECT pg_advisory_xact_lock(hashtext('vigil.privacy_notices'), $1)`, [corpId]);
  }

  /** The newest published version, effective or not. */
  async latest(corpId: number): Promise<PrivacyNotice | undefined> {
    const { rows } = await this.db.query<PrivacyNotice>(
      `SELECT ${NOTICE_COLUMNS} FROM privacy_notices n WHERE n.corp_id = $1 ORDER BY n.version DESC LIMIT 1`,
      [corpId],
    );
    return rows[0];
  }

  /** The version in force today: the newest whose effective day has come. */
  async current(corpId: number): Promise<PrivacyNotice | undefined> {
    const { rows } = await this.db.query<PrivacyNotice>(
      `SELECT ${NOTICE_COLUMNS} FROM privacy_notices n
       WHERE n.corp_id = $1 AND n.effective_on <= ${TODAY}
       ORDER BY n.version DESC LIMIT 1`,
      [corpId],
    );
    return rows[0];
  }

  async get(corpId: number, version: number): Promise<PrivacyNotice | undefined> {
    const { rows } = await this.db.query<PrivacyNotice>(
      `SELECT ${NOTICE_COLUMNS} FROM privacy_notices n WHERE n.corp_id = $1 AND n.version = $2`,
      [corpId, version],
    );
    return rows[0];
  }

  /** Every version, newest first, with how many employees acknowledged each. */
  async list(corpId: number): Promise<Array<PrivacyNotice & { acknowledgements: number }>> {
    const { rows } = await this.db.query<PrivacyNotice & { acknowledgements: number }>(
      `SELECT ${NOTICE_COLUMNS},
         (SELECT count(*)::int FROM privacy_acknowledgements a
          WHERE a.corp_id = n.corp_id AND a.version = n.version) AS acknowledgements
       FROM privacy_notices n WHERE n.corp_id = $1 ORDER BY n.version DESC`,
      [corpId],
    );
    return rows;
  }

  async insert(notice: Omit<PrivacyNotice, 'publishedAt'>): Promise<PrivacyNotice> {
    const { rows } = await this.db.query<PrivacyNotice>(
      `INSERT INTO privacy_notices AS n
         (corp_id, version, title, body, title_en, body_en, effective_on, digest, published_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7::date, $8, $9)
       RETURNING ${NOTICE_COLUMNS}`,
      [
        notice.corpId,
        notice.version,
        notice.title,
        notice.body,
        notice.titleEn,
        notice.bodyEn,
        notice.effectiveOn,
        notice.digest,
        notice.publishedBy,
      ],
    );
    return rows[0]!;
  }

  /** The WeCom employee an account stands for in a corp (linked, and known to the corp). */
  async employeeOf(userId: string, corpId: number): Promise<string | null> {
    const { rows } = await this.db.query<{ userid: string }>(
      `SELECT e.userid FROM users u JOIN employees e ON e.corp_id = u.corp_id AND e.userid = u.employee_userid
       WHERE u.id = $1 AND u.corp_id = $2`,
      [userId, corpId],
    );
    return rows[0]?.userid ?? null;
  }

  async acknowledgementOf(
    corpId: number,
    version: number,
    employeeUserid: string,
  ): Promise<Acknowledgement | undefined> {
    const { rows } = await this.db.query<Acknowledgement>(
      `SELECT ${ACK_COLUMNS} FROM privacy_acknowledgements a
       WHERE a.corp_id = $1 AND a.version = $2 AND a.employee_userid = $3`,
      [corpId, version, employeeUserid],
    );
    return rows[0];
  }

  /** Records an acknowledgement once; undefined when the employee had acknowledged this version. */
  async insertAcknowledgement(ack: {
    corpId: number;
    version: number;
    employeeUserid: string;
    userId: string;
    ip: string | null;
    userAgent: string | null;
  }): Promise<Acknowledgement | undefined> {
    const { rows } = await this.db.query<Acknowledgement>(
      `INSERT INTO privacy_acknowledgements AS a (corp_id, version, employee_userid, user_id, ip, user_agent)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT ON CONSTRAINT privacy_acknowledgements_once DO NOTHING
       RETURNING ${ACK_COLUMNS}`,
      [ack.corpId, ack.version, ack.employeeUserid, ack.userId, ack.ip, ack.userAgent],
    );
    return rows[0];
  }

  /** Consent records of one version, newest first. */
  async acknowledgements(
    corpId: number,
    version: number,
    page: { before?: string; limit: number },
  ): Promise<Acknowledgement[]> {
    const { rows } = await this.db.query<Acknowledgement>(
      `SELECT ${ACK_COLUMNS} FROM privacy_acknowledgements a
       WHERE a.corp_id = $1 AND a.version = $2 AND ($3::bigint IS NULL OR a.id < $3::bigint)
       ORDER BY a.id DESC LIMIT $4`,
      [corpId, version, page.before ?? null, page.limit],
    );
    return rows;
  }

  /** Active employees (WeCom status 1) and who of them acknowledged `version`. */
  async coverage(corpId: number, version: number, limit: number): Promise<Omit<Coverage, 'effectiveOn'>> {
    const counts = await this.db.query<{ employees: number; acknowledged: number }>(
      `SELECT count(*)::int AS employees, count(a.id)::int AS acknowledged
       FROM employees e
       LEFT JOIN privacy_acknowledgements a
         ON a.corp_id = e.corp_id AND a.version = $2 AND a.employee_userid = e.userid
       WHERE e.corp_id = $1 AND e.status = 1`,
      [corpId, version],
    );
    const missing = await this.db.query<Coverage['missing'][number]>(
      `SELECT e.userid, e.name, d.name AS department,
         EXISTS (SELECT 1 FROM users u WHERE u.corp_id = e.corp_id AND u.employee_userid = e.userid
                   AND u.disabled_at IS NULL) AS "hasAccount"
       FROM employees e
       LEFT JOIN departments d ON d.corp_id = e.corp_id AND d.id = e.main_department
       WHERE e.corp_id = $1 AND e.status = 1
         AND NOT EXISTS (SELECT 1 FROM privacy_acknowledgements a
                         WHERE a.corp_id = e.corp_id AND a.version = $2 AND a.employee_userid = e.userid)
       ORDER BY e.userid LIMIT $3`,
      [corpId, version, limit + 1],
    );
    const { employees, acknowledged } = counts.rows[0]!;
    return {
      version,
      employees,
      acknowledged,
      pending: employees - acknowledged,
      missing: missing.rows.slice(0, limit),
      truncated: missing.rows.length > limit,
    };
  }
}
