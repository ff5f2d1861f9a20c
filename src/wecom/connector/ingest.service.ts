import type { ArchiveService } from '../../archive/archive.service.js';
import type { MessageToArchive } from '../../archive/types.js';
import type { Keyring } from '../../crypto/keyring/types.js';
import { withTransaction, type Pool } from '../../platform/db/pool.js';
import type { DetectionService } from '../../detection/store/detection.service.js';
import { parseChatData } from '../sdk/chatdata.js';
import type { FinanceSdk } from '../sdk/types.js';
import { archiveMessages } from './archive-step.js';
import { ConnectorRepository, type EnvelopeOutcome, type EnvelopeRow } from './connector.repository.js';
import { EnvelopeDecryptor } from './decrypt.js';
import { addResult, emptyResult, maxSeqOf, toNewEnvelopes, type ProcessResult } from './pulled.js';
import { sharedRsaPool, type RsaPool } from './rsa-pool.js';
import { CursorMovedError, PullError, streamIngest, type StreamContext } from './stream.js';

export { PullError } from './stream.js';
export type { ProcessResult } from './pulled.js';

/** GetChatData's maximum batch ("超过1000条会返回错误"). */
export const PULL_LIMIT = 1000;

/** Restarts of the stream when another puller moved the cursor under it, before leaving it the work. */
const MAX_STREAM_RESTARTS = 5;

export interface PullResult {
  fetched: number;
  stored: number;
  cursor: string;
  caughtUp: boolean;
}

/**
 * The archive pipeline of one corp. `runOnce` streams (stream.ts): pull, decrypt, archive and
 * advance the cursor per batch in one transaction, batches overlapping. `pullOnce` and
 * `processPending` are the staged steps (envelopes stored pending with the cursor, then
 * decrypted and archived), used for envelopes waiting for a retry or a key, and by tests. Every
 * step commits its progress atomically, so a crash at any point resumes without gaps (the cursor
 * moves only with stored envelopes or archived messages) or duplicates (msgids are claimed once).
 */
export class IngestService {
  private readonly decryptor: EnvelopeDecryptor;
  /** Serialises the store step of concurrent processPending calls (see processPending). */
  private storeTail: Promise<void> = Promise.resolve();

  constructor(
    private readonly pool: Pool,
    private readonly archive: ArchiveService,
    keyring: Keyring,
    private readonly corpId: number,
    private readonly sdk: FinanceSdk,
    private readonly options: {
      proxy?: string;
      timeoutSeconds?: number;
      rsaPool?: RsaPool;
      detection?: DetectionService;
    } = {},
  ) {
    this.decryptor = new EnvelopeDecryptor(keyring, corpId, sdk, options.rsaPool ?? sharedRsaPool());
  }

  /** One GetChatData call from the stored cursor; envelopes and the new cursor commit together. */
  async pullOnce(limit = PULL_LIMIT): Promise<PullResult> {
    return withTransaction(this.pool, async (client) => {
      const repo = new ConnectorRepository(client);
      const cursor = await repo.lockCursor(this.corpId);
      let text: string;
      try {
        text = await this.sdk.getChatData(
          BigInt(cursor),
          limit,
          this.options.proxy ?? '',
          '',
          this.options.timeoutSeconds ?? 30,
        );
      } catch (err) {
        throw new PullError(`GetChatData from seq ${cursor}: ${(err as Error).message}`, { cause: err });
      }
      const envelope = parseChatData(text);
      // Two error layers: the SDK returned 0 but WeCom's JSON carries the error (e.g. 48002).
      if (envelope.errcode !== 0)
        throw new PullError(
          `GetChatData from seq ${cursor}: WeCom errcode ${envelope.errcode} ${envelope.errmsg}`,
        );
      if (envelope.chatdata.length === 0) {
        await repo.advanceCursor(this.corpId, cursor, 0);
        return { fetched: 0, stored: 0, cursor, caughtUp: true };
      }
      const stored = await repo.insertEnvelopes(this.corpId, toNewEnvelopes(envelope.chatdata));
      const maxSeq = maxSeqOf(envelope.chatdata);
      await repo.advanceCursor(this.corpId, maxSeq, stored);
      const fetched = envelope.chatdata.length;
      return { fetched, stored, cursor: maxSeq, caughtUp: fetched < limit };
    }).catch(async (err: unknown) => {
      await new ConnectorRepository(this.pool).recordPullError(this.corpId, (err as Error).message);
      throw err;
    });
  }

