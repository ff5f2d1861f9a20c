import { Readable } from 'node:stream';
import type { ArchiveService, SearchHit } from '../../archive/archive.service.js';
import type { SearchFilters } from '../../archive/archive.repository.js';
import type { AuditLog } from '../../audit/audit-log.js';
import type { AuditEventInput } from '../../audit/types.js';
import type { BlobStore } from '../../crypto/blob/blobstore.js';
import { getOrCreateSecret } from '../../crypto/keyring/corp-keys.js';
import type { Keyring } from '../../crypto/keyring/types.js';
import type { Pool, PoolClient, Queryable } from '../../platform/db/pool.js';
import { AppError, notFound } from '../../platform/http/errors.js';
import { SqlParams } from '../../platform/db/sql-params.js';
import { auditedTransaction, DeniedAfterCommit } from '../denials.js';
import type { Principal } from '../types.js';
import { resolveContentScope, type ContentScope, type ScopeSettings } from './content-scope.js';
import { listConversations, presentConversations, type ConversationSummary } from './conversation-list.js';
import { presentHit, type ViewedMessage } from './present.js';
import { Pseudonymizer, type PseudonymMode } from './pseudonyms.js';
import { scopeCondition, type ContentPurpose } from './scope-sql.js';

/** Who is reading and from where: carried into the audit log and the watermark. */
export interface Viewer {
  principal: Principal;
  ip: string | null;
}

export interface ContentPage {
  items: ViewedMessage[];
  next: string | null;
  /** Drawn over the content by the console and written into exports (溯源: leak tracing). */
  watermark: string;
}

export interface ConversationListPage {
  items: ConversationSummary[];
  next: string | null;
  watermark: string;
}

export interface ContentAccessDeps {
  pool: Pool;
  archive: ArchiveService;
  audit: AuditLog;
  keyring: Keyring;
  blobs?: BlobStore;
  settings: ScopeSettings;
}

interface Opened {
  client: PoolClient;
  scope: ContentScope;
  pseudonyms: Pseudonymizer;
}

/**
 * The one choke point for message content (read, search, media, export, pseudonym reveal): it
 * resolves the viewer's scope and grants, applies them in SQL, masks (脱敏) and pseudonymises what
 * it returns, and writes the audit event in the same transaction as the read — denials included.
 */
export class ContentAccessService {
  private readonly pseudonymKeys = new Map<number, Promise<Buffer>>();

  constructor(private readonly deps: ContentAccessDeps) {}

  async search(
    viewer: Viewer,
    corpId: number,
    query: string,
    filters: SearchFilters,
    page: { cursor?: string; limit?: number },
  ): Promise<ContentPage> {
    return this.read(viewer, corpId, 'search', async (open, condition) => {
      const result = await this.deps.archive.search(corpId, query, filters, {
        ...page,
        db: open.client,
        scope: condition,
      });
      const event = await this.record(open.client, viewer, corpId, {
        action: 'content.search',
        resourceType: 'message',
        resourceIds: result.hits.map((h) => h.message.msgid),
        details: { query, filters: describeFilters(filters), returned: result.hits.length },
        scope: open.scope,
        purpose: 'search',
      });
      return this.page(viewer, open, result.hits, result.next, event.seq);
    });
  }

  /** A conversation's messages the viewer may see, oldest first. */
  async conversation(
    viewer: Viewer,
    corpId: number,
    conversationId: string,
    page: { cursor?: string; limit?: number; from?: Date; to?: Date },
  ): Promise<ContentPage> {
    return this.read(viewer, corpId, 'view', async (open, condition) => {
      const filters = { conversationId, from: page.from, to: page.to, ascending: true };
      const result = await this.deps.archive.search(corpId, '', filters, {
        ...page,
        db: open.client,
        scope: condition,
      });
      if (result.hits.length === 0 && !page.cursor) {
        const exists = await open.client.query(
          'SELECT 1 FROM messages WHERE corp_id = $1 AND conversation_id = $2 LIMIT 1',
          [corpId, conversationId],
        );
        if (exists.rowCount === 0) throw notFound('conversation');
        await this.deny(
          open.client,
          viewer,
          corpId,
          'view',
          'conversation',
          [conversationId],
          'out_of_scope',
        );
      }
      const event = await this.record(open.client, viewer, corpId, {
        action: 'content.read',
        resourceType: 'conversation',
        resourceIds: [conversationId],
        details: { messages: result.hits.map((h) => h.message.msgid) },
        scope: open.scope,
        purpose: 'view',
      });
      return this.page(viewer, open, result.hits, result.next, event.seq);
    });
  }

