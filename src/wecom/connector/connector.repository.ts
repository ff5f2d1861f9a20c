import { int8Array, textArray } from '../../archive/pg-binary.js';
import type { Queryable } from '../../platform/db/pool.js';

export interface ConnectorRow {
  corp_id: number;
  wecom_corp_id: string;
  sdk_mode: 'native' | 'emulator';
  sdk_library: string | null;
  api_base_url: string;
  proxy: string | null;
  poll_interval_seconds: number;
  enabled: boolean;
}

export interface EnvelopeRow {
  corp_id: number;
  msgid: string;
  seq: string;
  publickey_ver: number | null;
  encrypt_random_key: string | null;
  encrypt_chat_msg: string | null;
  attempts: number;
}

export interface NewEnvelope {
  msgid: string;
  seq: string;
  publickeyVer: number | null;
  encryptRandomKey: string | null;
  encryptChatMsg: string | null;
  /** Set for envelopes that are malformed on arrival: stored quarantined with this reason. */
  quarantineReason?: string;
}

/** An envelope written once with its final state by the streaming ingest (see stream.ts). */
export interface LedgerRow {
  msgid: string;
  seq: string;
  publickeyVer: number | null;
  /** pending: a retry is due after `delaySeconds`. */
  state: 'archived' | 'pending' | 'held_key' | 'quarantined';
  reason: string | null;
  attempts: number;
  delaySeconds: number;
  /** Kept unless archived: a held or quarantined message can be retried from its envelope. */
  encryptRandomKey: string | null;
  encryptChatMsg: string | null;
}

export type EnvelopeOutcome =
  | { msgid: string; state: 'archived' }
  | { msgid: string; state: 'held_key' | 'quarantined'; reason: string }
  | { msgid: string; state: 'retry'; reason: string; delaySeconds: number };

/** SQL of the connector: configuration, cursor and envelopes. */
export class ConnectorRepository {
  constructor(private readonly db: Queryable) {}

  async upsertConnector(
    c: Omit<ConnectorRow, 'enabled' | 'poll_interval_seconds'> & Partial<ConnectorRow>,
  ): Promise<void> {
    await this.db.query(
      `INSERT INTO wecom_connectors (corp_id, wecom_corp_id, sdk_mode, sdk_library, api_base_url, proxy, poll_interval_seconds, enabled)
       VALUES ($1, $2, $3, $4, $5, $6, coalesce($7, 60), coalesce($8, true))
       ON CONFLICT (corp_id) DO UPDATE SET wecom_corp_id = EXCLUDED.wecom_corp_id, sdk_mode = EXCLUDED.sdk_mode,
         sdk_library = EXCLUDED.sdk_library, api_base_url = EXCLUDED.api_base_url, proxy = EXCLUDED.proxy,
         poll_interval_seconds = EXCLUDED.poll_interval_seconds, enabled = EXCLUDED.enabled, updated_at = now()`,
      [
        c.corp_id,
        c.wecom_corp_id,
        c.sdk_mode,
        c.sdk_library,
        c.api_base_url,
        c.proxy,
        c.poll_interval_seconds ?? null,
        c.enabled ?? null,
      ],
    );
  }

  async connectors(): Promise<ConnectorRow[]> {
    const { rows } = await this.db.query<ConnectorRow>('SELECT * FROM wecom_connectors ORDER BY corp_id');
    return rows;
  }

  async connector(corpId: number): Promise<ConnectorRow | undefined> {
    const { rows } = await this.db.query<ConnectorRow>('SELECT * FROM wecom_connectors WHERE corp_id = $1', [
      corpId,
    ]);
    return rows[0];
  }

  /** The cursor, locked for this transaction so two pullers of one corp never interleave. */
  async lockCursor(corpId: number): Promise<string> {
    await this.db.query('INSERT INTO wecom_cursors (corp_id) VALUES ($1) ON CONFLICT DO NOTHING', [corpId]);
    const { rows } = await this.db.query<{ seq: string }>(
      'SELECT seq::text FROM wecom_cursors WHERE corp_id = $1 FOR UPDATE',
      [corpId],
    );
    return rows[0]!.seq;
  }

