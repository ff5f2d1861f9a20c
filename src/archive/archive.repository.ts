import type { Queryable } from '../platform/db/pool.js';
import { SqlParams, type SqlCondition } from '../platform/db/sql-params.js';
import {
  arrayLiteral,
  boolArray,
  bytesArray,
  int8Array,
  PG_OID,
  textArray,
  timestamptzArray,
} from './pg-binary.js';
import type {
  ConversationKind,
  Direction,
  MediaToFetch,
  MessageToArchive,
  ParticipantKind,
} from './types.js';

export interface MessageRow {
  corp_id: number;
  id: string;
  msgid: string;
  seq: string | null;
  msg_time: Date;
  action: string;
  msgtype: string;
  sender_id: string | null;
  sender_kind: ParticipantKind | null;
  direction: Direction | null;
  conversation_id: string;
  has_attachment: boolean;
  recalled_msgid: string | null;
  retention_class: string;
  flags: string[];
  content: Buffer | null;
}

export interface NewMessageRow {
  message: MessageToArchive;
  id: string;
  conversationId: string;
  content: Buffer;
  /** The blind index as a binary tsvector (BlindIndex#indexTextBinary). */
  search: Buffer | null;
  searchLossy: boolean;
}

export interface SearchFilters {
  from?: Date;
  to?: Date;
  departmentIds?: number[];
  employeeId?: string;
  externalContactId?: string;
  conversationId?: string;
  msgtypes?: string[];
  hasAttachment?: boolean;
}

export interface AttachmentRow {
  id: string;
  path: string;
  kind: string;
  status: 'pending' | 'stored' | 'failed' | 'expired';
  blob_address: string | null;
  detected_type: string | null;
  stored_size: string | null;
}

export interface SearchCursor {
  msgTime: Date;
  id: string;
}

const MESSAGE_COLUMNS = `m.corp_id, m.id::text, m.msgid, m.seq::text, m.msg_time, m.action, m.msgtype, m.sender_id,
  m.sender_kind, m.direction, m.conversation_id::text, m.has_attachment, m.recalled_msgid, m.retention_class, m.flags, m.content`;

/**
 * SQL of the archive: conversations, messages and their exactly-once keys. The statements of the
 * write path are named, so each connection parses and plans them once instead of per batch.
 */
export class ArchiveRepository {
  constructor(private readonly db: Queryable) {}

  async ensurePartitions(times: Date[]): Promise<void> {
    const months = [...new Set(times.map((t) => t.toISOString().slice(0, 7)))];
    for (const month of months)
      await this.db.query('SELECT vigil_ensure_message_partition($1)', [`${month}-01T00:00:00Z`]);
  }

  /** Claims message ids not archived yet; returns the msgids this call claimed (the others are duplicates). */
  async claimMessageKeys(
    corpId: number,
    messages: Array<{ msgid: string; msgTime: Date }>,
  ): Promise<Map<string, string>> {
    const { rows } = await this.db.query<{ msgid: string; message_id: string }>({
      name: 'archive.claim_message_keys',
      text: `INSERT INTO message_keys (corp_id, msgid, msg_time, message_id)
       SELECT $1, k.msgid, k.msg_time, nextval('messages_id_seq')
       FROM unnest($2::text[], $3::timestamptz[]) AS k(msgid, msg_time)
       ON CONFLICT (corp_id, msgid) DO NOTHING
       RETURNING msgid, message_id::text`,
      values: [
        corpId,
        textArray(messages.map((m) => m.msgid)),
        timestamptzArray(messages.map((m) => m.msgTime)),
      ],
    });
    return new Map(rows.map((r) => [r.msgid, r.message_id]));
  }

