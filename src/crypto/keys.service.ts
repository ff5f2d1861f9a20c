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