  /**
   * Conversations holding messages the viewer may see, latest visible activity first, with
   * counterparts named as the viewer may see them; `mine`: only those the viewer's own WeCom
   * account is in. No message content.
   */
  async conversations(
    viewer: Viewer,
    corpId: number,
    page: { mine?: boolean; cursor?: string; limit?: number },
  ): Promise<ConversationListPage> {
    return this.read(viewer, corpId, 'view', async (open, condition) => {
      const listed = await listConversations(open.client, corpId, condition, {
        member: page.mine ? open.scope.ownUserid : undefined,
        cursor: page.cursor,
        limit: page.limit ?? 50,
      });
      const event = await this.record(open.client, viewer, corpId, {
        action: 'content.list',
        resourceType: 'conversation',
        resourceIds: listed.rows.map((r) => r.id),
        details: { mine: page.mine ?? false, returned: listed.rows.length },
        scope: open.scope,
        purpose: 'view',
      });
      const how = { mask: !open.scope.unmask, pseudonyms: open.pseudonyms, self: open.scope.ownUserid };
      return {
        items: presentConversations(listed, how),
        next: listed.next,
        watermark: watermarkOf(viewer, event.seq),
      };
    });
  }

  /** One message and its attachments. */
  async message(
    viewer: Viewer,
    corpId: number,
    msgid: string,
  ): Promise<{ message: ViewedMessage; attachments: AttachmentInfo[]; watermark: string }> {
    return this.read(viewer, corpId, 'view', async (open, condition) => {
      const found = await this.visibleMessage(open, viewer, corpId, msgid, condition);
      const attachments = await this.deps.archive.attachmentsOf(corpId, found.message.id, open.client);
      const event = await this.record(open.client, viewer, corpId, {
        action: 'content.read',
        resourceType: 'message',
        resourceIds: [msgid],
        scope: open.scope,
        purpose: 'view',
      });
      return {
        message: presentHit(found, { mask: !open.scope.unmask, pseudonyms: open.pseudonyms }),
        attachments: attachments.map((a) => ({
          id: a.id,
          path: a.path,
          kind: a.kind,
          status: a.status,
          type: a.detected_type,
          size: a.stored_size === null ? null : Number(a.stored_size),
        })),
        watermark: watermarkOf(viewer, event.seq),
      };
    });
  }

  /** A stored media file of a visible message, decrypted as a stream. */
  async attachment(
    viewer: Viewer,
    corpId: number,
    msgid: string,
    attachmentId: string,
  ): Promise<{ body: Readable; type: string | null; size: number | null; watermark: string }> {
    const blobs = this.deps.blobs;
    if (!blobs) throw new AppError(503, 'media_unavailable', 'the media store is not configured');
    const { address, type, size, watermark } = await this.read(
      viewer,
      corpId,
      'view',
      async (open, condition) => {
        const found = await this.visibleMessage(open, viewer, corpId, msgid, condition);
        const a = (await this.deps.archive.attachmentsOf(corpId, found.message.id, open.client)).find(
          (x) => x.id === attachmentId,
        );
        if (!a) throw notFound('attachment');
        if (a.status !== 'stored' || !a.blob_address)
          throw new AppError(409, 'media_not_stored', `the file is ${a.status}, not stored`);
        const event = await this.record(open.client, viewer, corpId, {
          action: 'content.media',
          resourceType: 'attachment',
          resourceIds: [`${msgid}/${a.path}`],
          scope: open.scope,
          purpose: 'view',
        });
        return {
          address: a.blob_address,
          type: a.detected_type,
          size: a.stored_size === null ? null : Number(a.stored_size),
          watermark: watermarkOf(viewer, event.seq),
        };
      },
    );
    return { body: Readable.from(blobs.get(String(corpId), address)), type, size, watermark };
  }