  /** Finds or creates conversations by key (one row per key, whatever the batch repeats); returns key → id. */
  async ensureConversations(
    corpId: number,
    seen: Array<{ kind: ConversationKind; key: string; roomId: string | null; at: Date }>,
  ): Promise<Map<string, string>> {
    const byKey = new Map<
      string,
      { kind: ConversationKind; key: string; roomId: string | null; first: Date; last: Date }
    >();
    for (const c of seen) {
      const known = byKey.get(c.key);
      if (!known) byKey.set(c.key, { kind: c.kind, key: c.key, roomId: c.roomId, first: c.at, last: c.at });
      else {
        if (c.at < known.first) known.first = c.at;
        if (c.at > known.last) known.last = c.at;
      }
    }
    // In key order, so concurrent batches lock existing rows in the same order (no deadlock).
    const conversations = [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const { rows } = await this.db.query<{ conversation_key: string; id: string }>({
      name: 'archive.ensure_conversations',
      text: `INSERT INTO conversations (corp_id, kind, conversation_key, room_id, first_message_at, last_message_at)
       SELECT $1, c.kind, c.key, c.room_id, c.first_at, c.last_at
       FROM unnest($2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[])
         AS c(kind, key, room_id, first_at, last_at)
       ON CONFLICT (corp_id, conversation_key) DO UPDATE
         SET first_message_at = least(conversations.first_message_at, EXCLUDED.first_message_at),
             last_message_at = greatest(conversations.last_message_at, EXCLUDED.last_message_at)
       RETURNING conversation_key, id::text`,
      values: [
        corpId,
        textArray(conversations.map((c) => c.kind)),
        textArray(conversations.map((c) => c.key)),
        textArray(conversations.map((c) => c.roomId)),
        timestamptzArray(conversations.map((c) => c.first)),
        timestamptzArray(conversations.map((c) => c.last)),
      ],
    });
    return new Map(rows.map((r) => [r.conversation_key, r.id]));
  }

  async addMembers(
    corpId: number,
    members: Array<{ conversationId: string; id: string; kind: ParticipantKind }>,
  ): Promise<void> {
    // A batch repeats the same members many times (every message of a conversation): send each
    // pair once, in key order so concurrent batches take their locks in the same order.
    const unique = new Map<string, { conversationId: string; id: string; kind: ParticipantKind }>();
    for (const m of members) {
      const key = `${m.conversationId}\u0000${m.id}`;
      if (!unique.has(key)) unique.set(key, m);
    }
    if (unique.size === 0) return;
    const rows = [...unique.values()].sort(
      (a, b) => compareIds(a.conversationId, b.conversationId) || compareText(a.id, b.id),
    );
    await this.db.query({
      name: 'archive.add_members',
      text: `INSERT INTO conversation_members (corp_id, conversation_id, member_id, member_kind)
       SELECT $1, m.conversation_id, m.member_id, m.kind
       FROM unnest($2::bigint[], $3::text[], $4::text[]) AS m(conversation_id, member_id, kind)
       ON CONFLICT DO NOTHING`,
      values: [
        corpId,
        int8Array(rows.map((m) => m.conversationId)),
        textArray(rows.map((m) => m.id)),
        textArray(rows.map((m) => m.kind)),
      ],
    });
  }

  async insertMessages(corpId: number, rows: NewMessageRow[]): Promise<void> {
    if (rows.length === 0) return;
    const col = <T>(f: (r: NewMessageRow) => T) => rows.map(f);
    // Binary array parameters (pg-binary.ts): the blind index arrives as binary tsvectors, the
    // content as raw bytea; seq travels as text and flags as array literals, cast per row.
    await this.db.query({
      name: 'archive.insert_messages',
      text: `INSERT INTO messages (corp_id, id, msg_time, msgid, seq, conversation_id, action, msgtype, sender_id, sender_kind,
         direction, has_attachment, recalled_msgid, retention_class, content, search, search_lossy, flags)
       SELECT $1, r.id, r.msg_time, r.msgid, r.seq::numeric, r.conversation_id, r.action, r.msgtype, r.sender_id,
         r.sender_kind, r.direction, r.has_attachment, r.recalled_msgid, r.retention_class, r.content, r.search,
         r.search_lossy, r.flags::text[]
       FROM unnest($2::bigint[], $3::timestamptz[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::text[],
         $9::text[], $10::text[], $11::text[], $12::boolean[], $13::text[], $14::text[], $15::bytea[], $16::tsvector[],
         $17::boolean[], $18::text[])
         AS r(id, msg_time, msgid, seq, conversation_id, action, msgtype, sender_id, sender_kind, direction,
              has_attachment, recalled_msgid, retention_class, content, search, search_lossy, flags)`,
      values: [
        corpId,
        int8Array(col((r) => r.id)),
        timestamptzArray(col((r) => r.message.msgTime)),
        textArray(col((r) => r.message.msgid)),
        textArray(col((r) => r.message.seq)),
        int8Array(col((r) => r.conversationId)),
        textArray(col((r) => r.message.action)),
        textArray(col((r) => r.message.msgtype)),
        textArray(col((r) => r.message.senderId)),
        textArray(col((r) => r.message.senderKind)),
        textArray(col((r) => r.message.direction)),
        boolArray(col((r) => r.message.hasAttachment)),
        textArray(col((r) => r.message.recalledMsgid)),
        textArray(col((r) => r.message.retentionClass ?? 'standard')),
        bytesArray(col((r) => r.content)),
        bytesArray(
          col((r) => r.search),
          PG_OID.tsvector,
        ),
        boolArray(col((r) => r.searchLossy)),
        textArray(col((r) => arrayLiteral(r.message.flags ?? []))),
      ],
    });
  }

  async insertAttachments(
    corpId: number,
    rows: Array<{ messageId: string; msgTime: Date; msgid: string; media: MediaToFetch }>,
  ): Promise<void> {
    if (rows.length === 0) return;
    await this.db.query({
      name: 'archive.insert_attachments',
      text: `INSERT INTO attachments (corp_id, message_id, msg_time, msgid, path, kind, sdkfileid, md5sum, size_bytes)
       SELECT $1, a.message_id, a.msg_time, a.msgid, a.path, a.kind, a.sdkfileid, a.md5, a.size
       FROM unnest($2::bigint[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bigint[])
         AS a(message_id, msg_time, msgid, path, kind, sdkfileid, md5, size)
       ON CONFLICT (corp_id, msgid, path) DO NOTHING`,
      values: [
        corpId,
        int8Array(rows.map((r) => r.messageId)),
        timestamptzArray(rows.map((r) => r.msgTime)),
        textArray(rows.map((r) => r.msgid)),
        textArray(rows.map((r) => r.media.path)),
        textArray(rows.map((r) => r.media.kind)),
        textArray(rows.map((r) => r.media.sdkfileid)),
        textArray(rows.map((r) => r.media.md5)),
        int8Array(rows.map((r) => r.media.size)),
      ],
    });
  }

  /** A message by msgid; with `scope`, `visible` says whether the scope lets the viewer see it. */
  async findByMsgid(
    corpId: number,
    msgid: string,
    scope?: SqlCondition,
  ): Promise<(MessageRow & { visible: boolean }) | undefined> {
    const p = new SqlParams([corpId, msgid]);
    const { rows } = await this.db.query<MessageRow & { visible: boolean }>(
      `SELECT ${MESSAGE_COLUMNS}, ${scope ? scope(p) : 'TRUE'} AS visible FROM message_keys k
       JOIN messages m ON m.corp_id = k.corp_id AND m.msg_time = k.msg_time AND m.id = k.message_id
       WHERE k.corp_id = $1 AND k.msgid = $2`,
      p.values,
    );
    return rows[0];
  }

  /** The attachments of a message and where their files are. */
  async attachmentsOf(corpId: number, messageId: string): Promise<AttachmentRow[]> {
    const { rows } = await this.db.query<AttachmentRow>(
      `SELECT id::text, path, kind, status, blob_address, detected_type, stored_size::text
       FROM attachments WHERE corp_id = $1 AND message_id = $2 ORDER BY id`,
      [corpId, messageId],
    );
    return rows;
  }

  /**
   * Messages whose blind index matches `tsquery`, newest first (oldest first with `ascending`),
   * after `cursor` (keyset paging). `tsquery` null lists by filters only.
   */
  async search(
    corpId: number,
    tsquery: string | null,
    filters: SearchFilters & { ascending?: boolean },
    cursor: SearchCursor | null,
    limit: number,
    scope?: SqlCondition,
  ): Promise<MessageRow[]> {
    // Two fixed SQL texts (not a CASE) so the planner can walk the primary key in either order.
    const order = filters.ascending ? 'ASC' : 'DESC';
    const after = filters.ascending ? '>' : '<';
    const p = new SqlParams([
      corpId,
      tsquery,
      filters.from ?? null,
      filters.to ?? null,
      cursor?.msgTime ?? null,
      cursor?.id ?? null,
      filters.employeeId ?? null,
      filters.externalContactId ?? null,
      filters.conversationId ?? null,
      filters.msgtypes?.length ? filters.msgtypes : null,
      filters.hasAttachment ?? null,
      filters.departmentIds?.length ? filters.departmentIds : null,
    ]);
    const scoped = scope ? `AND ${scope(p)}` : '';
    const { rows } = await this.db.query<MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages m
       WHERE m.corp_id = $1
         AND ($2::tsquery IS NULL OR m.search @@ $2::tsquery)
         AND ($3::timestamptz IS NULL OR m.msg_time >= $3)
         AND ($4::timestamptz IS NULL OR m.msg_time < $4)
         AND ($5::timestamptz IS NULL OR (m.msg_time, m.id) ${after} ($5, $6::bigint))
         AND ($7::text IS NULL OR m.sender_id = $7 OR EXISTS (SELECT 1 FROM conversation_members cm
               WHERE cm.corp_id = m.corp_id AND cm.conversation_id = m.conversation_id AND cm.member_id = $7))
         AND ($8::text IS NULL OR EXISTS (SELECT 1 FROM conversation_members cm
               WHERE cm.corp_id = m.corp_id AND cm.conversation_id = m.conversation_id AND cm.member_id = $8))
         AND ($9::bigint IS NULL OR m.conversation_id = $9)
         AND ($10::text[] IS NULL OR m.msgtype = ANY($10))
         AND ($11::boolean IS NULL OR m.has_attachment = $11)
         AND ($12::bigint[] IS NULL OR EXISTS (SELECT 1 FROM employees e
               WHERE e.corp_id = m.corp_id AND e.userid = m.sender_id AND e.department_ids && $12))
         ${scoped}
       ORDER BY m.msg_time ${order}, m.id ${order}
       LIMIT ${p.add(limit)}`,
      p.values,
    );
    return rows;
  }
}

/** Orders decimal id strings numerically (shorter is smaller, then digit by digit). */
function compareIds(a: string, b: string): number {
  return a.length - b.length || compareText(a, b);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
