import type { AuditLog } from '../../audit/audit-log.js';
import type { Pool, PoolClient } from '../../platform/db/pool.js';
import { withTransaction } from '../../platform/db/pool.js';
import { notFound } from '../../platform/http/errors.js';
import type { Principal } from '../types.js';
import type { PseudonymMode } from './pseudonyms.js';

/** The data categories of departments and conversations, and a corp's pseudonym mode: audited changes. */
export class ContentSettingsService {
  constructor(private readonly deps: { pool: Pool; audit: AuditLog }) {}

  setDepartmentCategories(
    principal: Principal,
    corpId: number,
    departmentId: number,
    categories: string[],
    ip: string,
  ) {
    return this.change(principal, ip, corpId, 'department', String(departmentId), { categories }, (db) =>
      db.query('UPDATE departments SET categories = $3, updated_at = now() WHERE corp_id = $1 AND id = $2', [
        corpId,
        departmentId,
        categories,
      ]),
    );
  }

  /** Replaces the hand-set categories of a conversation. */
  setConversationCategories(
    principal: Principal,
    corpId: number,
    conversationId: string,
    categories: string[],
    ip: string,
  ) {
    return this.change(principal, ip, corpId, 'conversation', conversationId, { categories }, async (db) => {
      const found = await db.query('SELECT 1 FROM conversations WHERE corp_id = $1 AND id = $2', [
        corpId,
        conversationId,
      ]);
      if (found.rowCount === 0) return found;
      await db.query('DELETE FROM conversation_categories WHERE corp_id = $1 AND conversation_id = $2', [
        corpId,
        conversationId,
      ]);
      await db.query(
        `INSERT INTO conversation_categories (corp_id, conversation_id, category, set_by)
         SELECT $1, $2, c, $4 FROM unnest($3::text[]) AS c`,
        [corpId, conversationId, categories, principal.userId],
      );
      return found;
    });
  }

  setPseudonymMode(principal: Principal, corpId: number, mode: PseudonymMode, ip: string) {
    return this.change(principal, ip, corpId, 'corp', String(corpId), { pseudonyms: mode }, (db) =>
      db.query('UPDATE corps SET pseudonyms = $2 WHERE id = $1', [corpId, mode]),
    );
  }

  /** Categories of a conversation and where each comes from. */
  async conversationCategories(corpId: number, conversationId: string) {
    const { rows } = await this.deps.pool.query<{ category: string; source: string }>(
      `SELECT DISTINCT category, source FROM conversation_data_categories
       WHERE corp_id = $1 AND conversation_id = $2 ORDER BY category, source`,
      [corpId, conversationId],
    );
    return rows;
  }

  private async change(
    principal: Principal,
    ip: string,
    corpId: number,
    resourceType: string,
    resourceId: string,
    details: Record<string, unknown>,
    apply: (db: PoolClient) => Promise<{ rowCount: number | null }>,
  ): Promise<void> {
    await withTransaction(this.deps.pool, async (client) => {
      const { rowCount } = await apply(client);
      if (!rowCount) throw notFound(resourceType);
      await this.deps.audit.record(client, {
        corpId,
        actor: principal.actor,
        actorIp: ip,
        action: 'config.change',
        resourceType,
        resourceIds: [resourceId],
        result: 'allowed',
        details,
      });
    });
  }
}
