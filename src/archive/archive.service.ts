import type { Pool, PoolClient, Queryable } from '../platform/db/pool.js';
import type { SqlCondition } from '../platform/db/sql-params.js';
import { withTransaction } from '../platform/db/pool.js';
import { BlindIndex, highlight, parseQuery, type Highlight, type QueryNode } from '../crypto/blind-index.js';
import { monthOf, type DekScope, type EnvelopeService } from '../crypto/envelope.js';
import { ContentDestroyedError } from '../crypto/errors.js';
import { getOrCreateSecret } from '../crypto/keyring/corp-keys.js';
import { SecretNames, type Keyring } from '../crypto/keyring/types.js';
import {
  ArchiveRepository,
  type AttachmentRow,
  type MessageRow,
  type NewMessageRow,
  type SearchCursor,
  type SearchFilters,
} from './archive.repository.js';
import { decodeContent, encodeContent } from './content-format.js';
import type { ArchivedMessage, MessageToArchive } from './types.js';

export interface StoreResult {
  inserted: number;
  duplicates: string[];
}

export interface SearchHit {
  message: ArchivedMessage;
  highlight: Highlight | null;
  /** The indexed text (what the highlight was cut from); null when the content cannot be read. */
  text: string | null;
}

/** Where a read runs: the caller's transaction, and the access scope that limits it. */
export interface ReadContext {
  db?: Queryable;
  scope?: SqlCondition;
}

export interface SearchPage {
  hits: SearchHit[];
  /** Opaque cursor for the next page, or null at the end. */
  next: string | null;
}

/**
 * The archive's write and read paths. Content is encrypted under the scope's data key with the
 * message's identity as associated data; search runs on the blind index and decrypts only the
 * page it returns. People reach the read path only through the access service
 * (src/access/content), which passes the viewer's scope and transaction.
 */
export class ArchiveService {
  private readonly indexes = new Map<number, Promise<BlindIndex>>();

  constructor(
    private readonly pool: Pool,
    private readonly envelope: EnvelopeService,
    private readonly keyring: Keyring,
  ) {}

  /**
   * Archives a batch exactly once per msgid; duplicates are reported, not stored. Runs in the
   * caller's transaction when given one (so a pipeline can commit its own state with it),
   * otherwise in a transaction of its own.
   */
  async storeBatch(corpId: number, messages: MessageToArchive[], client?: PoolClient): Promise<StoreResult> {
    if (messages.length === 0) return { inserted: 0, duplicates: [] };
    const index = await this.searchIndex(corpId);
    const store = async (client: PoolClient): Promise<StoreResult> => {
      const repo = new ArchiveRepository(client);
      await repo.ensurePartitions(messages.map((m) => m.msgTime));
      const claimed = await repo.claimMessageKeys(corpId, messages);
      // A msgid given twice in one batch is stored once: the first one claimed it.
      const taken = new Set<string>();
      const fresh = messages.filter((m) => claimed.has(m.msgid) && !taken.has(m.msgid) && taken.add(m.msgid));
      const conversationIds = await repo.ensureConversations(
        corpId,
        fresh.map((m) => ({
          kind: m.conversation.kind,
          key: m.conversation.key,
          roomId: m.conversation.roomId,
          at: m.msgTime,
        })),
      );
      await repo.addMembers(
        corpId,
        fresh.flatMap((m) =>
          m.conversation.members.map((member) => ({
            conversationId: conversationIds.get(m.conversation.key)!,
            ...member,
          })),
        ),
      );
      const rows = await this.sealAll(corpId, fresh, index, claimed, conversationIds);
      await repo.insertMessages(corpId, rows);
      await repo.insertAttachments(
        corpId,
        rows.flatMap((r) =>
          (r.message.media ?? []).map((media) => ({
            messageId: r.id,
            msgTime: r.message.msgTime,
            msgid: r.message.msgid,
            media,
          })),
        ),
      );
      const stored = new Set(fresh);
      return {
        inserted: rows.length,
        duplicates: messages.filter((m) => !stored.has(m)).map((m) => m.msgid),
      };
    };
    return client ? store(client) : withTransaction(this.pool, store);
  }

  /**
   * Encrypts and indexes messages into rows: one DEK lookup per scope (month × retention class)
   * for the whole batch, and the blind index in PostgreSQL's binary form.
   */
  private async sealAll(
    corpId: number,
    messages: MessageToArchive[],
    index: BlindIndex,
    claimed: Map<string, string>,
    conversationIds: Map<string, string>,
  ): Promise<NewMessageRow[]> {
    const byScope = new Map<string, { scope: DekScope; indexes: number[] }>();
    messages.forEach((message, i) => {
      const scope = {
        corpId: String(corpId),
        month: monthOf(message.msgTime),
        retentionClass: message.retentionClass ?? 'standard',
      };
      const key = `${scope.month}\u0000${scope.retentionClass}`;
      const group = byScope.get(key);
      if (group) group.indexes.push(i);
      else byScope.set(key, { scope, indexes: [i] });
    });
    const contents = new Array<Buffer>(messages.length);
    for (const { scope, indexes } of byScope.values()) {
      const sealed = await this.envelope.encryptManyForScope(
        scope,
        indexes.map((i) => {
          const message = messages[i]!;
          return {
            plaintext: encodeContent(message.raw, message.searchText),
            aad: contentIdentity(corpId, message.msgid),
          };
        }),
      );
      indexes.forEach((i, k) => (contents[i] = sealed[k]!));
    }
    return messages.map((message, i) => {
      const indexed = message.searchText ? index.indexTextBinary(message.searchText) : null;
      return {
        message,
        id: claimed.get(message.msgid)!,
        conversationId: conversationIds.get(message.conversation.key)!,
        content: contents[i]!,
        search: indexed?.tsvector ?? null,
        searchLossy: indexed?.lossy ?? false,
      };
    });
  }