  /**
   * Exports under one active export grant, oldest first, one WeCom JSON per line with the
   * watermark. The export is audited (and committed) before the first line leaves.
   */
  async *export(
    viewer: Viewer,
    corpId: number,
    grantId: string,
    filters: Pick<SearchFilters, 'conversationId' | 'from' | 'to'>,
  ): AsyncGenerator<string> {
    const started = await this.read(viewer, corpId, 'export', async (open) => {
      const grant = open.scope.grants.find((g) => g.id === grantId && g.actions.includes('export'));
      if (!grant)
        await this.deny(open.client, viewer, corpId, 'export', 'grant', [grantId], 'no_active_export_grant');
      const event = await this.record(open.client, viewer, corpId, {
        action: 'content.export',
        resourceType: 'grant',
        resourceIds: [grantId],
        details: { filters: describeFilters(filters) },
        scope: { ...open.scope, grants: [grant!] },
        purpose: 'export',
      });
      return { seq: event.seq };
    });
    const watermark = watermarkOf(viewer, started.seq);
    let cursor: string | undefined;
    do {
      const page = await auditedTransaction(this.deps.pool, async (client) => {
        // Re-resolved per page: a grant revoked or expired mid-export stops it.
        const open = await this.open(client, viewer, corpId);
        const grant = open.scope.grants.find((g) => g.id === grantId && g.actions.includes('export'));
        if (!grant) throw new AppError(403, 'grant_ended', 'the export grant ended during the export');
        const condition = scopeCondition({ ...open.scope, grants: [grant] }, 'export')!;
        const result = await this.deps.archive.search(
          corpId,
          '',
          { ...filters, ascending: true },
          { cursor, limit: 500, db: client, scope: condition },
        );
        return { open, result };
      });
      for (const hit of page.result.hits) {
        const shown = presentHit(hit, { mask: !page.open.scope.unmask, pseudonyms: page.open.pseudonyms });
        if (shown.content.state !== 'ok') continue;
        const record = JSON.parse(shown.content.raw) as Record<string, unknown>;
        yield JSON.stringify({ ...record, _vigil: { watermark, grant: grantId } }) + '\n';
      }
      cursor = page.result.next ?? undefined;
    } while (cursor);
  }

  /**
   * Named messages with their stored media under one active export grant of the viewer, for
   * evidence packages: all of them must be covered by the grant, or nothing is returned.
   */
  async exportMessages(
    viewer: Viewer,
    corpId: number,
    grantId: string,
    msgids: string[],
  ): Promise<{ messages: ViewedMessage[]; media: ExportedMedia[]; watermark: string }> {
    const read = await this.read(viewer, corpId, 'export', async (open) => {
      const grant = open.scope.grants.find((g) => g.id === grantId && g.actions.includes('export'));
      if (!grant)
        await this.deny(open.client, viewer, corpId, 'export', 'grant', [grantId], 'no_active_export_grant');
      const condition = scopeCondition({ ...open.scope, grants: [grant!] }, 'export')!;
      const hits: SearchHit[] = [];
      const files: Array<{ msgid: string; name: string; address: string; type: string | null }> = [];
      for (const msgid of msgids) {
        const found = await this.deps.archive.readMessage(corpId, msgid, {
          db: open.client,
          scope: condition,
        });
        if (!found) throw notFound(`message ${msgid}`);
        if (!found.visible)
          await this.deny(open.client, viewer, corpId, 'export', 'message', [msgid], 'outside_export_grant');
        else {
          hits.push(found.hit);
          for (const a of await this.deps.archive.attachmentsOf(corpId, found.hit.message.id, open.client))
            if (a.status === 'stored' && a.blob_address)
              files.push({
                msgid,
                name: `${a.path.replace(/[^\w.-]+/g, '_')}.${a.detected_type ?? 'bin'}`,
                address: a.blob_address,
                type: a.detected_type,
              });
        }
      }
      const event = await this.record(open.client, viewer, corpId, {
        action: 'content.export',
        resourceType: 'message',
        resourceIds: msgids,
        details: { grant: grantId, media: files.length },
        scope: { ...open.scope, grants: [grant!] },
        purpose: 'export',
      });
      const how = { mask: !open.scope.unmask, pseudonyms: open.pseudonyms };
      return {
        messages: hits.map((h) => presentHit(h, how)),
        files,
        watermark: watermarkOf(viewer, event.seq),
      };
    });
    const blobs = this.deps.blobs;
    if (read.files.length && !blobs)
      throw new AppError(503, 'media_unavailable', 'the media store is not configured');
    const media: ExportedMedia[] = [];
    for (const f of read.files)
      media.push({
        msgid: f.msgid,
        name: f.name,
        type: f.type,
        data: await blobs!.getBuffer(String(corpId), f.address),
      });
    return { messages: read.messages, media, watermark: read.watermark };
  }

