/**
 * Streaming capture, what `IngestService.runOnce` (`vigil ingest`, the `wecom.ingest` job) runs.
 *
 * Each GetChatData batch goes through fetch → RSA (worker threads) → DecryptData + normalize (the
 * SDK child) → commit, and the stages of consecutive batches overlap: batch N+1 is fetched and
 * its keys unwrapped while batch N is decrypted and batch N-1 committed. The commit is one
 * transaction that checks the cursor still is where the batch was fetched from, archives the
 * batch, writes the envelopes that are not archived, in their final state, and advances the
 * cursor. So the cursor never passes a message that is neither archived nor kept as an envelope,
 * exactly as with the staged pull → processPending path, but an archived message's envelope is
 * never written and a kept one is written once instead of inserted, locked and updated.
 *
 * A batch that cannot be archived (decryption infrastructure failing, a message the archive
 * rejects) falls back to the staged path: its envelopes are stored pending and the cursor moves
 * on, so capture keeps ahead of WeCom's retention window while processPending retries them.
 * Commits are strictly in order; after a failed one nothing later commits, and every started
 * stage settles before the error is thrown.
 */
import type { ArchiveService } from '../../archive/archive.service.js';
import type { MessageToArchive } from '../../archive/types.js';
import type { DetectionService } from '../../detection/store/detection.service.js';
import { withTransaction, type Pool, type PoolClient } from '../../platform/db/pool.js';
import { parseChatData } from '../sdk/chatdata.js';
import type { FinanceSdk } from '../sdk/types.js';
import { archiveMessages } from './archive-step.js';
import {
  ConnectorRepository,
  type EnvelopeOutcome,
  type LedgerRow,
  type NewEnvelope,
} from './connector.repository.js';
import type { Decrypted, EnvelopeDecryptor, EnvelopeToDecrypt } from './decrypt.js';
import { emptyResult, maxSeqOf, toNewEnvelopes, type ProcessResult } from './pulled.js';

export class PullError extends Error {}

/** Someone else moved the cursor since this batch was fetched: start again from the stored one. */
export class CursorMovedError extends Error {}

export interface StreamContext {
  pool: Pool;
  corpId: number;
  sdk: FinanceSdk;
  decryptor: EnvelopeDecryptor;
  archive: ArchiveService;
  detection?: DetectionService;
  proxy: string;
  timeoutSeconds: number;
  limit: number;
}

export interface BatchCommitted {
  /** Envelopes new to the corp (what pullOnce calls `stored`). */
  pulled: number;
  cursor: string;
  result: ProcessResult;
}

interface Batch {
  from: string;
  to: string;
  items: NewEnvelope[];
  envelopes: EnvelopeToDecrypt[];
  caughtUp: boolean;
}

/** Batches between fetch and commit at most: bounds memory (a batch is a few MB) and wasted work. */
const MAX_IN_FLIGHT = 3;

/** Streams from the stored cursor until caught up (or `signal` aborts), calling `onCommitted` per batch. */
export async function streamIngest(
  ctx: StreamContext,
  onCommitted: (b: BatchCommitted) => void,
  signal?: AbortSignal,
): Promise<void> {
  let from = await new ConnectorRepository(ctx.pool).cursor(ctx.corpId);
  // Unsettled stages only (a settled one would keep its batch's messages alive until the end).
  const stages = new Set<Promise<void>>();
  const track = (p: Promise<unknown>) => {
    const settled = p.then(
      () => undefined,
      () => undefined,
    );
    stages.add(settled);
    void settled.then(() => stages.delete(settled));
  };
  const commits: Array<Promise<unknown>> = [];
  let opening: Promise<unknown> = Promise.resolve();
  let committing: Promise<unknown> = Promise.resolve();
  let failure: unknown;
  try {
    for (;;) {
      while (commits.length >= MAX_IN_FLIGHT) await commits.shift();
      if (signal?.aborted) break;
      const batch = await fetchBatch(ctx, from);
      if (batch.envelopes.length === 0) {
        const touched = committing.then(() => touchCursor(ctx, batch.from));
        commits.push(touched);
        track(touched);
        break;
      }
      from = batch.to;
      const unwrapped = ctx.decryptor.unwrapKeys(batch.envelopes);
      // DecryptData runs in order (the SDK child serialises it anyway); a failure becomes the
      // batch's result so that its commit can fall back to staging the envelopes.
      const opened = Promise.all([unwrapped, opening]).then(([u]) => ctx.decryptor.open(batch.envelopes, u));
      const decrypted = opened.then(
        (d) => d,
        (e: unknown) => (e instanceof Error ? e : new Error(String(e))),
      );
      opening = decrypted;
      const committed = Promise.all([decrypted, committing]).then(([d]) => commitBatch(ctx, batch, d));
      const reported = committed.then(onCommitted);
      committing = committed;
      commits.push(reported);
      // Observed here so a rejection never goes unhandled while the loop awaits something else.
      for (const stage of [unwrapped, decrypted, reported]) track(stage);
      if (batch.caughtUp) break;
    }
  } catch (err) {
    failure = err;
  }
  // Batches already fetched still commit (in order) before returning or throwing.
  let commitFailure: unknown;
  for (const c of commits) await c.catch((e: unknown) => (commitFailure ??= e));
  await Promise.all([...stages]);
  if (commitFailure !== undefined || failure !== undefined) {
    const err = commitFailure ?? failure;
    if (!(err instanceof CursorMovedError))
      await new ConnectorRepository(ctx.pool)
        .recordPullError(ctx.corpId, (err as Error).message)
        .catch(() => undefined);
    throw err;
  }
}

