import type { AuditLog } from '../../audit/audit-log.js';
import type { Keyring } from '../../crypto/keyring/types.js';
import type { Corp } from '../../org/types.js';
import { withTransaction, type Pool } from '../../platform/db/pool.js';
import { AppError } from '../../platform/http/errors.js';
import { redactUrl } from '../../platform/logging/logger.js';
import { wecomCallbackSecretName, wecomSecretName, type WecomSecretKind } from '../api/secrets.js';
import { ConnectorRepository, type ConnectorRow } from './connector.repository.js';

/** The write-only secrets of a corp's connector: the four WeCom API secrets and the callback pair. */
export const CONNECTOR_SECRET_KINDS = [
  'archive',
  'contacts',
  'externalcontact',
  'app',
  'callback_token',
  'callback_aeskey',
] as const;
export type ConnectorSecretKind = (typeof CONNECTOR_SECRET_KINDS)[number];

/** Keyring name of a connector secret: where `vigil wecom connect` and the callbacks read it. */
export function connectorSecretName(corpId: number, kind: ConnectorSecretKind): string {
  if (kind === 'callback_token') return wecomCallbackSecretName(corpId, 'token');
  if (kind === 'callback_aeskey') return wecomCallbackSecretName(corpId, 'aeskey');
  return wecomSecretName(corpId, kind satisfies WecomSecretKind);
}

export interface ConnectorSettings {
  wecomCorpId: string;
  sdkMode: 'native' | 'emulator';
  sdkLibrary: string | null;
  apiBaseUrl: string;
  /** With any password replaced by `***`. */
  proxy: string | null;
  pollIntervalSeconds: number;
  enabled: boolean;
}

/** What the API shows of a corp's connector: settings, and of each secret only whether it is set. */
export interface ConnectorView {
  corpId: number;
  slug: string;
  name: string;
  settings: ConnectorSettings | null;
  secrets: Array<{
    kind: ConnectorSecretKind;
    set: boolean;
    changedAt: string | null;
    changedBy: string | null;
  }>;
  /** publickey_ver of the WeCom RSA private keys held in the keyring (`vigil wecom add-key`). */
  rsaKeyVersions: number[];
}

export interface ConnectorUpdate {
  wecomCorpId: string;
  sdkMode: 'native' | 'emulator';
  sdkLibrary: string | null;
  apiBaseUrl: string;
  proxy: string | null;
  pollIntervalSeconds: number;
  enabled: boolean;
  /** New values only; a kind left out keeps its stored secret. */
  secrets?: Partial<Record<ConnectorSecretKind, string>>;
}

/** Settings whose change sends the archive secret somewhere else: it must then be entered again. */
const REDIRECTING = ['wecomCorpId', 'apiBaseUrl', 'sdkLibrary', 'proxy'] as const;

const present = (c: ConnectorRow): ConnectorSettings => ({
  wecomCorpId: c.wecom_corp_id,
  sdkMode: c.sdk_mode,
  sdkLibrary: c.sdk_library,
  apiBaseUrl: c.api_base_url,
  proxy: c.proxy === null ? null : redactUrl(c.proxy),
  pollIntervalSeconds: c.poll_interval_seconds,
  enabled: c.enabled,
});

/**
 * WeCom connector settings of a corp, as `vigil wecom connect` writes them: the row in
 * `wecom_connectors` and the secrets in the keyring under the names the connector reads. Secrets
 * are write-only: nothing here returns a value, and the audit records only which ones changed.
 */
export class ConnectorSettingsService {
  constructor(private readonly deps: { pool: Pool; keyring: Keyring; audit: AuditLog }) {}