  /** The cursor without locking it ('0' before the first pull). */
  async cursor(corpId: number): Promise<string> {
    const { rows } = await this.db.query<{ seq: string }>(
      'SELECT seq::text FROM wecom_cursors WHERE corp_id = $1',
      [corpId],
    );
    return rows[0]?.seq ?? '0';
  }

  async insertEnvelopes(corpId: number, envelopes: NewEnvelope[]): Promise<number> {
    if (envelopes.length === 0) return 0;
    // Binary arrays (archive/pg-binary.ts): the ciphertexts are long strings.
    const { rowCount } = await this.db.query(
      `INSERT INTO wecom_envelopes (corp_id, msgid, seq, publickey_ver, encrypt_random_key, encrypt_chat_msg, state, reason)
       SELECT $1, e.msgid, e.seq::numeric, e.ver, e.rk, e.msg, CASE WHEN e.reason IS NULL THEN 'pending' ELSE 'quarantined' END, e.reason
       FROM unnest($2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[]) AS e(msgid, seq, ver, rk, msg, reason)
       ON CONFLICT (corp_id, msgid) DO NOTHING`,
      [
        corpId,
        textArray(envelopes.map((e) => e.msgid)),
        textArray(envelopes.map((e) => e.seq)),
        int8Array(envelopes.map((e) => e.publickeyVer)),
        textArray(envelopes.map((e) => e.encryptRandomKey)),
        textArray(envelopes.map((e) => e.encryptChatMsg)),
        textArray(envelopes.map((e) => e.quarantineReason ?? null)),
      ],
    );
    return rowCount ?? 0;
  }

  /**
   * Writes envelopes already processed, each once in its final state; a msgid stored before is
   * left as it is. Returns the msgids written by this call.
   */
  async insertLedger(corpId: number, rows: LedgerRow[]): Promise<Set<string>> {
    if (rows.length === 0) return new Set();
    const { rows: written } = await this.db.query<{ msgid: string }>(
      `INSERT INTO wecom_envelopes (corp_id, msgid, seq, publickey_ver, encrypt_random_key, encrypt_chat_msg, state,
         reason, attempts, next_attempt_at, archived_at)
       SELECT $1, e.msgid, e.seq::numeric, e.ver, e.rk, e.msg, e.state, e.reason, e.attempts,
         now() + make_interval(secs => e.delay), CASE WHEN e.state = 'archived' THEN now() END
       FROM unnest($2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bigint[],
         $10::bigint[]) AS e(msgid, seq, ver, rk, msg, state, reason, attempts, delay)
       ON CONFLICT (corp_id, msgid) DO NOTHING
       RETURNING msgid`,
      [
        corpId,
        textArray(rows.map((r) => r.msgid)),
        textArray(rows.map((r) => r.seq)),
        int8Array(rows.map((r) => r.publickeyVer)),
        textArray(rows.map((r) => (r.state === 'archived' ? null : r.encryptRandomKey))),
        textArray(rows.map((r) => (r.state === 'archived' ? null : r.encryptChatMsg))),
        textArray(rows.map((r) => r.state)),
        textArray(rows.map((r) => r.reason)),
        int8Array(rows.map((r) => r.attempts)),
        int8Array(rows.map((r) => Math.ceil(r.delaySeconds))),
      ],
    );
    return new Set(written.map((r) => r.msgid));
  }

  /** Moves the cursor after a pull of `pulled` new envelopes, `archived` of them archived at once. */
  async advanceCursor(corpId: number, seq: string, pulled: number, archived = 0): Promise<void> {
    await this.db.query(
      `UPDATE wecom_cursors SET seq = greatest(seq, $2::numeric), pulled_total = pulled_total + $3,
         archived_total = archived_total + $4, last_pull_at = now(),
         last_new_at = CASE WHEN $3 > 0 THEN now() ELSE last_new_at END, last_error = NULL
       WHERE corp_id = $1`,
      [corpId, seq, pulled, archived],
    );
  }

  /** Counts messages archived from stored envelopes (processPending). */
  async addArchived(corpId: number, archived: number): Promise<void> {
    if (archived === 0) return;
    await this.db.query('UPDATE wecom_cursors SET archived_total = archived_total + $2 WHERE corp_id = $1', [
      corpId,
      archived,
    ]);
  }

