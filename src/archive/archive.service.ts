import type { Pool, PoolClient } from '../platform/db/pool.js';
import { withTransaction } from '../platform/db/pool.js';
import { BlindIndex, highlight, parseQuery, type Highlight, type QueryNode } from '../crypto/blind-index.js';
import { monthOf, type EnvelopeService } from '../crypto/envelope.js';
import { ContentDestroyedError } from '../crypto/errors.js';
import { getOrCreateSecret } from '../crypto/keyring/corp-keys.js';
import { SecretNames, type Keyring } from '../crypto/keyring/types.js';
import {
  ArchiveRepository,
  type MessageRow,
  type NewMessageRow,
  type SearchCursor,
  type SearchFilters,
} from './archive.repository.js';
import type { ArchivedMessage, MessageToArchive } from './types.js';

/** What is encrypted for each message: the WeCom JSON and the text that was indexed. */
interface SealedContent {
  v: 1;
  raw: string;
  text: string;
}

export interface StoreResult {
  inserted: number;
  duplicates: string[];
}

export interface SearchHit {
  message: ArchivedMessage;
  highlight: Highlight | null;
}

export interface SearchPage {
  hits: SearchHit[];
  /** Opaque cursor for the next page, or null at the end. */
  next: string | null;
}

/**
 * The archive's write and read paths. Content is encrypted under the scope's data key with the
 * message's identity as associated data; search runs on the blind index and decrypts only the
 * page it returns. The access service (issue: access control) wraps the read path.
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
      const fresh = messages.filter((m) => claimed.has(m.msgid));
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
      const rows: NewMessageRow[] = [];
      for (const message of fresh) {
        const sealed: SealedContent = { v: 1, raw: message.raw, text: message.searchText };
        const indexed = message.searchText ? index.indexText(message.searchText) : null;
        rows.push({
          message,
          id: claimed.get(message.msgid)!,
          conversationId: conversationIds.get(message.conversation.key)!,
          content: await this.envelope.encryptForScope(
            {
              corpId: String(corpId),
              month: monthOf(message.msgTime),
              retentionClass: message.retentionClass ?? 'standard',
            },
            Buffer.from(JSON.stringify(sealed)),
            contentIdentity(corpId, message.msgid),
          ),
          search: indexed?.tsvector ?? null,
          searchLossy: indexed?.lossy ?? false,
        });
      }
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
      return {
        inserted: rows.length,
        duplicates: messages.filter((m) => !claimed.has(m.msgid)).map((m) => m.msgid),
      };
    };
    return client ? store(client) : withTransaction(this.pool, store);
  }

  /** One message by WeCom msgid, decrypted. */
  async getMessage(corpId: number, msgid: string): Promise<ArchivedMessage | undefined> {
    const row = await new ArchiveRepository(this.pool).findByMsgid(corpId, msgid);
    return row ? (await this.open(row)).message : undefined;
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
    options: { cursor?: string; limit?: number } = {},
  ): Promise<SearchPage> {
    const limit = Math.min(Math.max(options.limit ?? 50, 1), 500);
    const ast: QueryNode | null = query.trim() ? parseQuery(query) : null;
    const tsquery = ast ? (await this.searchIndex(corpId)).buildQuery(ast) : null;
    const repo = new ArchiveRepository(this.pool);
    const hits: SearchHit[] = [];
    let cursor = options.cursor ? decodeCursor(options.cursor) : null;
    let exhausted = false;
    while (hits.length < limit && !exhausted) {
      const rows = await repo.search(corpId, tsquery, filters, cursor, limit - hits.length);
      exhausted = rows.length < limit - hits.length;
      for (const row of rows) {
        cursor = { msgTime: row.msg_time, id: row.id };
        const { message, text } = await this.open(row);
        if (!ast || text === null)
          hits.push({ message, highlight: null }); // destroyed or unreadable: shown as such
        else {
          const mark = highlight(text, ast);
          if (mark.matched) hits.push({ message, highlight: mark });
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
      const sealed = JSON.parse(plain.toString('utf8')) as SealedContent;
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