  /** One message by WeCom msgid, decrypted. */
  async getMessage(corpId: number, msgid: string): Promise<ArchivedMessage | undefined> {
    const read = await this.readMessage(corpId, msgid);
    return read?.visible ? read.hit.message : undefined;
  }

  /**
   * One message by msgid with whether the scope lets the viewer see it; only a visible message
   * is decrypted.
   */
  async readMessage(
    corpId: number,
    msgid: string,
    context: ReadContext = {},
  ): Promise<{ hit: SearchHit; visible: true } | { visible: false } | undefined> {
    const row = await new ArchiveRepository(context.db ?? this.pool).findByMsgid(
      corpId,
      msgid,
      context.scope,
    );
    if (!row) return undefined;
    if (!row.visible) return { visible: false };
    const { message, text } = await this.open(row);
    return { hit: { message, text, highlight: null }, visible: true };
  }

  /** The attachments of an archived message. */
  attachmentsOf(corpId: number, messageId: string, db: Queryable = this.pool): Promise<AttachmentRow[]> {
    return new ArchiveRepository(db).attachmentsOf(corpId, messageId);
  }

  /**
   * Searches a corp's archive: `query` in the blind-index language (phrases, AND / OR / NOT),
   * newest first, `limit` per page. Index candidates are verified after decryption, so a hash
   * collision never returns a message that does not contain the query.
   */
  async search(
    corpId: number,
    query: string,
    filters: SearchFilters & { ascending?: boolean } = {},
    options: { cursor?: string; limit?: number } & ReadContext = {},
  ): Promise<SearchPage> {
    const limit = Math.min(Math.max(options.limit ?? 50, 1), 500);
    const ast: QueryNode | null = query.trim() ? parseQuery(query) : null;
    const tsquery = ast ? (await this.searchIndex(corpId)).buildQuery(ast) : null;
    const repo = new ArchiveRepository(options.db ?? this.pool);
    const hits: SearchHit[] = [];
    let cursor = options.cursor ? decodeCursor(options.cursor) : null;
    let exhausted = false;
    while (hits.length < limit && !exhausted) {
      const rows = await repo.search(corpId, tsquery, filters, cursor, limit - hits.length, options.scope);
      exhausted = rows.length < limit - hits.length;
      for (const row of rows) {
        cursor = { msgTime: row.msg_time, id: row.id };
        const { message, text } = await this.open(row);
        if (!ast || text === null)
          hits.push({ message, text, highlight: null }); // destroyed or unreadable: shown as such
        else {
          const mark = highlight(text, ast);
          if (mark.matched) hits.push({ message, text, highlight: mark });
        }
      }
    }
    return { hits, next: exhausted || !cursor ? null : encodeCursor(cursor) };
  }

  /** Decrypts a row; `text` is the indexed text, null when the content cannot be read. */
  private async open(row: MessageRow): Promise<{ message: ArchivedMessage; text: string | null }> {
    const base = {
      corpId: row.corp_id,
      id: row.id,
      msgid: row.msgid,
      seq: row.seq,
      msgTime: row.msg_time,
      action: row.action,
      msgtype: row.msgtype,
      senderId: row.sender_id,
      senderKind: row.sender_kind,
      direction: row.direction,
      conversationId: row.conversation_id,
      hasAttachment: row.has_attachment,
      recalledMsgid: row.recalled_msgid,
      retentionClass: row.retention_class,
      flags: row.flags,
    };
    if (!row.content) return { message: { ...base, content: { state: 'destroyed' } }, text: null };
    try {
      const plain = await this.envelope.decrypt(row.content, contentIdentity(row.corp_id, row.msgid));
      const sealed = decodeContent(plain);
      return { message: { ...base, content: { state: 'ok', raw: sealed.raw } }, text: sealed.text };
    } catch (err) {
      const content: ArchivedMessage['content'] =
        err instanceof ContentDestroyedError
          ? { state: 'destroyed' }
          : { state: 'unreadable', reason: (err as Error).message };
      return { message: { ...base, content }, text: null };
    }
  }

  private searchIndex(corpId: number): Promise<BlindIndex> {
    let index = this.indexes.get(corpId);
    if (!index) {
      index = getOrCreateSecret(this.keyring, SecretNames.searchKey(String(corpId))).then(
        (key) => new BlindIndex(key),
      );
      this.indexes.set(corpId, index);
    }
    return index;
  }
}

/** The associated data of a message's content: its corp and msgid, so a moved ciphertext fails. */
function contentIdentity(corpId: number, msgid: string) {
  return { corpId: String(corpId), table: 'messages', rowId: msgid, field: 'content' };
}

function encodeCursor(cursor: SearchCursor): string {
  return Buffer.from(`${cursor.msgTime.toISOString()}|${cursor.id}`).toString('base64url');
}

function decodeCursor(value: string): SearchCursor {
  const [time, id] = Buffer.from(value, 'base64url').toString().split('|');
  if (!time || !id || !/^\d+$/.test(id) || Number.isNaN(Date.parse(time)))
    throw new RangeError('invalid search cursor');
  return { msgTime: new Date(time), id };
}
