import type { Queryable } from '../../platform/db/pool.js';
import { SqlParams, type SqlCondition } from '../../platform/db/sql-params.js';
import { maskText } from './masking.js';
import type { Pseudonymizer } from './pseudonyms.js';

/** Counterparts listed per conversation (a group can have hundreds of members). */
const MAX_COUNTERPARTS = 20;

/** A conversation as the viewer may see it in a list: no message content, names as allowed. */
export interface ConversationSummary {
  id: string;
  kind: 'internal' | 'external' | 'group';
  /** The group's name (masked like message text), null for 1:1 chats. */
  title: string | null;
  /** The latest message the viewer may see in it. */
  lastMessageAt: Date;
  /** Members other than the viewer (up to 20): pseudonymised ids carry no name. */
  counterparts: Array<{ id: string; kind: 'employee' | 'external' | 'robot'; name: string | null }>;
  memberCount: number;
}

interface Row {
  id: string;
  kind: ConversationSummary['kind'];
  title: string | null;
  last_at: Date;
  last_us: string;
  member_count: number;
}

interface MemberRow {
  conversation: string;
  id: string;
  kind: 'employee' | 'external' | 'robot';
  name: string | null;
}

/** Keyset cursor: the last row's time (µs since the epoch) and id. */
function decodeCursor(cursor: string): [string, string] {
  const match = /^(\d{1,20})\.(\d{1,20})$/.exec(cursor);
  if (!match) throw new RangeError('invalid cursor');
  return [match[1]!, match[2]!];
}

/**
 * Conversations with at least one message `condition` (the viewer's scope, over messages `m`)
 * lets through, latest visible activity first. `member`: only conversations this WeCom id is in
 * (null: none at all; undefined: no such filter).
 */
export async function listConversations(
  db: Queryable,
  corpId: number,
  condition: SqlCondition,
  options: { member?: string | null; cursor?: string; limit: number },
): Promise<{ rows: Row[]; members: MemberRow[]; next: string | null }> {
  if (options.member === null) return { rows: [], members: [], next: null };
  const p = new SqlParams([corpId]);
  const scoped = condition(p);
  const member =
    options.member === undefined
      ? ''
      : `AND EXISTS (SELECT 1 FROM conversation_members me WHERE me.corp_id = c.corp_id
           AND me.conversation_id = c.id AND me.member_id = ${p.add(options.member)})`;
  let after = '';
  if (options.cursor) {
    const [us, id] = decodeCursor(options.cursor);
    after = `AND ((extract(epoch FROM last.at) * 1000000)::bigint, c.id) < (${p.add(us)}::bigint, ${p.add(id)}::bigint)`;
  }
  const { rows } = await db.query<Row>(
    `SELECT c.id::text AS id, c.kind, c.title, last.at AS last_at,
       (extract(epoch FROM last.at) * 1000000)::bigint::text AS last_us,
       (SELECT count(*)::int FROM conversation_members cm
        WHERE cm.corp_id = c.corp_id AND cm.conversation_id = c.id) AS member_count
     FROM conversations c
     CROSS JOIN LATERAL (
       SELECT m.msg_time AS at FROM messages m
       WHERE m.corp_id = c.corp_id AND m.conversation_id = c.id AND ${scoped}
       ORDER BY m.msg_time DESC LIMIT 1
     ) last
     WHERE c.corp_id = $1 ${member} ${after}
     ORDER BY last.at DESC, c.id DESC
     LIMIT ${p.add(options.limit + 1)}`,
    p.values,
  );
  const page = rows.slice(0, options.limit);
  const last = page.at(-1);
  const next = rows.length > options.limit && last ? `${last.last_us}.${last.id}` : null;
  if (page.length === 0) return { rows: [], members: [], next: null };
  const members = await db.query<MemberRow>(
    `SELECT cm.conversation_id::text AS conversation, cm.member_id AS id, cm.member_kind AS kind,
       CASE cm.member_kind WHEN 'employee' THEN e.name WHEN 'external' THEN x.name END AS name
     FROM conversation_members cm
     LEFT JOIN employees e ON e.corp_id = cm.corp_id AND e.userid = cm.member_id
     LEFT JOIN external_contacts x ON x.corp_id = cm.corp_id AND x.external_userid = cm.member_id
     WHERE cm.corp_id = $1 AND cm.conversation_id = ANY($2::bigint[])
     ORDER BY cm.conversation_id, cm.member_kind, cm.member_id`,
    [corpId, page.map((r) => r.id)],
  );
  return { rows: page, members: members.rows, next };
}

/** Applies the viewer's masking and pseudonyms to listed conversations; the viewer is left out. */
export function presentConversations(
  listed: { rows: Row[]; members: MemberRow[] },
  how: { mask: boolean; pseudonyms: Pseudonymizer; self: string | null },
): ConversationSummary[] {
  const byConversation = new Map<string, MemberRow[]>();
  for (const m of listed.members) {
    if (m.id === how.self) continue;
    const list = byConversation.get(m.conversation) ?? [];
    list.push(m);
    byConversation.set(m.conversation, list);
  }
  const masked = (s: string | null) => (s !== null && how.mask ? maskText(s) : s);
  return listed.rows.map((r) => ({
    id: r.id,
    kind: r.kind,
    title: masked(r.title),
    lastMessageAt: r.last_at,
    memberCount: r.member_count,
    counterparts: (byConversation.get(r.id) ?? []).slice(0, MAX_COUNTERPARTS).map((m) => ({
      id: how.pseudonyms.show(m.id),
      kind: m.kind,
      // A pseudonym stands for the person: their name would undo it.
      name: how.pseudonyms.applies(m.id) ? null : masked(m.name),
    })),
  }));
}
