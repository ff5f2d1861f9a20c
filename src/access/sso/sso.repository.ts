import type { Queryable } from '../../platform/db/pool.js';

export type SsoProvider = 'oidc' | 'wecom';
export type WecomLoginMode = 'oauth' | 'qr';

/** A started sign-in, as the callback finds it. */
export interface PreAuth {
  id: string;
  provider: SsoProvider;
  nonce: string | null;
  codeVerifier: string | null;
  corpId: number | null;
  mode: WecomLoginMode | null;
}

/** Why a presented state does not finish a sign-in (for the audit log). */
export type StateProblem = 'state_unknown' | 'state_replayed' | 'state_expired' | 'state_other_browser';

interface PreAuthRow {
  id: string;
  provider: SsoProvider;
  nonce: string | null;
  code_verifier: string | null;
  corp_id: number | null;
  mode: WecomLoginMode | null;
}

const toPreAuth = (r: PreAuthRow): PreAuth => ({
  id: r.id,
  provider: r.provider,
  nonce: r.nonce,
  codeVerifier: r.code_verifier,
  corpId: r.corp_id,
  mode: r.mode,
});

/** The WeCom employee behind a login userid, and the account linked to it. */
export interface EmployeeAccount {
  employeeStatus: number;
  userId: string | null;
}

/** SQL of single sign-on: pre-auth records, identity links, WeCom employee accounts. */
export class SsoRepository {
  constructor(private readonly db: Queryable) {}

  async insertPreAuth(p: {
    provider: SsoProvider;
    stateHash: Buffer;
    browserHash: Buffer;
    nonce?: string;
    codeVerifier?: string;
    corpId?: number;
    mode?: WecomLoginMode;
    ttlSeconds: number;
  }): Promise<void> {
    await this.db.query(
      `INSERT INTO sso_preauth (provider, state_hash, browser_hash, nonce, code_verifier, corp_id, mode, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, now() + make_interval(secs => $8))`,
      [
        p.provider,
        p.stateHash,
        p.browserHash,
        p.nonce ?? null,
        p.codeVerifier ?? null,
        p.corpId ?? null,
        p.mode ?? null,
        p.ttlSeconds,
      ],
    );
  }

  /**
   * Marks the record of this state used and returns it, when it is unused, unexpired (database
   * clock) and was started by this browser. Compare-and-set: two callbacks racing with one state
   * cannot both win.
   */
  async consumePreAuth(
    provider: SsoProvider,
    stateHash: Buffer,
    browserHash: Buffer,
  ): Promise<PreAuth | undefined> {
    const { rows } = await this.db.query<PreAuthRow>(
      `UPDATE sso_preauth SET used_at = now()
       WHERE state_hash = $1 AND provider = $2 AND browser_hash = $3 AND used_at IS NULL AND expires_at > now()
       RETURNING id, provider, nonce, code_verifier, corp_id, mode`,
      [stateHash, provider, browserHash],
    );
    return rows[0] ? toPreAuth(rows[0]) : undefined;
  }

  /** Why consumePreAuth found nothing. */
  async stateProblem(provider: SsoProvider, stateHash: Buffer, browserHash: Buffer): Promise<StateProblem> {
    const { rows } = await this.db.query<{ used: boolean; expired: boolean; same_browser: boolean }>(
      `SELECT used_at IS NOT NULL AS used, expires_at <= now() AS expired, browser_hash = $3 AS same_browser
       FROM sso_preauth WHERE state_hash = $1 AND provider = $2`,
      [stateHash, provider, browserHash],
    );
    const r = rows[0];
    if (!r) return 'state_unknown';
    if (r.used) return 'state_replayed';
    if (r.expired) return 'state_expired';
    return 'state_other_browser';
  }

  /** Deletes records that expired over a day ago (kept that long to tell replays from unknown states). */
  async prunePreAuth(): Promise<number> {
    const { rowCount } = await this.db.query(
      "DELETE FROM sso_preauth WHERE expires_at < now() - interval '1 day'",
    );
    return rowCount ?? 0;
  }

  // Identity links

  async linkedUser(provider: string, subject: string): Promise<string | undefined> {
    const { rows } = await this.db.query<{ user_id: string }>(
      `UPDATE user_identities SET last_used_at = now() WHERE provider = $1 AND subject = $2 RETURNING user_id`,
      [provider, subject],
    );
    return rows[0]?.user_id;
  }

  /** Links a subject to a user; false when the user already has another subject of this provider. */
  async link(provider: string, subject: string, userId: string): Promise<boolean> {
    const { rowCount } = await this.db.query(
      `INSERT INTO user_identities (provider, subject, user_id, last_used_at) VALUES ($1, $2, $3, now())
       ON CONFLICT DO NOTHING`,
      [provider, subject, userId],
    );
    return rowCount === 1;
  }

  // WeCom

  /** The employee with this userid in the corp and the account linked to it, if any. */
  async employeeAccount(corpId: number, userid: string): Promise<EmployeeAccount | undefined> {
    const { rows } = await this.db.query<{ status: number; user_id: string | null }>(
      `SELECT e.status, u.id AS user_id FROM employees e
       LEFT JOIN users u ON u.corp_id = e.corp_id AND u.employee_userid = e.userid
       WHERE e.corp_id = $1 AND e.userid = $2`,
      [corpId, userid],
    );
    const r = rows[0];
    return r ? { employeeStatus: Number(r.status), userId: r.user_id } : undefined;
  }

  async corpBySlug(slug: string): Promise<{ id: number; slug: string } | undefined> {
    const { rows } = await this.db.query<{ id: number; slug: string }>(
      'SELECT id, slug FROM corps WHERE slug = $1',
      [slug],
    );
    return rows[0];
  }

  /** The corps of these slugs that exist, with their names, in slug order. */
  async corpsBySlug(slugs: string[]): Promise<{ id: number; slug: string; name: string }[]> {
    if (slugs.length === 0) return [];
    const { rows } = await this.db.query<{ id: number; slug: string; name: string }>(
      'SELECT id, slug, name FROM corps WHERE slug = ANY($1) ORDER BY slug',
      [slugs],
    );
    return rows;
  }
}
