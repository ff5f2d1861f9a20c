/**
 * Child-process side of SupervisedFinanceSdk: loads the native library with koffi and serves
 * requests over IPC (advanced serialization, so bigint and Buffer pass as they are). If the
 * vendor code crashes, only this process dies.
 */
import { KoffiFinanceSdk } from './koffi-sdk.js';
import { FinanceSdkError } from './types.js';

/** A request from the supervisor. */
export type WorkerRequest =
  | { id: number; op: 'init'; corpId: string; secret: string }
  | {
      id: number;
      op: 'getChatData';
      seq: bigint;
      limit: number;
      proxy: string;
      passwd: string;
      timeout: number;
    }
  | { id: number; op: 'decryptData'; encryptKey: string; encryptMsg: string }
  /**
   * Several DecryptData calls in one round trip, as two parallel lists (fewer objects to
   * serialize than a list of pairs); each fails or succeeds on its own.
   */
  | { id: number; op: 'decryptBatch'; keys: string[]; msgs: string[] }
  | {
      id: number;
      op: 'getMediaData';
      indexBuf: string;
      sdkFileId: string;
      proxy: string;
      passwd: string;
      timeout: number;
    };

/** A failed call, as it crosses the process boundary. */
export interface WireError {
  code: number | null;
  message: string;
  slice: string | null;
}

/** A decryptBatch reply: the plaintexts in order, null where the call failed, and the failures. */
export interface DecryptBatchReply {
  plaintexts: Array<string | null>;
  errors: Array<[index: number, error: WireError]>;
}

/** The worker's reply. */
export type WorkerResponse =
  { id: number; ok: true; result: unknown } | { id: number; ok: false; error: WireError };

const libraryPath = process.env.VIGIL_FINANCE_SDK_LIBRARY;

async function handle(sdk: KoffiFinanceSdk, req: WorkerRequest): Promise<unknown> {
  switch (req.op) {
    case 'init':
      return sdk.init(req.corpId, req.secret);
    case 'getChatData':
      return sdk.getChatData(req.seq, req.limit, req.proxy, req.passwd, req.timeout);
    case 'decryptData':
      return sdk.decryptData(req.encryptKey, req.encryptMsg);
    case 'decryptBatch': {
      const reply: DecryptBatchReply = { plaintexts: [], errors: [] };
      for (let i = 0; i < req.keys.length; i++) {
        try {
          reply.plaintexts.push(await sdk.decryptData(req.keys[i]!, req.msgs[i]!));
        } catch (e) {
          reply.plaintexts.push(null);
          reply.errors.push([i, toWire(e)]);
        }
      }
      return reply;
    }
    case 'getMediaData':
      return sdk.getMediaData(req.indexBuf, req.sdkFileId, req.proxy, req.passwd, req.timeout);
  }
}

function toWire(e: unknown): WireError {
  const err = e instanceof FinanceSdkError ? e : null;
  return { code: err?.code ?? null, message: (e as Error).message, slice: err?.slice ?? null };
}

if (process.send && libraryPath) {
  const sdk = new KoffiFinanceSdk(libraryPath);
  process.on('message', (req: WorkerRequest) => {
    handle(sdk, req).then(
      (result) => process.send!({ id: req.id, ok: true, result } satisfies WorkerResponse),
      (e: unknown) => process.send!({ id: req.id, ok: false, error: toWire(e) } satisfies WorkerResponse),
    );
  });
  // Exit with the parent instead of lingering.
  process.on('disconnect', () => process.exit(0));
  process.send({ id: 0, ok: true, result: 'ready' } satisfies WorkerResponse);
}
