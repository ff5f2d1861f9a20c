import type { Queryable } from '../../platform/db/pool.js';

/** One member of a group as stored in wecom_groups.members. */
export interface GroupMember {
  id: string;
  /** 1 member of the corp, 2 external contact. */
  type: 1 | 2;
  joinedAt: number | null;
  name?: string;
}

export interface WecomGroup {
  corpId: number;
  roomId: string;
  name: string | null;
  owner: string | null;
  kind: 'internal' | 'customer';
  notice: string | null;
  createdAtWecom: Date | null;
  members: GroupMember[];
  updatedAt?: Date;
}

export interface ExternalContactRow {
  externalUserid: string;
  name: string | null;
  corpName: string | null;
  /** 1 WeChat user, 2 WeCom user, 3 robot. */
  kind: number | null;
}

export interface ConnectorSummary {
  corpId: number;
  wecomCorpId: string;
  apiBaseUrl: string;
  enabled: boolean;
}

/** SQL of the contacts sync: employee status and permit list, external contacts, groups. */
export class ContactsRepository {
  constructor(private readonly db: Queryable) {}

  /** Marks employees WeCom no longer returns as left (status 5); returns their userids. */
  async markMissingAsLeft(corpId: number, present: string[]): Promise<string[]> {
    const { rows } = await this.db.query<{ userid: string }>(
      `UPDATE employees SET status = 5, updated_at = now()
       WHERE corp_id = $1 AND status <> 5 AND NOT (userid = ANY($2::text[]))
       RETURNING userid`,
      [corpId, present],
    );
    return rows.map((r) => r.userid).sort();
  }

  async countEmployees(corpId: number): Promise<number> {
    const { rows } = await this.db.query<{ n: string }>(
      'SELECT count(*) AS n FROM employees WHERE corp_id = $1 AND status <> 5',
      [corpId],
    );
    return Number(rows[0]!.n);
  }

  /** Departments flagged as sensitive posts, so new employees in them inherit the flag. */
  async sensitiveDepartments(corpId: number): Promise<Set<number>> {
    const { rows } = await this.db.query<{ id: string }>(
      'SELECT id FROM departments WHERE corp_id = $1 AND sensitive_post',
      [corpId],
    );
    return new Set(rows.map((r) => Number(r.id)));
  }

  /** archived = on the permit list; returns how many rows changed and the listed ids not known. */
  async setPermitList(corpId: number, userids: string[]): Promise<{ changed: number; unknown: string[] }> {
    const { rowCount } = await this.db.query(
      `UPDATE employees SET archived = (userid = ANY($2::text[])), updated_at = now()
       WHERE corp_id = $1 AND archived IS DISTINCT FROM (userid = ANY($2::text[]))`,
      [corpId, userids],
    );
    const { rows } = await this.db.query<{ userid: string }>(
      `SELECT u AS userid FROM unnest($2::text[]) AS u
       WHERE NOT EXISTS (SELECT 1 FROM employees e WHERE e.corp_id = $1 AND e.userid = u)`,
      [corpId, userids],
    );
    return { changed: rowCount ?? 0, unknown: rows.map((r) => r.userid) };
  }

  async upsertExternalContacts(corpId: number, contacts: ExternalContactRow[]): Promise<void> {
    if (contacts.length === 0) return;
    await this.db.query(
      `INSERT INTO external_contacts (corp_id, external_userid, name, corp_name, kind)
       SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::smallint[])
       ON CONFLICT (corp_id, external_userid) DO UPDATE SET name = EXCLUDED.name,
         corp_name = EXCLUDED.corp_name, kind = EXCLUDED.kind, updated_at = now()`,
      [
        corpId,
        contacts.map((c) => c.externalUserid),
        contacts.map((c) => c.name),
        contacts.map((c) => c.corpName),
        contacts.map((c) => c.kind),
      ],
    );
  }

  async upsertGroup(g: WecomGroup): Promise<void> {
    await this.db.query(
      `INSERT INTO wecom_groups (corp_id, room_id, name, owner, kind, notice, created_at_wecom, members)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)
       ON CONFLICT (corp_id, room_id) DO UPDATE SET name = EXCLUDED.name, owner = EXCLUDED.owner,
         kind = EXCLUDED.kind, notice = EXCLUDED.notice, created_at_wecom = EXCLUDED.created_at_wecom,
         members = EXCLUDED.members, updated_at = now()`,
      [g.corpId, g.roomId, g.name, g.owner, g.kind, g.notice, g.createdAtWecom, JSON.stringify(g.members)],
    );
  }

  async findGroup(corpId: number, roomId: string): Promise<WecomGroup | undefined> {
    const { rows } = await this.db.query<{
      corp_id: number;
      room_id: string;
      name: string | null;
      owner: string | null;
      kind: 'internal' | 'customer';
      notice: string | null;
      created_at_wecom: Date | null;
      members: GroupMember[];
      updated_at: Date;
    }>('SELECT * FROM wecom_groups WHERE corp_id = $1 AND room_id = $2', [corpId, roomId]);
    const r = rows[0];
    if (!r) return undefined;
    return {
      corpId: r.corp_id,
      roomId: r.room_id,
      name: r.name,
      owner: r.owner,
      kind: r.kind,
      notice: r.notice,
      createdAtWecom: r.created_at_wecom,
      members: r.members,
      updatedAt: r.updated_at,
    };
  }

