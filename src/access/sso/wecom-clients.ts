import type { Keyring } from '../../crypto/keyring/types.js';
import type { Pool } from '../../platform/db/pool.js';
import type { WecomApiClient } from '../../wecom/api/client.js';
import { defaultClientFor } from '../../wecom/contacts/contacts.jobs.js';
import { ContactsRepository } from '../../wecom/contacts/contacts.repository.js';

/** What WeCom sign-in needs of a corp's WeCom connection. */
export interface WecomLoginClient {
  /** The WeCom corp id (ww…): the `appid` of the login URLs. */
  wecomCorpId: string;
  api: Pick<WecomApiClient, 'getUserInfoByCode'>;
}

/** The WeCom connection of a Vigil corp, or undefined when the corp has no connector. */
export type WecomLoginClients = (corpId: number) => Promise<WecomLoginClient | undefined>;

/**
 * The production path: the corp's connector and its keyring secrets, with one API client per
 * connector kept between sign-ins, because WeCom rate-limits gettoken and the client caches the
 * app's access token.
 */
export function keyringWecomClients(pool: Pool, keyring: Keyring): WecomLoginClients {
  const connectors = new ContactsRepository(pool);
  const cache = new Map<number, { key: string; client: WecomLoginClient }>();
  return async (corpId) => {
    const connector = await connectors.findConnector(corpId);
    if (!connector) return undefined;
    const key = `${connector.wecomCorpId}|${connector.apiBaseUrl}`;
    const cached = cache.get(corpId);
    if (cached?.key === key) return cached.client;
    const client = { wecomCorpId: connector.wecomCorpId, api: defaultClientFor(keyring, connector) };
    cache.set(corpId, { key, client });
    return client;
  };
}
