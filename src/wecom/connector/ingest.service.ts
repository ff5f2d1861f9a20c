import { createPrivateKey, type KeyObject } from 'node:crypto';
import type { ArchiveService } from '../../archive/archive.service.js';
import type { MessageToArchive } from '../../archive/types.js';
import { rsaPkcs1v15Decrypt } from '../../crypto/rsa.js';
import { SecretNames, type Keyring } from '../../crypto/keyring/types.js';
import { withTransaction, type Pool } from '../../platform/db/pool.js';
import { recordConsentFromMessage } from '../contacts/consent.js';
import { parseChatData } from '../sdk/chatdata.js';
import { FinanceSdkCrashedError, FinanceSdkError, type FinanceSdk } from '../sdk/types.js';
import {
  ConnectorRepository,
  type EnvelopeOutcome,
  type EnvelopeRow,
  type NewEnvelope,
} from './connector.repository.js';
import { NormalizeError, normalizeMessage } from './normalize.js';

/** GetChatData's maximum batch ("超过1000条会返回错误"). */
export const PULL_LIMIT = 1000;
const MAX_DECRYPT_ATTEMPTS = 8;

export class PullError extends Error {}

export interface PullResult {
  fetched: number;
  stored: number;
  cursor: string;
  caughtUp: boolean;
}

export interface ProcessResult {
  archived: number;
  duplicates: number;
  held: number;
  quarantined: number;
  retried: number;
}

/**
 * The archive pipeline of one corp: pull encrypted envelopes from the cursor, then decrypt,
 * normalize and archive them. Each stage is idempotent and commits its progress atomically, so a
 * crash at any point resumes without gaps (the cursor moves with the stored envelopes) or
 * duplicates (msgids are claimed once in the archive).
 */
export class IngestService {
  private readonly rsaKeys = new Map<number, KeyObject | null>();