  /** Decrypts, normalizes and archives up to `limit` pending envelopes in one transaction. */
  async processPending(limit = 500): Promise<ProcessResult> {
    let release: (() => void) | undefined;
    try {
      return await withTransaction(this.pool, async (client) => {
        const repo = new ConnectorRepository(client);
        const envelopes = await repo.claimPending(this.corpId, limit);
        const outcomes: EnvelopeOutcome[] = [];
        const ready: Array<{ envelope: EnvelopeRow; message: MessageToArchive }> = [];
        const results = await this.decryptor.decryptAll(envelopes);
        envelopes.forEach((envelope, i) => {
          const result = results[i]!;
          if ('message' in result) ready.push({ envelope, message: result.message });
          else outcomes.push(result.outcome);
        });
        // Batches decrypt concurrently but store and commit one at a time (the turn passes on
        // after the commit): concurrent upserts of the same conversations and partitions could
        // deadlock or race.
        const previous = this.storeTail;
        this.storeTail = new Promise((r) => (release = r));
        await previous;
        const batch = ready.map((r) => ({ ...r.message, seq: r.envelope.seq }));
        const stored = await archiveMessages(
          client,
          this.archive,
          this.options.detection,
          this.corpId,
          batch,
        );
        outcomes.push(...ready.map((r) => ({ msgid: r.envelope.msgid, state: 'archived' as const })));
        await repo.recordOutcomes(this.corpId, outcomes);
        await repo.addArchived(this.corpId, stored.inserted);
        const count = (state: string) => outcomes.filter((o) => o.state === state).length;
        return {
          archived: stored.inserted,
          duplicates: stored.duplicates.length,
          held: count('held_key'),
          quarantined: count('quarantined'),
          retried: count('retry'),
        };
      });
    } finally {
      release?.();
    }
  }

  /**
   * Pulls until caught up and archives everything pulled; what `vigil ingest --once` and the
   * ingest job run. Streams (stream.ts), then archives envelopes left pending (due retries,
   * released holds, batches the stream had to stage).
   */
  async runOnce(
    onProgress?: (p: { pulled: number; archived: number; cursor: string }) => void,
    signal?: AbortSignal,
  ): Promise<{ pulled: number; result: ProcessResult }> {
    const total = emptyResult();
    let pulled = 0;
    let cursor = '';
    const context: StreamContext = {
      pool: this.pool,
      corpId: this.corpId,
      sdk: this.sdk,
      decryptor: this.decryptor,
      archive: this.archive,
      detection: this.options.detection,
      proxy: this.options.proxy ?? '',
      timeoutSeconds: this.options.timeoutSeconds ?? 30,
      limit: PULL_LIMIT,
    };
    for (let restart = 0; ; restart++) {
      try {
        await streamIngest(
          context,
          (b) => {
            pulled += b.pulled;
            cursor = b.cursor;
            addResult(total, b.result);
            onProgress?.({ pulled, archived: total.archived, cursor });
          },
          signal,
        );
        break;
      } catch (err) {
        if (!(err instanceof CursorMovedError)) throw err;
        // Another puller of this corp committed first: nothing was lost. Resume from its cursor,
        // or, when it keeps winning, leave the capture to it.
        if (restart >= MAX_STREAM_RESTARTS) break;
      }
    }
    while (!signal?.aborted) {
      const r = await this.processPending();
      addResult(total, r);
      if (r.archived + r.duplicates + r.held + r.quarantined + r.retried === 0) break;
      onProgress?.({ pulled, archived: total.archived, cursor });
    }
    return { pulled, result: total };
  }

  /** Releases envelopes held for a key version (call after adding that private key). */
  async keyAdded(publickeyVer: number): Promise<number> {
    this.decryptor.forgetKey(publickeyVer);
    return new ConnectorRepository(this.pool).releaseHeld(this.corpId, publickeyVer);
  }
}
