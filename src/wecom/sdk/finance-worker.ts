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
  /** Several DecryptData calls in one round trip; each item fails or succeeds on its own. */
  | { id: number; op: 'decryptBatch'; items: Array<{ encryptKey: string; encryptMsg: string }> }
  | {
      id: number;
      op: 'getMediaData';
      indexBuf: string;
      sdkFileId: string;
      proxy: string;
      passwd: string;
      timeout: number;
    };

/** One item of a decryptBatch reply. */
export type DecryptBatchItem =
  | { ok: true; plaintext: string }
  | { ok: false; error: { code: number | null; message: string; slice: string | null } };

/** The worker's reply. */
export type WorkerResponse =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: { code: number | null; message: string; slice: string | null } };

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
      const out: DecryptBatchItem[] = [];
      for (const item of req.items) {
        try {
          out.push({ ok: true, plaintext: await sdk.decryptData(item.encryptKey, item.encryptMsg) });
        } catch (e) {
          const err = e instanceof FinanceSdkError ? e : null;
          out.push({
            ok: false,
            error: { code: err?.code ?? null, message: (e as Error).message, slice: err?.slice ?? null },
          });
        }
      }
      return out;
    }
    case 'getMediaData':
      return sdk.getMediaData(req.indexBuf, req.sdkFileId, req.proxy, req.passwd, req.timeout);
  }
}

if (process.send && libraryPath) {
  const sdk = new KoffiFinanceSdk(libraryPath);
  process.on('message', (req: WorkerRequest) => {
    handle(sdk, req).then(
      (result) => process.send!({ id: req.id, ok: true, result } satisfies WorkerResponse),
      (e: unknown) => {
        const err = e instanceof FinanceSdkError ? e : null;
        process.send!({
          id: req.id,
          ok: false,
          error: { code: err?.code ?? null, message: (e as Error).message, slice: err?.slice ?? null },
        } satisfies WorkerResponse);
      },
    );
  });
  // Exit with the parent instead of lingering.
  process.on('disconnect', () => process.exit(0));
  process.send({ id: 0, ok: true, result: 'ready' } satisfies WorkerResponse);
}
