import type { Corp } from '../org/types.js';
import type { Core } from '../app.js';
import { SecretNames } from '../crypto/keyring/types.js';
import { createEmulator, type Emulator } from './emulator/index.js';
import { ConnectorRepository } from './connector/connector.repository.js';
import { wecomSecretName } from './api/secrets.js';

export const DEMO_WECOM_CORP_ID = 'wwvigildemo0000001';
const DEMO_MESSAGES = 50_000;
const DEMO_DAYS = 30;

/**
 * The zero-config demo's WeCom: an in-process emulator whose synthetic corp (60 employees,
 * 30 days, 50,000 messages of every type, some risky) feeds the demo corp's connector exactly as
 * a real corp would, through the same pipeline. New messages keep arriving every half minute.
 */
/** The demo corp; its organisation arrives from WeCom through the contacts sync. */
export async function ensureDemoCorp(core: Core): Promise<{ corp: Corp; created: boolean }> {
  return core.org.ensureCorpCreated('demo', '华东智联科技有限公司', DEMO_WECOM_CORP_ID);
}

export async function startDemoWecom(core: Core, corp: Corp): Promise<Emulator> {
  const now = Date.now();
  const startDay = now - DEMO_DAYS * 86_400_000;
  const emulator = await createEmulator({
    host: '127.0.0.1',
    port: 0,
    corps: [
      {
        corpId: DEMO_WECOM_CORP_ID,
        seed: 'vigil-demo',
        messageCount: DEMO_MESSAGES,
        visibleCount: DEMO_MESSAGES - 2_000,
        // Midnight Beijing time, DEMO_DAYS ago, so the archive ends today.
        startTime: startDay - (startDay % 86_400_000) - 8 * 3_600_000,
        days: DEMO_DAYS,
      },
    ],
  });
  const emulated = emulator.corp(DEMO_WECOM_CORP_ID);
  const live = setInterval(() => emulated.advance(40), 30_000);
  live.unref();
  const stop = emulator.stop.bind(emulator);
  emulator.stop = async () => {
    clearInterval(live);
    await stop();
  };

  const keyring = core.crypto.keyring;
  for (const kind of ['archive', 'contacts', 'externalcontact', 'app'] as const) {
    await keyring.putSecret(wecomSecretName(corp.id, kind), Buffer.from(emulated.secrets[kind]));
  }
  await keyring.putSecret(
    SecretNames.wecomRsa(String(corp.id), 1),
    Buffer.from(emulated.generatedPrivateKey(1)!),
  );
  // The emulator listens on a new port each start: the connector follows it.
  await new ConnectorRepository(core.pool).upsertConnector({
    corp_id: corp.id,
    wecom_corp_id: DEMO_WECOM_CORP_ID,
    sdk_mode: 'emulator',
    sdk_library: null,
    api_base_url: emulator.baseUrl,
    proxy: null,
    poll_interval_seconds: 15,
  });
  return emulator;
}
