import type { BlobStore } from '../../crypto/blob/blobstore.js';
import type { Pool } from '../../platform/db/pool.js';
import { downloadMedia } from '../sdk/chatdata.js';
import { FinanceSdkError, type FinanceSdk } from '../sdk/types.js';
import { detectMediaType } from './media-type.js';

/** sdkfileids live about three days [single source]: keep retrying a failed download that long. */
const RETRY_WINDOW_MS = 72 * 3600_000;

interface DueAttachment {
  id: string;
  msgid: string;
  sdkfileid: string;
  md5sum: string | null;
  attempts: number;
  msg_time: Date;
}

export interface MediaResult {
  stored: number;
  expired: number;
  failed: number;
  retrying: number;
}

/**
 * Downloads the media of archived messages: chunked GetMediaData with per-chunk retry, md5
 * checked (with retry), real type by magic bytes, stored encrypted in the blob store. Failures are
 * recorded with their reason and retried while the file id can still live; never silent.
 */
export class MediaService {
  constructor(
    private readonly pool: Pool,
    private readonly blobs: BlobStore,
    private readonly sdk: FinanceSdk,
    private readonly corpId: number,
    private readonly now: () => number = Date.now,
  ) {}

  async processDue(limit = 20): Promise<MediaResult> {
    const { rows } = await this.pool.query<DueAttachment>(
      `SELECT id::text, msgid, sdkfileid, md5sum, attempts, msg_time FROM attachments
       WHERE corp_id = $1 AND status = 'pending' AND next_attempt_at <= now()
       ORDER BY next_attempt_at, id LIMIT $2`,
      [this.corpId, limit],
    );
    const result: MediaResult = { stored: 0, expired: 0, failed: 0, retrying: 0 };
    for (const row of rows) result[await this.fetchOne(row)]++;
    return result;
  }

  private async fetchOne(row: DueAttachment): Promise<keyof MediaResult> {
    try {
      const media = row.md5sum ? await this.download(row) : await this.downloadAgreed(row);
      if (!media) return this.retryOrFail(row, 'no md5 from WeCom and three downloads disagreed');
      if (row.md5sum && media.md5 !== row.md5sum.toLowerCase()) {
        return this.retryOrFail(
          row,
          `md5 mismatch: expected ${row.md5sum}, got ${media.md5} after ${media.md5Restarts + 1} downloads`,
        );
      }
      const stored = await this.blobs.put(String(this.corpId), media.data);
      await this.pool.query(
        `UPDATE attachments SET status = 'stored', blob_address = $3, detected_type = $4, stored_size = $5,
           attempts = attempts + 1, last_error = NULL, stored_at = now()
         WHERE corp_id = $1 AND id = $2`,
        [this.corpId, row.id, stored.address, detectMediaType(media.data), stored.size],
      );
      return 'stored';
    } catch (err) {
      if (err instanceof FinanceSdkError && (err.code === 10005 || err.code === 10010)) {
        await this.finish(row, 'expired', `WeCom no longer serves this file: ${err.message}`);
        return 'expired';
      }
      return this.retryOrFail(row, (err as Error).message);
    }
  }

  private download(row: DueAttachment) {
    return downloadMedia(this.sdk, row.sdkfileid, { md5: row.md5sum ?? '', backoffMs: (n) => 200 * n });
  }

  /**
   * Some messages carry no md5 (meeting voice calls, for one): a download corrupted in transit
   * would go unnoticed, so the file is fetched until two downloads agree (at most three).
   */
  private async downloadAgreed(row: DueAttachment) {
    const seen: Array<Awaited<ReturnType<typeof downloadMedia>>> = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const media = await this.download(row);
      if (seen.some((earlier) => earlier.md5 === media.md5)) return media;
      seen.push(media);
    }
    return undefined;
  }

  private async retryOrFail(row: DueAttachment, reason: string): Promise<'retrying' | 'failed'> {
    if (this.now() - row.msg_time.getTime() > RETRY_WINDOW_MS && row.attempts >= 3) {
      await this.finish(row, 'failed', reason);
      return 'failed';
    }
    const delaySeconds = Math.min(3600, 30 * 2 ** row.attempts);
    await this.pool.query(
      `UPDATE attachments SET attempts = attempts + 1, last_error = $3,
         next_attempt_at = now() + make_interval(secs => $4)
       WHERE corp_id = $1 AND id = $2`,
      [this.corpId, row.id, reason.slice(0, 1000), delaySeconds],
    );
    return 'retrying';
  }

  private async finish(row: DueAttachment, status: 'expired' | 'failed', reason: string): Promise<void> {
    await this.pool.query(
      'UPDATE attachments SET status = $3, attempts = attempts + 1, last_error = $4 WHERE corp_id = $1 AND id = $2',
      [this.corpId, row.id, status, reason.slice(0, 1000)],
    );
  }
}
