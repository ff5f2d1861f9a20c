import type { Keyring } from '../crypto/keyring/types.js';
import type { Pool } from '../platform/db/pool.js';
import type { Logger } from '../platform/logging/logger.js';
import { WecomApiClient, WecomApiError } from '../wecom/api/client.js';
import { keyringSecrets } from '../wecom/api/secrets.js';
import { NotificationsRepository, type DueNotification } from './notifications.repository.js';

/** A corp's self-built app: the API client (app secret) and its AgentId. */
export interface WecomApp {
  client: WecomApiClient;
  agentid: number;
}

/** The app of a corp, or undefined when the corp has no connector or no app AgentId. */
export type WecomAppFor = (corpId: number) => Promise<WecomApp | undefined>;

/**
 * Apps from the connector (API base URL, WeCom corp id), the keyring (the `app` secret) and the
 * AgentIds by corp slug: the same self-built app users sign in with (`access.wecom.agents`).
 * Clients are kept per corp so access tokens are reused between deliveries.
 */
export function connectorWecomApps(
  pool: Pool,
  keyring: Keyring,
  agents: Readonly<Record<string, number>>,
): WecomAppFor {
  const clients = new Map<number, { key: string; client: WecomApiClient }>();
  return async (corpId) => {
    const { rows } = await pool.query<{ slug: string; wecom_corp_id: string; api_base_url: string }>(
      `SELECT c.slug, w.wecom_corp_id, w.api_base_url FROM wecom_connectors w JOIN corps c ON c.id = w.corp_id
       WHERE w.corp_id = $1 AND w.enabled`,
      [corpId],
    );
    const c = rows[0];
    const agentid = c && Object.hasOwn(agents, c.slug) ? agents[c.slug] : undefined;
    if (!c || agentid === undefined) return undefined;
    const key = `${c.api_base_url}|${c.wecom_corp_id}`;
    let cached = clients.get(corpId);
    if (cached?.key !== key) {
      cached = {
        key,
        client: new WecomApiClient({
          baseUrl: c.api_base_url,
          corpId: c.wecom_corp_id,
          secrets: keyringSecrets(keyring, corpId),
        }),
      };
      clients.set(corpId, cached);
    }
    return { client: cached.client, agentid };
  };
}

export interface DeliveryReport {
  delivered: number;
  retrying: number;
  failed: number;
  inAppOnly: number;
}

export interface DeliveryOptions {
  pool: Pool;
  appFor: WecomAppFor;
  /** Vigil's external URL: links are appended to WeCom messages only when it is known. */
  publicUrl?: string;
  logger?: Logger;
  batchSize?: number;
  /** Attempts before giving up (default 6: about a quarter of an hour of retries). */
  maxAttempts?: number;
}

// WeCom limits text messages to 2048 bytes.
const MAX_TEXT_BYTES = 2000;
// A batch must be sent within its lease, or another worker may send it again: 20 sends of at
// most 15 s each (the client's timeout) fit in 10 minutes.
const LEASE_SECONDS = 600;

/** Seconds until the next attempt after `attempts` failed ones: 30 s, 1, 2, 4… minutes, at most an hour. */
export const retryDelaySeconds = (attempts: number): number => Math.min(3600, 30 * 2 ** (attempts - 1));

function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let out = '';
  let bytes = 0;
  for (const ch of text) {
    const size = Buffer.byteLength(ch);
    if (bytes + size > maxBytes - 3) break;
    out += ch;
    bytes += size;
  }
  return `${out}…`;
}

/** The WeCom text of a notification: title, body and, when Vigil's address is known, the link. */
export function wecomText(n: Pick<DueNotification, 'title' | 'body' | 'link'>, publicUrl?: string): string {
  const link = n.link && publicUrl ? `\n${publicUrl.replace(/\/+$/, '')}${n.link}` : '';
  const text = [n.title, n.body].filter((s) => s !== '').join('\n');
  return truncateUtf8(text, MAX_TEXT_BYTES - Buffer.byteLength(link)) + link;
}

/**
 * Sends pending notifications as WeCom app text messages through message/send, one recipient per
 * message, with the corp's app. A failed attempt is retried with backoff (attempts and
 * wecom_error are recorded); definite refusals by WeCom and exhausted retries end in 'failed'.
 */
export class WecomNotificationDelivery {
  private readonly batchSize: number;
  private readonly maxAttempts: number;

  constructor(private readonly deps: DeliveryOptions) {
    this.batchSize = deps.batchSize ?? 20;
    this.maxAttempts = deps.maxAttempts ?? 6;
  }

  /** Delivers everything due now. */
  async deliverDue(): Promise<DeliveryReport> {
    const report: DeliveryReport = { delivered: 0, retrying: 0, failed: 0, inAppOnly: 0 };
    const repo = new NotificationsRepository(this.deps.pool);
    for (;;) {
      const due = await repo.claimDue(this.batchSize, LEASE_SECONDS);
      const byCorp = new Map<number, DueNotification[]>();
      for (const n of due) {
        if (n.employeeCorpId === null || n.employeeUserid === null || n.disabled) {
          await repo.markInAppOnly(
            n.id,
            n.disabled ? 'account disabled' : 'account no longer linked to an employee',
          );
          report.inAppOnly++;
        } else byCorp.set(n.employeeCorpId, [...(byCorp.get(n.employeeCorpId) ?? []), n]);
      }
      for (const [corpId, list] of byCorp) await this.sendForCorp(repo, corpId, list, report);
      if (due.length < this.batchSize) return report;
    }
  }

  private async sendForCorp(
    repo: NotificationsRepository,
    corpId: number,
    list: DueNotification[],
    report: DeliveryReport,
  ): Promise<void> {
    let app: WecomApp | undefined;
    try {
      app = await this.deps.appFor(corpId);
    } catch (err) {
      for (const n of list) await this.failed(repo, n, err, report);
      return;
    }
    for (const n of list) {
      if (!app) {
        // WeCom delivery is optional: a corp without the app gets in-app notifications only.
        await repo.markInAppOnly(n.id, `corp ${corpId} has no WeCom app (access.wecom.agents) or connector`);
        report.inAppOnly++;
        continue;
      }
      try {
        const sent = await app.client.sendAppMessage(
          app.agentid,
          [n.employeeUserid!],
          wecomText(n, this.deps.publicUrl),
        );
        if (sent.invalidUsers.includes(n.employeeUserid!)) {
          const refused = new Error(
            `WeCom refused recipient ${n.employeeUserid} (left, or outside the app's visible range)`,
          );
          await this.failed(repo, n, refused, report, false);
        } else {
          await repo.markDelivered(n.id);
          report.delivered++;
        }
      } catch (err) {
        await this.failed(repo, n, err, report);
      }
    }
  }

  private async failed(
    repo: NotificationsRepository,
    n: DueNotification,
    err: unknown,
    report: DeliveryReport,
    retryable = !(err instanceof WecomApiError) || err.retryable || err.tokenInvalid,
  ): Promise<void> {
    const attempts = n.attempts + 1;
    const retry = retryable && attempts < this.maxAttempts;
    const message = err instanceof Error ? err.message : String(err);
    await repo.markAttemptFailed(n.id, message, retry ? retryDelaySeconds(attempts) : null);
    if (retry) report.retrying++;
    else report.failed++;
    this.deps.logger?.warn(
      { notification: n.id, attempts, retry, error: message },
      'WeCom notification not delivered',
    );
  }
}