  /** The real id behind a pseudonym in a conversation, under a reveal grant covering it. */
  async reveal(viewer: Viewer, corpId: number, conversationId: string, pseudonym: string): Promise<string> {
    return this.read(viewer, corpId, 'reveal', async (open, condition) => {
      const p = new SqlParams([corpId, conversationId]);
      const { rows } = await open.client.query<{ member_id: string; covered: boolean }>(
        `SELECT cm.member_id, EXISTS (SELECT 1 FROM messages m WHERE m.corp_id = $1 AND m.conversation_id = $2
           AND ${condition(p)}) AS covered
         FROM conversation_members cm WHERE cm.corp_id = $1 AND cm.conversation_id = $2::bigint`,
        p.values,
      );
      if (rows.length === 0) throw notFound('conversation');
      if (!rows[0]!.covered)
        await this.deny(
          open.client,
          viewer,
          corpId,
          'reveal',
          'conversation',
          [conversationId],
          'out_of_scope',
        );
      const id = open.pseudonyms.reveal(
        pseudonym,
        rows.map((r) => r.member_id),
      );
      if (!id) throw notFound('pseudonym');
      await this.record(open.client, viewer, corpId, {
        action: 'content.reveal',
        resourceType: 'conversation',
        resourceIds: [conversationId],
        details: { pseudonym },
        scope: open.scope,
        purpose: 'reveal',
      });
      return id;
    });
  }

  // ---- internals ----

  /** Opens a transaction, resolves the scope, and denies (audited) when nothing is in scope. */
  private read<T>(
    viewer: Viewer,
    corpId: number,
    purpose: ContentPurpose,
    work: (open: Opened, condition: NonNullable<ReturnType<typeof scopeCondition>>) => Promise<T>,
  ): Promise<T> {
    return auditedTransaction(this.deps.pool, async (client) => {
      const open = await this.open(client, viewer, corpId);
      const condition = scopeCondition(open.scope, purpose);
      if (!condition && purpose !== 'export')
        await this.deny(client, viewer, corpId, purpose, 'corp', [String(corpId)], 'no_scope');
      return work(open, condition!);
    });
  }

  private async open(client: PoolClient, viewer: Viewer, corpId: number): Promise<Opened> {
    const scope = await resolveContentScope(client, viewer.principal, corpId, this.deps.settings);
    const { rows } = await client.query<{ pseudonyms: PseudonymMode }>(
      'SELECT pseudonyms FROM corps WHERE id = $1',
      [corpId],
    );
    const mode = rows[0]?.pseudonyms ?? 'none';
    const key = mode === 'none' ? Buffer.alloc(32) : await this.pseudonymKey(corpId);
    return {
      client,
      scope,
      pseudonyms: new Pseudonymizer(key, mode, await ownUserid(client, viewer, corpId)),
    };
  }