  /** Room ids worth (re)fetching: groups seen in the archive and groups already known. */
  async knownRoomIds(corpId: number): Promise<string[]> {
    const { rows } = await this.db.query<{ room_id: string }>(
      `SELECT room_id FROM conversations WHERE corp_id = $1 AND kind = 'group' AND room_id IS NOT NULL
       UNION SELECT room_id FROM wecom_groups WHERE corp_id = $1
       ORDER BY room_id`,
      [corpId],
    );
    return rows.map((r) => r.room_id);
  }

  async customerGroupIds(corpId: number): Promise<string[]> {
    const { rows } = await this.db.query<{ room_id: string }>(
      "SELECT room_id FROM wecom_groups WHERE corp_id = $1 AND kind = 'customer' ORDER BY room_id",
      [corpId],
    );
    return rows.map((r) => r.room_id);
  }

  /**
   * External contacts to look up: seen in the archive or in groups, and not refreshed for a day.
   */
  async externalIdsToSync(corpId: number, limit: number): Promise<string[]> {
    const { rows } = await this.db.query<{ id: string }>(
      `WITH seen AS (
         SELECT member_id AS id FROM conversation_members WHERE corp_id = $1 AND member_kind IN ('external', 'robot')
         UNION
         SELECT m->>'id' FROM wecom_groups g, jsonb_array_elements(g.members) m
         WHERE g.corp_id = $1 AND (m->>'type') = '2')
       SELECT s.id FROM seen s
       LEFT JOIN external_contacts x ON x.corp_id = $1 AND x.external_userid = s.id
       WHERE x.external_userid IS NULL OR x.updated_at < now() - interval '1 day'
       ORDER BY x.updated_at NULLS FIRST, s.id
       LIMIT $2`,
      [corpId, limit],
    );
    return rows.map((r) => r.id);
  }

  /** (employee, customer) pairs of recent 1:1 external conversations, for check_single_agree. */
  async recentConsentPairs(
    corpId: number,
    limit: number,
  ): Promise<Array<{ userid: string; externalUserid: string }>> {
    const { rows } = await this.db.query<{ userid: string; external_userid: string }>(
      `SELECT DISTINCT e.member_id AS userid, x.member_id AS external_userid
       FROM conversations c
       JOIN conversation_members e ON e.corp_id = c.corp_id AND e.conversation_id = c.id AND e.member_kind = 'employee'
       JOIN conversation_members x ON x.corp_id = c.corp_id AND x.conversation_id = c.id AND x.member_kind = 'external'
       WHERE c.corp_id = $1 AND c.kind = 'external' AND c.last_message_at > now() - interval '30 days'
       ORDER BY 1, 2
       LIMIT $2`,
      [corpId, limit],
    );
    return rows.map((r) => ({ userid: r.userid, externalUserid: r.external_userid }));
  }

  /** Connectors (all, or only the enabled ones). */
  async listConnectors(onlyEnabled = true): Promise<ConnectorSummary[]> {
    const { rows } = await this.db.query<{
      corp_id: number;
      wecom_corp_id: string;
      api_base_url: string;
      enabled: boolean;
    }>(
      `SELECT corp_id, wecom_corp_id, api_base_url, enabled FROM wecom_connectors
       WHERE $1::boolean = false OR enabled ORDER BY corp_id`,
      [onlyEnabled],
    );
    return rows.map((r) => ({
      corpId: r.corp_id,
      wecomCorpId: r.wecom_corp_id,
      apiBaseUrl: r.api_base_url,
      enabled: r.enabled,
    }));
  }

  async findConnector(corpId: number): Promise<ConnectorSummary | undefined> {
    const { rows } = await this.db.query<{
      corp_id: number;
      wecom_corp_id: string;
      api_base_url: string;
      enabled: boolean;
    }>('SELECT corp_id, wecom_corp_id, api_base_url, enabled FROM wecom_connectors WHERE corp_id = $1', [
      corpId,
    ]);
    const r = rows[0];
    return r
      ? { corpId: r.corp_id, wecomCorpId: r.wecom_corp_id, apiBaseUrl: r.api_base_url, enabled: r.enabled }
      : undefined;
  }

  /** The WeCom corp id (ww…) of a Vigil corp: the connector's, else the corp's own column. */
  async wecomCorpIdOf(corpId: number): Promise<string | null> {
    const { rows } = await this.db.query<{ id: string | null }>(
      `SELECT coalesce(w.wecom_corp_id, c.wecom_corp_id) AS id
       FROM corps c LEFT JOIN wecom_connectors w ON w.corp_id = c.id WHERE c.id = $1`,
      [corpId],
    );
    return rows[0]?.id ?? null;
  }
}
