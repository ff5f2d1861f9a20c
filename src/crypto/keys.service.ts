import type { Pool } from '../platform/db/pool.js';
import type { JobDefinition } from '../platform/jobs/types.js';
import type { CryptoServices } from './setup.js';
import type { DekScope } from './envelope.js';

export const REWRAP_JOB = 'crypto.rewrap';

export interface KeyStatus {
  provider: string;
  current: number;
  versions: Array<{ version: number; state: string; createdAt?: string; deks: number }>;
  destroyedScopes: number;
  pendingRewrap: number;
}

export interface CorpKeyCoverage {
  /** The data keys' corp id (text, as in `data_keys`). */
  corpId: string;
  slug: string | null;
  name: string | null;
  /** Live data keys per KEK version. */
  versions: Array<{ kekVersion: number; deks: number }>;
  destroyed: number;
}

export interface ShredPlan {
  scope: DekScope;
  messages: number;
  alreadyDestroyed: boolean;
}

/** Key rotation, coverage and crypto-shredding: what `vigil keys` and the admin API call. */
export class KeyService {
  constructor(
    private readonly pool: Pool,
    private readonly crypto: CryptoServices,
  ) {}

  async status(): Promise<KeyStatus> {
    const [versions, current, coverage] = await Promise.all([
      this.crypto.keyring.listKekVersions(),
      this.crypto.keyring.currentKekVersion(),
      this.crypto.deks.coverage(),
    ]);
    const live = new Map(coverage.filter((c) => c.kekVersion !== null).map((c) => [c.kekVersion!, c.live]));
    return {
      provider: this.crypto.keyring.provider,
      current,
      versions: versions.map((v) => ({ ...v, deks: live.get(v.version) ?? 0 })),
      destroyedScopes: coverage.reduce((n, c) => n + c.destroyed, 0),
      pendingRewrap: coverage
        .filter((c) => c.kekVersion !== null && c.kekVersion !== current)
        .reduce((n, c) => n + c.live, 0),
    };
  }

  /**
   * Data keys per corp and KEK version (how far a rotation has rewrapped each corp) and the
   * corp's crypto-shredded scopes. Counts only: no wrapped key leaves the database.
   */
  async coverageByCorp(): Promise<CorpKeyCoverage[]> {
    const { rows } = await this.pool.query<{
      corp_id: string;
      slug: string | null;
      name: string | null;
      kek_version: number | null;
      live: string;
      destroyed: string;
    }>(
      `SELECT d.corp_id, c.slug, c.name, d.kek_version,
              count(*) FILTER (WHERE d.destroyed_at IS NULL) AS live,
              count(*) FILTER (WHERE d.destroyed_at IS NOT NULL) AS destroyed
       FROM data_keys d LEFT JOIN corps c ON c.id::text = d.corp_id
       GROUP BY d.corp_id, c.slug, c.name, d.kek_version
       ORDER BY d.corp_id, d.kek_version NULLS LAST`,
    );
    const corps = new Map<string, CorpKeyCoverage>();
    for (const r of rows) {
      let corp = corps.get(r.corp_id);
      if (!corp) {
        corp = { corpId: r.corp_id, slug: r.slug, name: r.name, versions: [], destroyed: 0 };
        corps.set(r.corp_id, corp);
      }
      if (r.kek_version !== null) corp.versions.push({ kekVersion: r.kek_version, deks: Number(r.live) });
      corp.destroyed += Number(r.destroyed);
    }
    return [...corps.values()];
  }

  /** Creates a new KEK version; data keys are rewrapped by the `crypto.rewrap` job. */
  async rotate(): Promise<number> {
    return this.crypto.keyring.createKekVersion();
  }

  /** The rewrap job: rewraps every data key under the current KEK, never touching content. */
  rewrapJob(): JobDefinition {
    return {
      name: REWRAP_JOB,
      maxAttempts: 10,
      handler: async ({ reportProgress }) => {
        const total = (await this.status()).pendingRewrap;
        let last = 0;
        const result = await this.crypto.envelope.rewrapAll((p) => {
          if (p.processed - last >= 50 || p.processed === total) {
            last = p.processed;
            void reportProgress({ done: p.processed, total, message: `rewrapped ${p.rewrapped}` });
          }
        });
        await reportProgress({ done: total, total, message: `rewrapped ${result.rewrapped}` });
        if (result.failed.length) {
          throw new Error(
            `${result.failed.length} data key(s) could not be rewrapped: ${result.failed[0]!.error.message}`,
          );
        }
        return {
          targetKekVersion: result.targetKekVersion,
          rewrapped: result.rewrapped,
          raced: result.raced,
        };
      },
    };
  }

  /** Scopes of a corp through `month` (inclusive) and how many messages each holds. */
  async planShred(corpId: number, throughMonth: string, retentionClass?: string): Promise<ShredPlan[]> {
    const scopes = await this.crypto.deks.scopesThrough(String(corpId), throughMonth, retentionClass);
    const plans: ShredPlan[] = [];
    for (const record of scopes) {
      const { rows } = await this.pool.query<{ n: string }>(
        `SELECT count(*) AS n FROM messages WHERE corp_id = $1 AND retention_class = $2
           AND msg_time >= ($3 || '-01T00:00:00Z')::timestamptz AND msg_time < ($3 || '-01T00:00:00Z')::timestamptz + interval '1 month'`,
        [corpId, record.scope.retentionClass, record.scope.month],
      );
      plans.push({
        scope: record.scope,
        messages: Number(rows[0]!.n),
        alreadyDestroyed: record.destroyedAt !== null,
      });
    }
    return plans;
  }

  /**
   * Destroys the data keys of the planned scopes: their content becomes unreadable everywhere,
   * backups included. The blind index of those rows is cleared too, since its positional keyed
   * hashes are a substitution of the text (see the threat model).
   */
  async shred(corpId: number, plans: ShredPlan[]): Promise<number> {
    let destroyed = 0;
    for (const plan of plans.filter((p) => !p.alreadyDestroyed)) {
      await this.crypto.envelope.shredScope(plan.scope);
      destroyed++;
    }
    for (const { scope } of plans) {
      await this.pool.query(
        `UPDATE messages SET search = NULL WHERE corp_id = $1 AND retention_class = $2 AND search IS NOT NULL
           AND msg_time >= ($3 || '-01T00:00:00Z')::timestamptz
           AND msg_time < ($3 || '-01T00:00:00Z')::timestamptz + interval '1 month'`,
        [corpId, scope.retentionClass, scope.month],
      );
    }
    return destroyed;
  }

  /** Deletes the rows of shredded scopes (their message keys stay, so a purged msgid is never re-archived). */
  async purgeShredded(corpId: number, plans: ShredPlan[]): Promise<number> {
    let purged = 0;
    for (const { scope } of plans) {
      const record = await this.crypto.deks.get(scope);
      if (!record?.destroyedAt) continue; // only content that is already unreadable
      const { rowCount } = await this.pool.query(
        `DELETE FROM messages WHERE corp_id = $1 AND retention_class = $2
           AND msg_time >= ($3 || '-01T00:00:00Z')::timestamptz AND msg_time < ($3 || '-01T00:00:00Z')::timestamptz + interval '1 month'`,
        [corpId, scope.retentionClass, scope.month],
      );
      purged += rowCount ?? 0;
    }
    return purged;
  }
}