  private async visibleMessage(
    open: Opened,
    viewer: Viewer,
    corpId: number,
    msgid: string,
    condition: NonNullable<ReturnType<typeof scopeCondition>>,
  ): Promise<SearchHit> {
    const read = await this.deps.archive.readMessage(corpId, msgid, { db: open.client, scope: condition });
    if (!read) throw notFound('message');
    if (!read.visible)
      return this.deny(open.client, viewer, corpId, 'view', 'message', [msgid], 'out_of_scope');
    return read.hit;
  }

  private page(
    viewer: Viewer,
    open: Opened,
    hits: SearchHit[],
    next: string | null,
    seq: string,
  ): ContentPage {
    const how = { mask: !open.scope.unmask, pseudonyms: open.pseudonyms };
    return { items: hits.map((h) => presentHit(h, how)), next, watermark: watermarkOf(viewer, seq) };
  }

  private record(
    client: Queryable,
    viewer: Viewer,
    corpId: number,
    event: Omit<AuditEventInput, 'actor' | 'result'> & { scope: ContentScope; purpose: ContentPurpose },
  ) {
    const { scope, purpose, details, ...rest } = event;
    const grants = scope.grants.filter((g) => relevant(g.actions, purpose));
    return this.deps.audit.record(client, {
      ...rest,
      corpId,
      actor: viewer.principal.actor,
      actorIp: viewer.ip,
      result: 'allowed',
      // Why: the reasons of the grants that opened content beyond the viewer's own scope.
      reason: grants.length ? grants.map((g) => `#${g.id}: ${g.reason}`).join('; ') : null,
      details: {
        ...details,
        via: viewer.principal.via,
        grants: grants.map((g) => g.id),
        masked: !scope.unmask,
      },
    });
  }

  private async deny(
    client: Queryable,
    viewer: Viewer,
    corpId: number,
    purpose: ContentPurpose,
    resourceType: string,
    resourceIds: string[],
    reason: string,
  ): Promise<never> {
    await this.deps.audit.record(client, {
      corpId,
      actor: viewer.principal.actor,
      actorIp: viewer.ip,
      action: `content.${purpose}`,
      resourceType,
      resourceIds,
      result: 'denied',
      details: { reason, via: viewer.principal.via },
    });
    throw new DeniedAfterCommit(
      new AppError(
        403,
        'out_of_scope',
        reason === 'no_scope'
          ? 'no content in your scope here: request an access grant'
          : reason === 'no_active_export_grant'
            ? 'exports need an active export grant of yours'
            : 'outside your scope: request an access grant',
      ),
    );
  }

  private pseudonymKey(corpId: number): Promise<Buffer> {
    let key = this.pseudonymKeys.get(corpId);
    if (!key) {
      key = getOrCreateSecret(this.deps.keyring, `corp/${corpId}/pseudonym`);
      this.pseudonymKeys.set(corpId, key);
    }
    return key;
  }
}

export interface ExportedMedia {
  msgid: string;
  name: string;
  type: string | null;
  data: Buffer;
}

export interface AttachmentInfo {
  id: string;
  path: string;
  kind: string;
  status: string;
  type: string | null;
  size: number | null;
}

const relevant = (actions: readonly string[], purpose: ContentPurpose) =>
  purpose === 'view' ? actions.includes('view') || actions.includes('search') : actions.includes(purpose);

async function ownUserid(db: Queryable, viewer: Viewer, corpId: number): Promise<string | null> {
  const { rows } = await db.query<{ employee_userid: string | null }>(
    'SELECT employee_userid FROM users WHERE id = $1 AND corp_id = $2',
    [viewer.principal.userId, corpId],
  );
  return rows[0]?.employee_userid ?? null;
}

function watermarkOf(viewer: Viewer, auditSeq: string): string {
  return `${viewer.principal.username} · ${new Date().toISOString().slice(0, 16).replace('T', ' ')}Z · #${auditSeq}`;
}

function describeFilters(f: SearchFilters): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(f)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v]),
  );
}