/** One GetChatData call from `from` (not locked: the commit checks the cursor instead). */
async function fetchBatch(ctx: StreamContext, from: string): Promise<Batch> {
  let text: string;
  try {
    text = await ctx.sdk.getChatData(BigInt(from), ctx.limit, ctx.proxy, '', ctx.timeoutSeconds);
  } catch (err) {
    throw new PullError(`GetChatData from seq ${from}: ${(err as Error).message}`, { cause: err });
  }
  const envelope = parseChatData(text);
  // Two error layers: the SDK returned 0 but WeCom's JSON carries the error (e.g. 48002).
  if (envelope.errcode !== 0)
    throw new PullError(`GetChatData from seq ${from}: WeCom errcode ${envelope.errcode} ${envelope.errmsg}`);
  const items = toNewEnvelopes(envelope.chatdata);
  return {
    from,
    to: items.length > 0 ? maxSeqOf(envelope.chatdata) : from,
    items,
    envelopes: items.map((e) => ({
      corp_id: ctx.corpId,
      msgid: e.msgid,
      seq: e.seq,
      publickey_ver: e.publickeyVer,
      encrypt_random_key: e.encryptRandomKey,
      encrypt_chat_msg: e.encryptChatMsg,
      attempts: 0,
      quarantineReason: e.quarantineReason,
    })),
    caughtUp: envelope.chatdata.length < ctx.limit,
  };
}

async function commitBatch(
  ctx: StreamContext,
  batch: Batch,
  decrypted: Decrypted[] | Error,
): Promise<BatchCommitted> {
  let cause = decrypted instanceof Error ? decrypted : undefined;
  if (!(decrypted instanceof Error)) {
    try {
      return await withTransaction(ctx.pool, (client) => archiveBatch(ctx, client, batch, decrypted));
    } catch (err) {
      if (err instanceof CursorMovedError) throw err;
      cause = err as Error;
    }
  }
  try {
    return await withTransaction(ctx.pool, (client) => stageBatch(ctx, client, batch));
  } catch (err) {
    if (err instanceof CursorMovedError) throw err;
    // Staging failed as well (e.g. the database is gone): report what went wrong first.
    throw cause ?? err;
  }
}

/** Locks the cursor for the transaction; it must still be where the batch was fetched from. */
async function checkCursor(ctx: StreamContext, repo: ConnectorRepository, batch: Batch): Promise<void> {
  const cursor = await repo.lockCursor(ctx.corpId);
  if (cursor !== batch.from)
    throw new CursorMovedError(`cursor of corp ${ctx.corpId} moved from ${batch.from} to ${cursor}`);
}

/**
 * The fast path: archive the batch, keep the envelopes that are not archived (with their
 * ciphertext, for a retry or a key added later) and move the cursor. An archived message leaves
 * no envelope row: the archive is its record, its msgid claimed once in message_keys.
 */
async function archiveBatch(
  ctx: StreamContext,
  client: PoolClient,
  batch: Batch,
  decrypted: Decrypted[],
): Promise<BatchCommitted> {
  const repo = new ConnectorRepository(client);
  await checkCursor(ctx, repo, batch);
  const kept: LedgerRow[] = [];
  const ready: MessageToArchive[] = [];
  decrypted.forEach((d, i) => {
    const envelope = batch.envelopes[i]!;
    if ('message' in d) ready.push({ ...d.message, seq: envelope.seq });
    else kept.push(ledgerRow(envelope, d.outcome));
  });
  const written = await repo.insertLedger(ctx.corpId, kept);
  const stored = await archiveMessages(client, ctx.archive, ctx.detection, ctx.corpId, ready);
  const pulled = stored.inserted + written.size;
  await repo.advanceCursor(ctx.corpId, batch.to, pulled, stored.inserted);
  const result = emptyResult();
  result.archived = stored.inserted;
  result.duplicates = stored.duplicates.length;
  for (const row of kept) {
    if (!written.has(row.msgid)) continue;
    if (row.state === 'held_key') result.held++;
    else if (row.state === 'quarantined') result.quarantined++;
    else if (row.state === 'pending') result.retried++;
  }
  return { pulled, cursor: batch.to, result };
}

/** The fallback: store the envelopes pending (as pullOnce does) and move the cursor. */
async function stageBatch(ctx: StreamContext, client: PoolClient, batch: Batch): Promise<BatchCommitted> {
  const repo = new ConnectorRepository(client);
  await checkCursor(ctx, repo, batch);
  const stored = await repo.insertEnvelopes(ctx.corpId, batch.items);
  await repo.advanceCursor(ctx.corpId, batch.to, stored);
  return { pulled: stored, cursor: batch.to, result: emptyResult() };
}

/** Caught up: record the successful pull (capture health reads last_pull_at). */
async function touchCursor(ctx: StreamContext, from: string): Promise<void> {
  await withTransaction(ctx.pool, async (client) => {
    const repo = new ConnectorRepository(client);
    await repo.lockCursor(ctx.corpId);
    await repo.advanceCursor(ctx.corpId, from, 0);
  });
}

function ledgerRow(envelope: EnvelopeToDecrypt, outcome: EnvelopeOutcome): LedgerRow {
  const row = {
    msgid: envelope.msgid,
    seq: envelope.seq,
    publickeyVer: envelope.publickey_ver,
    encryptRandomKey: envelope.encrypt_random_key,
    encryptChatMsg: envelope.encrypt_chat_msg,
    attempts: envelope.quarantineReason ? 0 : 1,
  };
  if (outcome.state === 'retry')
    return { ...row, state: 'pending', reason: outcome.reason, delaySeconds: outcome.delaySeconds };
  if (outcome.state === 'archived') return { ...row, state: 'archived', reason: null, delaySeconds: 0 };
  return { ...row, state: outcome.state, reason: outcome.reason, delaySeconds: 0 };
}
