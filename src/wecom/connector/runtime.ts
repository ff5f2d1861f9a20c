import { getOrCreateSecret } from '../../crypto/keyring/corp-keys.js';
import { BlobStore } from '../../crypto/blob/blobstore.js';
import { FsBlobBackend } from '../../crypto/blob/backend.js';
import { SecretNames, type Keyring } from '../../crypto/keyring/types.js';
import type { ArchiveService } from '../../archive/archive.service.js';
import type { DetectionService } from '../../detection/store/detection.service.js';
import type { Pool } from '../../platform/db/pool.js';
import { wecomSecretName } from '../api/secrets.js';
import { HttpEmulatorFinanceSdk } from '../sdk/http-emulator-sdk.js';
import { SupervisedFinanceSdk } from '../sdk/supervised-sdk.js';
import type { FinanceSdk } from '../sdk/types.js';
import type { ConnectorRow } from './connector.repository.js';
import { IngestService } from './ingest.service.js';
import { MediaService } from './media.service.js';

/** Opens the finance SDK a connector is configured for: the vendor library in a supervised child, or the emulator client. */
export async function openFinanceSdk(connector: ConnectorRow, keyring: Keyring): Promise<FinanceSdk> {
  const secret = await keyring.getSecret(wecomSecretName(connector.corp_id, 'archive'));
  if (!secret)
    throw new Error(`corp ${connector.corp_id}: no archive secret in the keyring (vigil wecom connect)`);
  let sdk: FinanceSdk;
  if (connector.sdk_mode === 'emulator') {
    sdk = new HttpEmulatorFinanceSdk(connector.api_base_url);
  } else {
    if (!connector.sdk_library) throw new Error(`corp ${connector.corp_id}: sdk_library is not set`);
    sdk = new SupervisedFinanceSdk({
      libraryPath: connector.sdk_library,
      env: {
        ...(connector.proxy ? { https_proxy: connector.proxy } : {}),
        // Read by the test stand-in of the vendor library; the real library ignores it.
        WECOM_EMULATOR_URL: connector.api_base_url,
      },
    });
  }
  await sdk.init(connector.wecom_corp_id, secret.toString('utf8'));
  return sdk;
}

/** The blob store for media, under the data directory, keyed per corp from the keyring. */
export function openBlobStore(root: string, keyring: Keyring): BlobStore {
  return new BlobStore({
    backend: new FsBlobBackend(root),
    corpKey: (corpId) => getOrCreateSecret(keyring, SecretNames.blobKey(corpId)),
  });
}

/** The pipeline of one corp: ingest (pull, decrypt, archive) and media, sharing one SDK. */
export interface CorpPipeline {
  ingest: IngestService;
  media: MediaService;
  close(): Promise<void>;
}

export async function openPipeline(
  pool: Pool,
  archive: ArchiveService,
  keyring: Keyring,
  blobs: BlobStore,
  connector: ConnectorRow,
  detection?: DetectionService,
): Promise<CorpPipeline> {
  const sdk = await openFinanceSdk(connector, keyring);
  return {
    ingest: new IngestService(pool, archive, keyring, connector.corp_id, sdk, {
      proxy: connector.proxy ?? undefined,
      detection,
    }),
    media: new MediaService(pool, blobs, sdk, connector.corp_id),
    close: () => sdk.close(),
  };
}
