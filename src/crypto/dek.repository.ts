import type { Queryable } from '../platform/db/pool.js';
import type { AeadAlg } from './cipher.js';
import type { DekRecord, DekScope, DekStore, NewDek } from './envelope.js';

interface DekRow {
  corp_id: string;
  month: string;
  retention_class: string;
  alg: AeadAlg;
  kek_version: number | null;
  wrapped: Buffer | null;
  created_at: Date;
  destroyed_at: Date | null;
}

const toRecord = (r: DekRow): DekRecord => ({
  scope: { corpId: r.corp_id, month: r.month, retentionClass: r.retention_class },
  alg: r.alg,
  kekVersion: r.kek_version,
  wrapped: r.wrapped,
  createdAt: r.created_at,
  destroyedAt: r.destroyed_at,
});

/** The DekStore of EnvelopeService, in PostgreSQL (`data_keys`). */
export class PgDekStore implements DekStore {
  constructor(private readonly db: Queryable) {}

  async get(scope: DekScope): Promise<DekRecord | undefined> {
    const { rows } = await this.db.query<DekRow>(
      'SELECT * FROM data_keys WHERE corp_id = $1 AND month = $2 AND retention_class = $3',
      [scope.corpId, scope.month, scope.retentionClass],
    );
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  async insertIfAbsent(dek: NewDek): Promise<DekRecord> {
    const { scope } = dek;
    await this.db.query(
      `INSERT INTO data_keys (corp_id, month, retention_class, alg, kek_version, wrapped)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
      [scope.corpId, scope.month, scope.retentionClass, dek.alg, dek.kekVersion, dek.wrapped],
    );
    return (await this.get(scope))!;
  }

  async listForRewrap(targetKekVersion: number, after: DekScope | null, limit: number): Promise<DekRecord[]> {
    const { rows } = await this.db.query<DekRow>(
      `SELECT * FROM data_keys
       WHERE destroyed_at IS NULL AND kek_version <> $1
         AND ($2::text IS NULL OR (corp_id, month, retention_class) > ($2, $3, $4))
       ORDER BY corp_id, month, retention_class LIMIT $5`,
      [targetKekVersion, after?.corpId ?? null, after?.month ?? null, after?.retentionClass ?? null, limit],
    );
    return rows.map(toRecord);
  }

  async updateWrap(
    scope: DekScope,
    from: { kekVersion: number },
    to: { kekVersion: number; wrapped: Buffer },
  ): Promise<boolean> {
    const { rowCount } = await this.db.query(
      `UPDATE data_keys SET kek_version = $5, wrapped = $6, rewrapped_at = now()
       WHERE corp_id = $1 AND month = $2 AND retention_class = $3 AND kek_version = $4 AND destroyed_at IS NULL`,
      [scope.corpId, scope.month, scope.retentionClass, from.kekVersion, to.kekVersion, to.wrapped],
    );
    return rowCount === 1;
  }

  async markDestroyed(scope: DekScope, alg: AeadAlg): Promise<void> {
    await this.db.query(
      `INSERT INTO data_keys (corp_id, month, retention_class, alg, kek_version, wrapped, destroyed_at)
       VALUES ($1, $2, $3, $4, NULL, NULL, now())
       ON CONFLICT (corp_id, month, retention_class) DO UPDATE
       SET wrapped = NULL, kek_version = NULL, destroyed_at = coalesce(data_keys.destroyed_at, now())`,
      [scope.corpId, scope.month, scope.retentionClass, alg],
    );
  }

  async countByKekVersion(kekVersion: number): Promise<number> {
    const { rows } = await this.db.query<{ n: string }>(
      'SELECT count(*) AS n FROM data_keys WHERE kek_version = $1 AND destroyed_at IS NULL',
      [kekVersion],
    );
    return Number(rows[0]!.n);
  }

  /** DEKs per KEK version, and destroyed scopes: what `vigil keys status` shows. */
  async coverage(): Promise<Array<{ kekVersion: number | null; live: number; destroyed: number }>> {
    const { rows } = await this.db.query<{ kek_version: number | null; live: string; destroyed: string }>(
      `SELECT kek_version, count(*) FILTER (WHERE destroyed_at IS NULL) AS live,
              count(*) FILTER (WHERE destroyed_at IS NOT NULL) AS destroyed
       FROM data_keys GROUP BY kek_version ORDER BY kek_version NULLS LAST`,
    );
    return rows.map((r) => ({
      kekVersion: r.kek_version,
      live: Number(r.live),
      destroyed: Number(r.destroyed),
    }));
  }

  /** Scopes of a corp up to and including `month`, for shredding by retention. */
  async scopesThrough(corpId: string, month: string, retentionClass?: string): Promise<DekRecord[]> {
    const { rows } = await this.db.query<DekRow>(
      `SELECT * FROM data_keys WHERE corp_id = $1 AND month <= $2 AND ($3::text IS NULL OR retention_class = $3)
       ORDER BY month, retention_class`,
      [corpId, month, retentionClass ?? null],
    );
    return rows.map(toRecord);
  }
}