  async recordPullError(corpId: number, error: string): Promise<void> {
    await this.db.query(
      `INSERT INTO wecom_cursors (corp_id, last_error, last_error_at) VALUES ($1, $2, now())
       ON CONFLICT (corp_id) DO UPDATE SET last_error = $2, last_error_at = now()`,
      [corpId, error.slice(0, 1000)],
    );
  }

  /** Claims due pending envelopes in seq order; the caller's transaction holds the row locks. */
  async claimPending(corpId: number, limit: number): Promise<EnvelopeRow[]> {
    const { rows } = await this.db.query<EnvelopeRow>(
      `SELECT corp_id, msgid, seq::text, publickey_ver, encrypt_random_key, encrypt_chat_msg, attempts
       FROM wecom_envelopes
       WHERE corp_id = $1 AND state = 'pending' AND next_attempt_at <= now()
       ORDER BY seq LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [corpId, limit],
    );
    return rows;
  }

  async recordOutcomes(corpId: number, outcomes: EnvelopeOutcome[]): Promise<void> {
    if (outcomes.length === 0) return;
    await this.db.query(
      `UPDATE wecom_envelopes e SET
         state = CASE o.state WHEN 'retry' THEN 'pending' ELSE o.state END,
         reason = o.reason,
         attempts = e.attempts + 1,
         next_attempt_at = now() + make_interval(secs => coalesce(o.delay, 0)),
         archived_at = CASE WHEN o.state = 'archived' THEN now() END,
         -- archived messages live encrypted in the archive now; the envelope's ciphertext is not needed
         encrypt_random_key = CASE WHEN o.state = 'archived' THEN NULL ELSE e.encrypt_random_key END,
         encrypt_chat_msg = CASE WHEN o.state = 'archived' THEN NULL ELSE e.encrypt_chat_msg END
       FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[]) AS o(msgid, state, reason, delay)
       WHERE e.corp_id = $1 AND e.msgid = o.msgid`,
      [
        corpId,
        textArray(outcomes.map((o) => o.msgid)),
        textArray(outcomes.map((o) => o.state)),
        textArray(outcomes.map((o) => ('reason' in o ? o.reason : null))),
        int8Array(outcomes.map((o) => (o.state === 'retry' ? Math.ceil(o.delaySeconds) : 0))),
      ],
    );
  }

  /** Held envelopes of a key version go back to pending, e.g. once that private key was added. */
  async releaseHeld(corpId: number, publickeyVer?: number): Promise<number> {
    const { rowCount } = await this.db.query(
      `UPDATE wecom_envelopes SET state = 'pending', next_attempt_at = now()
       WHERE corp_id = $1 AND state = 'held_key' AND ($2::int IS NULL OR publickey_ver = $2)`,
      [corpId, publickeyVer ?? null],
    );
    return rowCount ?? 0;
  }

  /** Puts a quarantined or held envelope back in the queue (operator action after a fix). */
  async retry(corpId: number, msgid: string): Promise<boolean> {
    const { rowCount } = await this.db.query(
      `UPDATE wecom_envelopes SET state = 'pending', attempts = 0, next_attempt_at = now()
       WHERE corp_id = $1 AND msgid = $2 AND state IN ('held_key', 'quarantined')`,
      [corpId, msgid],
    );
    return rowCount === 1;
  }

  async countByState(corpId: number): Promise<Record<string, number>> {
    const { rows } = await this.db.query<{ state: string; n: string }>(
      'SELECT state, count(*) AS n FROM wecom_envelopes WHERE corp_id = $1 GROUP BY state',
      [corpId],
    );
    return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
  }

  async attention(
    corpId: number,
    limit = 100,
  ): Promise<
    Array<{ msgid: string; seq: string; state: string; reason: string | null; publickey_ver: number | null }>
  > {
    const { rows } = await this.db.query(
      `SELECT msgid, seq::text, state, reason, publickey_ver FROM wecom_envelopes
       WHERE corp_id = $1 AND state IN ('held_key', 'quarantined') ORDER BY seq LIMIT $2`,
      [corpId, limit],
    );
    return rows;
  }
}
