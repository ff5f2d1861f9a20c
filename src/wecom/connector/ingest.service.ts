import type { ArchiveService } from '../../archive/archive.service.js';
import type { MessageToArchive } from '../../archive/types.js';
import { SecretNames, type Keyring } from '../../crypto/keyring/types.js';
import { withTransaction, type Pool, type PoolClient } from '../../platform/db/pool.js';
import type { DetectionService } from '../../detection/store/detection.service.js';
import { recordConsentFromMessage } from '../contacts/consent.js';
import { parseChatData } from '../sdk/chatdata.js';
import type { DecryptOutcome } from '../sdk/supervised-sdk.js';
import { FinanceSdkCrashedError, FinanceSdkError, type FinanceSdk } from '../sdk/types.js';
import {
  ConnectorRepository,
  type EnvelopeOutcome,
  type EnvelopeRow,
  type NewEnvelope,
} from './connector.repository.js';
import { NormalizeError, normalizeMessage } from './normalize.js';
import { sharedRsaPool, type RsaPool } from './rsa-pool.js';

/** GetChatData's maximum batch ("超过1000条会返回错误"). */
export const PULL_LIMIT = 1000;
const MAX_DECRYPT_ATTEMPTS = 8;

export class PullError extends Error {}

/** An SDK that can run many DecryptData calls in one round trip (SupervisedFinanceSdk). */
interface BatchDecryptSdk {
  decryptBatch(items: Array<{ encryptKey: string; encryptMsg: string }>): Promise<DecryptOutcome[]>;
}

function canDecryptBatch(sdk: FinanceSdk): sdk is FinanceSdk & BatchDecryptSdk {
  return typeof (sdk as Partial<BatchDecryptSdk>).decryptBatch === 'function';
}

