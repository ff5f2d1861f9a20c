/**
 * Consent of external contacts to archiving (会话存档同意), kept as an append-only history in
 * `external_consents`: one row per statement (a check_single_agree answer, an archived
 * agree/disagree message, a msg_audit_approved callback). The latest by changed_at is current.
 */
import type { Queryable } from '../../platform/db/pool.js';

export type ConsentStatus = 'agree' | 'disagree';
export type ConsentSource =
  'check_single_agree' | 'check_room_agree' | 'agree_message' | 'disagree_message' | 'msg_audit_approved';

/** One statement about a customer's consent. */
export interface ConsentRecord {
  corpId: number;
  externalUserid: string;
  /** The employee of a 1:1 consent; null for a room consent. */
  userid: string | null;
  roomId: string | null;
  status: ConsentStatus;
  changedAt: Date;
  source: ConsentSource;
  /** The archived agree/disagree message this came from. */
  msgid?: string | null;
}

export interface StoredConsent extends ConsentRecord {
  id: string;
  recordedAt: Date;
}

interface ConsentRow {
  corp_id: number;
  id: string;
  external_userid: string;
  userid: string | null;
  room_id: string | null;
  status: ConsentStatus;
  changed_at: Date;
  source: ConsentSource;
  msgid: string | null;
  recorded_at: Date;
}

const toStored = (r: ConsentRow): StoredConsent => ({
  corpId: r.corp_id,
  id: r.id,
  externalUserid: r.external_userid,
  userid: r.userid,
  roomId: r.room_id,
  status: r.status,
  changedAt: r.changed_at,
  source: r.source,
  msgid: r.msgid,
  recordedAt: r.recorded_at,
});

/** SQL of external_consents. */
export class ConsentRepository {
  constructor(private readonly db: Queryable) {}

  /** Appends statements; an identical statement already stored is skipped. Returns rows added. */
  async record(records: ConsentRecord[]): Promise<number> {
    if (records.length === 0) return 0;
    const { rowCount } = await this.db.query(
      `INSERT INTO external_consents (corp_id, external_userid, userid, room_id, status, changed_at, source, msgid)
       SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[],
         $7::text[], $8::text[])
       ON CONFLICT (corp_id, external_userid, coalesce(userid, ''), coalesce(room_id, ''), status, changed_at, source)
       DO NOTHING`,
      [
        records.map((r) => r.corpId),
        records.map((r) => r.externalUserid),
        records.map((r) => r.userid),
        records.map((r) => r.roomId),
        records.map((r) => r.status),
        records.map((r) => r.changedAt),
        records.map((r) => r.source),
        records.map((r) => r.msgid ?? null),
      ],
    );
    return rowCount ?? 0;
  }

  /**
   * The latest statement about a customer: for one employee (1:1 consent) when `userid` is given,
   * for one group when `roomId` is given, otherwise any.
   */
  async current(
    corpId: number,
    externalUserid: string,
    userid: string | null = null,
    roomId: string | null = null,
  ): Promise<StoredConsent | undefined> {
    const { rows } = await this.db.query<ConsentRow>(
      `SELECT * FROM external_consents
       WHERE corp_id = $1 AND external_userid = $2
         AND ($3::text IS NULL OR userid = $3) AND ($4::text IS NULL OR room_id = $4)
       ORDER BY changed_at DESC, recorded_at DESC, id DESC LIMIT 1`,
      [corpId, externalUserid, userid, roomId],
    );
    return rows[0] ? toStored(rows[0]) : undefined;
  }

  /** Every statement about a customer, oldest first. */
  async history(corpId: number, externalUserid: string): Promise<StoredConsent[]> {
    const { rows } = await this.db.query<ConsentRow>(
      `SELECT * FROM external_consents WHERE corp_id = $1 AND external_userid = $2
       ORDER BY changed_at, recorded_at, id`,
      [corpId, externalUserid],
    );
    return rows.map(toStored);
  }
}

const isExternalId = (id: string): boolean => /^w[om]/.test(id);

/**
 * The consent statement carried by an archived `agree`/`disagree` message, or null for any other
 * message. `agree.userid` is the customer; the employee is the other party of a 1:1 chat.
 */
export function consentFromMessage(corpId: number, msg: Record<string, unknown>): ConsentRecord | null {
  const type = msg.msgtype;
  if (type !== 'agree' && type !== 'disagree') return null;
  const payload = msg[type] as Record<string, unknown> | undefined;
  const externalUserid = typeof payload?.userid === 'string' ? payload.userid : '';
  if (!externalUserid) return null;
  const at = Number(payload?.[`${type}_time`] ?? msg.msgtime);
  if (!Number.isFinite(at) || at <= 0) return null;
  const roomId = typeof msg.roomid === 'string' && msg.roomid !== '' ? msg.roomid : null;
  const parties = [msg.from, ...(Array.isArray(msg.tolist) ? msg.tolist : [])].filter(
    (p): p is string => typeof p === 'string' && p !== '' && p !== externalUserid,
  );
  const employee =
    roomId === null ? (parties.find((p) => !isExternalId(p) && !p.startsWith('wb')) ?? null) : null;
  return {
    corpId,
    externalUserid,
    userid: employee,
    roomId,
    status: type,
    changedAt: new Date(at),
    source: type === 'agree' ? 'agree_message' : 'disagree_message',
    msgid: typeof msg.msgid === 'string' ? msg.msgid : null,
  };
}

/**
 * Records the consent of an archived agree/disagree message (no-op for other messages). Call it
 * with the transaction that archives the message. Returns true when a new row was added.
 */
export async function recordConsentFromMessage(
  db: Queryable,
  corpId: number,
  msg: Record<string, unknown>,
): Promise<boolean> {
  const record = consentFromMessage(corpId, msg);
  if (!record) return false;
  return (await new ConsentRepository(db).record([record])) > 0;
}

/** WeCom's agree_status → Vigil's status; unverified values (e.g. Default_Agree) give null. */
export function consentStatusOf(agreeStatus: string): ConsentStatus | null {
  if (agreeStatus === 'Agree') return 'agree';
  if (agreeStatus === 'Disagree') return 'disagree';
  return null;
}
