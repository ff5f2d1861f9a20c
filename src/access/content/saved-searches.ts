import { z } from 'zod';
import type { Pool } from '../../platform/db/pool.js';

/** The filters a saved search keeps, as the search API takes them. */
export const savedFilters = z
  .object({
    from: z.string().datetime({ offset: true }).optional(),
    to: z.string().datetime({ offset: true }).optional(),
    employee: z.string().max(100).optional(),
    externalContact: z.string().max(100).optional(),
    msgtypes: z.array(z.string().max(40)).max(40).optional(),
    hasAttachment: z.boolean().optional(),
  })
  .strict();
export type SavedFilters = z.infer<typeof savedFilters>;

export interface SavedSearch {
  id: string;
  name: string;
  query: string;
  filters: SavedFilters;
  updatedAt: string;
}

interface Row {
  id: string;
  name: string;
  query: string;
  filters: SavedFilters;
  updated_at: Date;
}

const view = (r: Row): SavedSearch => ({
  id: r.id,
  name: r.name,
  query: r.query,
  filters: r.filters,
  updatedAt: r.updated_at.toISOString(),
});

/** Saved searches are the user's own: every statement is keyed by the user as well as the id. */
export class SavedSearchRepository {
  constructor(private readonly pool: Pool) {}

  async list(userId: string, corpId: number): Promise<SavedSearch[]> {
    const { rows } = await this.pool.query<Row>(
      `SELECT id::text, name, query, filters, updated_at FROM saved_searches
       WHERE user_id = $1 AND corp_id = $2 ORDER BY name`,
      [userId, corpId],
    );
    return rows.map(view);
  }

  /** Saves under `name`, replacing the user's search of that name. */
  async save(
    userId: string,
    corpId: number,
    input: { name: string; query: string; filters: SavedFilters },
  ): Promise<SavedSearch> {
    const { rows } = await this.pool.query<Row>(
      `INSERT INTO saved_searches (user_id, corp_id, name, query, filters) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (user_id, corp_id, name)
         DO UPDATE SET query = EXCLUDED.query, filters = EXCLUDED.filters, updated_at = now()
       RETURNING id::text, name, query, filters, updated_at`,
      [userId, corpId, input.name, input.query, JSON.stringify(input.filters)],
    );
    return view(rows[0]!);
  }

  /** False when the user has no such search (someone else's id included). */
  async delete(userId: string, corpId: number, id: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      'DELETE FROM saved_searches WHERE id = $1 AND user_id = $2 AND corp_id = $3',
      [id, userId, corpId],
    );
    return rowCount === 1;
  }
}