type Decrypted = { message: MessageToArchive } | { outcome: EnvelopeOutcome };

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
  /** Private key PEMs by publickey_ver (null: not in the keyring). */
  private readonly rsaKeys = new Map<number, string | null>();
  private readonly rsa: RsaPool;
  /** Serialises the store step of concurrent processPending calls (see runOnce). */
  private storeTail: Promise<void> = Promise.resolve();

  constructor(
    private readonly pool: Pool,
    private readonly archive: ArchiveService,
    private readonly keyring: Keyring,
    private readonly corpId: number,
    private readonly sdk: FinanceSdk,
    private readonly options: {
      proxy?: string;
      timeoutSeconds?: number;
      rsaPool?: RsaPool;
      detection?: DetectionService;
    } = {},
  ) {
    this.rsa = options.rsaPool ?? sharedRsaPool();
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
    let release: (() => void) | undefined;
    try {
      return await withTransaction(this.pool, async (client) => {
        const repo = new ConnectorRepository(client);
        const envelopes = await repo.claimPending(this.corpId, limit);
        const outcomes: EnvelopeOutcome[] = [];
        const ready: Array<{ envelope: EnvelopeRow; message: MessageToArchive }> = [];
        const results = await this.decryptAll(envelopes);
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
        return this.store(client, repo, ready, outcomes);
      });
    } finally {
      release?.();
    }
  }

  private async store(
    client: PoolClient,
    repo: ConnectorRepository,
    ready: Array<{ envelope: EnvelopeRow; message: MessageToArchive }>,
    outcomes: EnvelopeOutcome[],
  ): Promise<ProcessResult> {
    {
      const batch = ready.map((r) => ({ ...r.message, seq: r.envelope.seq }));
      const stored = await this.archive.storeBatch(this.corpId, batch, client);
      // Screening runs in the same transaction: a message is never archived without its hits.
      await this.options.detection?.detectArchived(client, this.corpId, batch, stored.duplicates);
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
    }
  }

  /**
   * Pulls until caught up and archives everything pulled; what `vigil ingest --once` runs.
   * Pipelined: the next GetChatData runs while the previous batch is processed, and two
   * processPending lanes overlap one batch's RSA/DecryptData with the other's store.
   */
  async runOnce(
    onProgress?: (p: { pulled: number; archived: number; cursor: string }) => void,
    signal?: AbortSignal,
  ): Promise<{ pulled: number; result: ProcessResult }> {
    const total: ProcessResult = { archived: 0, duplicates: 0, held: 0, quarantined: 0, retried: 0 };
    let pulled = 0;
    let next: Promise<PullResult> | undefined = this.pullOnce();
    while (next) {
      const pull: PullResult = await next;
      pulled += pull.stored;
      // Stopping between batches is safe: what was pulled stays pending for the next run.
      const more = !pull.caughtUp && !signal?.aborted;
      next = more ? this.pullOnce() : undefined;
      // Observed later (or below on failure): never an unhandled rejection meanwhile.
      next?.catch(() => undefined);
      const lane = async () => {
        for (;;) {
          const r = await this.processPending();
          for (const key of Object.keys(total) as Array<keyof ProcessResult>) total[key] += r[key];
          if (r.archived + r.duplicates + r.held + r.quarantined + r.retried === 0) return;
          onProgress?.({ pulled, archived: total.archived, cursor: pull.cursor });
          if (signal?.aborted) return;
        }
      };
      try {
        await Promise.all([lane(), lane()]);
      } catch (err) {
        await next?.catch(() => undefined); // let the prefetching pull settle before failing
        throw err;
      }
      if (signal?.aborted) {
        await next?.catch(() => undefined);
        break;
      }
    }
    return { pulled, result: total };
  }

  /** Releases envelopes held for a key version (call after adding that private key). */
  async keyAdded(publickeyVer: number): Promise<number> {
    this.rsaKeys.delete(publickeyVer);
    return new ConnectorRepository(this.pool).releaseHeld(this.corpId, publickeyVer);
  }

  /**
   * Decrypts a batch: RSA on the worker-thread pool (grouped by key version), then DecryptData in
   * one round trip to the supervised child when the SDK supports it, then normalize. Results are
   * in the order of `envelopes`.
   */
  private async decryptAll(envelopes: EnvelopeRow[]): Promise<Decrypted[]> {
    const results: Array<Decrypted | undefined> = new Array(envelopes.length);
    const randomKeys: Array<string | undefined> = new Array(envelopes.length);
    const byVersion = new Map<number, number[]>();
    for (let i = 0; i < envelopes.length; i++) {
      const envelope = envelopes[i]!;
      const pem = envelope.publickey_ver === null ? null : await this.rsaKey(envelope.publickey_ver);
      if (!pem) {
        results[i] = {
          outcome: {
            msgid: envelope.msgid,
            state: 'held_key',
            reason: `no private key for publickey_ver ${envelope.publickey_ver}`,
          },
        };
        continue;
      }
      const list = byVersion.get(envelope.publickey_ver!) ?? [];
      list.push(i);
      byVersion.set(envelope.publickey_ver!, list);
    }
    for (const [version, indexes] of byVersion) {
      const rsa = await this.rsa.decrypt(
        this.rsaKeys.get(version)!,
        indexes.map((i) => Buffer.from(envelopes[i]!.encrypt_random_key ?? '', 'base64')),
      );
      indexes.forEach((i, k) => {
        const r = rsa[k]!;
        if (r.ok) randomKeys[i] = r.value.toString('utf8');
        else
          results[i] = {
            outcome: {
              msgid: envelopes[i]!.msgid,
              state: 'quarantined',
              reason: `RSA decryption of encrypt_random_key failed: ${r.message}`,
            },
          };
      });
    }
    const todo = envelopes.map((_, i) => i).filter((i) => randomKeys[i] !== undefined);
    const items = todo.map((i) => ({
      encryptKey: randomKeys[i]!,
      encryptMsg: envelopes[i]!.encrypt_chat_msg ?? '',
    }));
    let decrypted: DecryptOutcome[];
    if (canDecryptBatch(this.sdk)) decrypted = await this.sdk.decryptBatch(items);
    else {
      decrypted = [];
      for (const item of items) {
        try {
          decrypted.push({
            ok: true,
            plaintext: await this.sdk.decryptData(item.encryptKey, item.encryptMsg),
          });
        } catch (err) {
          decrypted.push({ ok: false, error: err as Error });
        }
      }
    }
    todo.forEach((i, k) => {
      results[i] = this.afterDecryptData(envelopes[i]!, decrypted[k]!);
    });
    return results as Decrypted[];
  }

  /** The outcome of one message once DecryptData ran: normalized, or why it is retried or quarantined. */
  private afterDecryptData(envelope: EnvelopeRow, decrypted: DecryptOutcome): Decrypted {
    const msgid = envelope.msgid;
    if (!decrypted.ok) {
      const err = decrypted.error;
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
      return { outcome: { msgid, state: 'quarantined', reason: `DecryptData failed: ${err.message}` } };
    }
    try {
      return { message: normalizeMessage(decrypted.plaintext, msgid) };
    } catch (err) {
      if (err instanceof NormalizeError)
        return { outcome: { msgid, state: 'quarantined', reason: err.message } };
      throw err;
    }
  }

  private async rsaKey(version: number): Promise<string | null> {
    if (!this.rsaKeys.has(version)) {
      const pem = await this.keyring.getSecret(SecretNames.wecomRsa(String(this.corpId), version));
      this.rsaKeys.set(version, pem ? pem.toString('utf8') : null);
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