  async view(corp: Corp): Promise<ConnectorView> {
    const repo = new ConnectorRepository(this.deps.pool);
    const [connector, stored, rsa, changes] = await Promise.all([
      repo.connector(corp.id),
      // Names only: the values are never read here.
      Promise.all([
        this.deps.keyring.listSecrets(`wecom/secret/${corp.id}/`),
        this.deps.keyring.listSecrets(`wecom/callback/${corp.id}/`),
      ]).then((lists) => new Set(lists.flat())),
      this.deps.keyring.listSecrets(`wecom/rsa/${corp.id}/`),
      this.deps.pool.query<{ kind: string; changed_at: Date; changed_by: string }>(
        'SELECT kind, changed_at, changed_by FROM wecom_secret_changes WHERE corp_id = $1',
        [corp.id],
      ),
    ]);
    const changed = new Map(changes.rows.map((r) => [r.kind, r]));
    return {
      corpId: corp.id,
      slug: corp.slug,
      name: corp.name,
      settings: connector ? present(connector) : null,
      secrets: CONNECTOR_SECRET_KINDS.map((kind) => ({
        kind,
        set: stored.has(connectorSecretName(corp.id, kind)),
        changedAt: changed.get(kind)?.changed_at.toISOString() ?? null,
        changedBy: changed.get(kind)?.changed_by ?? null,
      })),
      rsaKeyVersions: rsa
        .map((name) => /\/v(\d+)$/.exec(name)?.[1])
        .filter((v): v is string => v !== undefined)
        .map(Number)
        .sort((a, b) => a - b),
    };
  }

  /** Saves the settings and any new secrets; audited with the names of what changed, never values. */
  async update(corp: Corp, update: ConnectorUpdate, actor: string, actorIp?: string): Promise<ConnectorView> {
    const repo = new ConnectorRepository(this.deps.pool);
    const before = await repo.connector(corp.id);
    const previous = before ? present(before) : null;
    // A proxy sent back as shown (password masked) keeps the stored one.
    const proxy =
      update.proxy !== null && before?.proxy && update.proxy === previous?.proxy
        ? before.proxy
        : update.proxy;
    const next: ConnectorSettings = {
      wecomCorpId: update.wecomCorpId,
      sdkMode: update.sdkMode,
      sdkLibrary: update.sdkMode === 'native' ? update.sdkLibrary : null,
      apiBaseUrl: update.apiBaseUrl,
      proxy,
      pollIntervalSeconds: update.pollIntervalSeconds,
      enabled: update.enabled,
    };
    if (next.sdkMode === 'native' && !next.sdkLibrary)
      throw new AppError(
        400,
        'sdk_library_required',
        'the native SDK needs the path of libWeWorkFinanceSdk_C.so',
      );
    const secrets = Object.entries(update.secrets ?? {}).filter(
      (e): e is [ConnectorSecretKind, string] => typeof e[1] === 'string' && e[1].length > 0,
    );
    const changed = (Object.keys(next) as Array<keyof ConnectorSettings>).filter(
      (k) => !before || (k === 'proxy' ? proxy !== before.proxy : next[k] !== previous![k]),
    );
    const redirected = before ? REDIRECTING.filter((k) => changed.includes(k)) : [];
    const archiveStored = (await this.deps.keyring.listSecrets(`wecom/secret/${corp.id}/`)).includes(
      connectorSecretName(corp.id, 'archive'),
    );
    if (redirected.length && archiveStored && !secrets.some(([kind]) => kind === 'archive'))
      throw new AppError(
        409,
        'archive_secret_required',
        `changing ${redirected.join(', ')} sends the archive secret elsewhere: enter the archive secret again`,
      );

    // The keyring first: a failure there leaves the database as it was.
    for (const [kind, value] of secrets)
      await this.deps.keyring.putSecret(connectorSecretName(corp.id, kind), Buffer.from(value, 'utf8'));
    await withTransaction(this.deps.pool, async (client) => {
      await new ConnectorRepository(client).upsertConnector({
        corp_id: corp.id,
        wecom_corp_id: next.wecomCorpId,
        sdk_mode: next.sdkMode,
        sdk_library: next.sdkLibrary,
        api_base_url: next.apiBaseUrl,
        proxy: next.proxy,
        poll_interval_seconds: next.pollIntervalSeconds,
        enabled: next.enabled,
      });
      for (const [kind] of secrets)
        await client.query(
          `INSERT INTO wecom_secret_changes (corp_id, kind, changed_by) VALUES ($1, $2, $3)
           ON CONFLICT (corp_id, kind) DO UPDATE SET changed_at = now(), changed_by = EXCLUDED.changed_by`,
          [corp.id, kind, actor],
        );
      await this.deps.audit.record(client, {
        corpId: corp.id,
        actor,
        actorIp,
        action: 'wecom.connector.update',
        result: 'allowed',
        resourceType: 'wecom_connector',
        resourceIds: [String(corp.id)],
        details: {
          created: !before,
          changed,
          // Which secrets were replaced; their values never reach the log.
          replaced: secrets.map(([kind]) => kind),
        },
      });
    });
    return this.view(corp);
  }
}
