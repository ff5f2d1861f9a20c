import type { ArchiveService, StoreResult } from '../../archive/archive.service.js';
import type { MessageToArchive } from '../../archive/types.js';
import type { DetectionService } from '../../detection/store/detection.service.js';
import type { PoolClient } from '../../platform/db/pool.js';
import { ConsentRepository, consentFromMessage, type ConsentRecord } from '../contacts/consent.js';

/**
 * Archives a batch of normalized messages in the caller's transaction, screened by detection in
 * the same transaction (a message is never archived without its hits), with the consent history
 * of agree/disagree messages (PIPL) recorded alongside.
 */
export async function archiveMessages(
  client: PoolClient,
  archive: ArchiveService,
  detection: DetectionService | undefined,
  corpId: number,
  batch: MessageToArchive[],
): Promise<StoreResult> {
  const stored = await archive.storeBatch(corpId, batch, client);
  await detection?.detectArchived(client, corpId, batch, stored.duplicates);
  const consents: ConsentRecord[] = [];
  for (const message of batch) {
    if (message.msgtype !== 'agree' && message.msgtype !== 'disagree') continue;
    const record = consentFromMessage(corpId, JSON.parse(message.raw) as Record<string, unknown>);
    if (record) consents.push(record);
  }
  await new ConsentRepository(client).record(consents);
  return stored;
}