  constructor(
    private readonly pool: Pool,
    private readonly archive: ArchiveService,
    private readonly keyring: Keyring,
    private readonly corpId: number,
    private readonly sdk: FinanceSdk,
    private readonly options: { proxy?: string; timeoutSeconds?: number } = {},
  ) {}

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
      const items: NewEnvelope[] = envelope.chatdata.map((item) => {
        const problem = envelopeProblem(item);
        return {
          msgid: item.msgid && item.msgid !== 'undefined' ? item.msgid : `seq-${item.seq}`,
          seq: item.seq.toString(),
          publickeyVer: Number.isInteger(item.publickeyVer) ? item.publickeyVer : null,
          encryptRandomKey: item.encryptRandomKey,
          encryptChatMsg: item.encryptChatMsg,
          quarantineReason: problem,
        };
      });
      const stored = await repo.insertEnvelopes(this.corpId, items);
      const maxSeq = envelope.chatdata
        .reduce((max, item) => (item.seq > max ? item.seq : max), 0n)
        .toString();
      await repo.advanceCursor(this.corpId, maxSeq, stored);
      return { fetched: items.length, stored, cursor: maxSeq, caughtUp: items.length < limit };
    }).catch(async (err: unknown) => {
      await new ConnectorRepository(this.pool).recordPullError(this.corpId, (err as Error).message);
      throw err;
    });
  }

  /** Decrypts, normalizes and archives up to `limit` pending envelopes in one transaction. */
  async processPending(limit = 500): Promise<ProcessResult> {
    return withTransaction(this.pool, async (client) => {
      const repo = new ConnectorRepository(client);
      const envelopes = await repo.claimPending(this.corpId, limit);
      const outcomes: EnvelopeOutcome[] = [];
      const ready: Array<{ envelope: EnvelopeRow; message: MessageToArchive }> = [];
      for (const envelope of envelopes) {
        const result = await this.decrypt(envelope);
        if ('message' in result) ready.push({ envelope, message: result.message });
        else outcomes.push(result.outcome);
      }
      const stored = await this.archive.storeBatch(
        this.corpId,
        ready.map((r) => ({ ...r.message, seq: r.envelope.seq })),
        client,
      );
      // A customer agreeing to or refusing archiving is consent history (PIPL), recorded with the message.
      for (const { message } of ready.filter(
        (r) => r.message.msgtype === 'agree' || r.message.msgtype === 'disagree',
      )) {
        await recordConsentFromMessage(
          client,
          this.corpId,
          JSON.parse(message.raw) as Record<string, unknown>,
        );
      }
      outcomes.push(...ready.map((r) => ({ msgid: r.envelope.msgid, state: 'archived' as const })));
      await repo.recordOutcomes(this.corpId, outcomes);
      const count = (state: string) => outcomes.filter((o) => o.state === state).length;
      return {
        archived: stored.inserted,
        duplicates: stored.duplicates.length,
        held: count('held_key'),
        quarantined: count('quarantined'),
        retried: count('retry'),
      };
    });
  }

  /** Pulls until caught up and archives everything pulled; what `vigil ingest --once` runs. */
  async runOnce(
    onProgress?: (p: { pulled: number; archived: number; cursor: string }) => void,
    signal?: AbortSignal,
  ): Promise<{ pulled: number; result: ProcessResult }> {
    const total: ProcessResult = { archived: 0, duplicates: 0, held: 0, quarantined: 0, retried: 0 };
    let pulled = 0;
    for (;;) {
      const pull = await this.pullOnce();
      pulled += pull.stored;
      for (;;) {
        const r = await this.processPending();
        for (const key of Object.keys(total) as Array<keyof ProcessResult>) total[key] += r[key];
        if (r.archived + r.duplicates + r.held + r.quarantined + r.retried === 0) break;
        onProgress?.({ pulled, archived: total.archived, cursor: pull.cursor });
        if (signal?.aborted) break;
      }
      // Stopping between batches is safe: what was pulled stays pending for the next run.
      if (pull.caughtUp || signal?.aborted) return { pulled, result: total };
    }
  }

  /** Releases envelopes held for a key version (call after adding that private key). */
  async keyAdded(publickeyVer: number): Promise<number> {
    this.rsaKeys.delete(publickeyVer);
    return new ConnectorRepository(this.pool).releaseHeld(this.corpId, publickeyVer);
  }

  private async decrypt(
    envelope: EnvelopeRow,
  ): Promise<{ message: MessageToArchive } | { outcome: EnvelopeOutcome }> {
    const msgid = envelope.msgid;
    const key = envelope.publickey_ver === null ? null : await this.rsaKey(envelope.publickey_ver);
    if (!key) {
      return {
        outcome: {
          msgid,
          state: 'held_key',
          reason: `no private key for publickey_ver ${envelope.publickey_ver}`,
        },
      };
    }
    let randomKey: string;
    try {
      randomKey = rsaPkcs1v15Decrypt(key, Buffer.from(envelope.encrypt_random_key ?? '', 'base64')).toString(
        'utf8',
      );
    } catch (err) {
      return {
        outcome: {
          msgid,
          state: 'quarantined',
          reason: `RSA decryption of encrypt_random_key failed: ${(err as Error).message}`,
        },
      };
    }
    let plaintext: string;
    try {
      plaintext = await this.sdk.decryptData(randomKey, envelope.encrypt_chat_msg ?? '');
    } catch (err) {
      if (err instanceof FinanceSdkCrashedError) {
        return {
          outcome: {
            msgid,
            state: 'quarantined',
            reason: `DecryptData crashed ${err.crashes} times (${err.signal ?? 'exit'})`,
          },
        };
      }
      if (err instanceof FinanceSdkError && err.retryable && envelope.attempts + 1 < MAX_DECRYPT_ATTEMPTS) {
        return {
          outcome: { msgid, state: 'retry', reason: err.message, delaySeconds: 2 ** envelope.attempts },
        };
      }
      return {
        outcome: { msgid, state: 'quarantined', reason: `DecryptData failed: ${(err as Error).message}` },
      };
    }
    try {
      return { message: normalizeMessage(plaintext, msgid) };
    } catch (err) {
      if (err instanceof NormalizeError)
        return { outcome: { msgid, state: 'quarantined', reason: err.message } };
      throw err;
    }
  }

  private async rsaKey(version: number): Promise<KeyObject | null> {
    if (!this.rsaKeys.has(version)) {
      const pem = await this.keyring.getSecret(SecretNames.wecomRsa(String(this.corpId), version));
      this.rsaKeys.set(version, pem ? createPrivateKey(pem.toString('utf8')) : null);
    }
    return this.rsaKeys.get(version)!;
  }
}

function envelopeProblem(item: {
  msgid: string;
  publickeyVer: number;
  encryptRandomKey: string;
  encryptChatMsg: string;
}): string | undefined {
  if (!item.msgid || item.msgid === 'undefined') return 'malformed envelope: missing msgid';
  if (!Number.isInteger(item.publickeyVer)) return 'malformed envelope: missing publickey_ver';
  if (!item.encryptRandomKey || item.encryptRandomKey === 'undefined')
    return 'malformed envelope: missing encrypt_random_key';
  if (!item.encryptChatMsg || item.encryptChatMsg === 'undefined')
    return 'malformed envelope: missing encrypt_chat_msg';
  return undefined;
}
