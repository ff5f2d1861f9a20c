/**
 * RSA decryption of `encrypt_random_key` on worker threads. One RSA-2048 private-key operation per
 * message is the ceiling of any WeCom archiver (protocol §2.2), so a batch is split over one
 * thread per core instead of running on the event loop. This module is also the worker's code.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { rsaPkcs1v15Decrypt } from '../../crypto/rsa.js';

/** The result of one ciphertext: the plaintext, or why it could not be decrypted. */
export type RsaOutcome = { ok: true; value: Buffer } | { ok: false; message: string };

/**
 * A slice of ciphertexts for one worker, packed into one transferred buffer: ciphertext i is
 * `data[ends[i - 1]..ends[i])`. A thousand small arrays would each be cloned on the way.
 */
interface Job {
  id: number;
  pem: string;
  data: Uint8Array;
  ends: Uint32Array;
}

/** The plaintexts, packed the same way (a failed one is empty and listed in `errors`). */
interface JobResult {
  id: number;
  data: Uint8Array;
  ends: Uint32Array;
  errors: Array<[index: number, message: string]>;
}

const WORKER_FLAG = 'vigil-rsa-pool';

/** Below this many ciphertexts a batch runs inline: a thread hop costs more than it saves. */
const INLINE_BELOW = 8;

/** A fixed pool of worker threads decrypting PKCS#1 v1.5 RSA ciphertexts. */
export class RsaPool {
  private readonly workers: Worker[] = [];
  private readonly waiting = new Map<
    number,
    { resolve: (r: JobResult) => void; reject: (e: Error) => void }
  >();
  private readonly inlineKeys = new Map<string, KeyObject>();
  private nextId = 1;
  private closed = false;

  /** `threads` defaults to the number of cores (at most 4). */
  constructor(private readonly threads = Math.min(4, availableParallelism())) {}

  /** Decrypts every ciphertext with `pem`, in order; each fails or succeeds on its own. */
  async decrypt(pem: string, ciphertexts: Uint8Array[]): Promise<RsaOutcome[]> {
    if (this.closed) throw new Error('RsaPool is closed');
    if (ciphertexts.length < INLINE_BELOW || this.threads < 2) return this.inline(pem, ciphertexts);
    this.start();
    for (const w of this.workers) w.ref();
    const per = Math.ceil(ciphertexts.length / this.workers.length);
    const parts = await Promise.all(
      this.workers.map((worker, i) => {
        const slice = ciphertexts.slice(i * per, (i + 1) * per);
        if (slice.length === 0) return Promise.resolve([]);
        const id = this.nextId++;
        const { data, ends } = pack(slice);
        return new Promise<JobResult>((resolve, reject) => {
          this.waiting.set(id, { resolve, reject });
          worker.postMessage({ id, pem, data, ends } satisfies Job, [
            data.buffer as ArrayBuffer,
            ends.buffer as ArrayBuffer,
          ]);
        }).then(unpack);
      }),
    );
    if (this.waiting.size === 0) for (const w of this.workers) w.unref(); // idle: never keep the process alive
    return parts.flat();
  }

  /** Stops the threads. */
  async close(): Promise<void> {
    this.closed = true;
    const workers = this.workers.splice(0);
    await Promise.all(workers.map((w) => w.terminate()));
  }

  private inline(pem: string, ciphertexts: Uint8Array[]): RsaOutcome[] {
    let key = this.inlineKeys.get(pem);
    if (!key) {
      key = createPrivateKey(pem);
      this.inlineKeys.set(pem, key);
    }
    return unpack({ id: 0, ...decryptPacked(key, pack(ciphertexts)) });
  }

  private start(): void {
    if (this.workers.length > 0) return;
    const self = import.meta.url;
    // From TypeScript sources (tests, tsx) a worker thread does not inherit the loader: register it first.
    const bootstrap = self.endsWith('.ts')
      ? `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify(self)}); });`
      : `import(${JSON.stringify(self)});`;
    for (let i = 0; i < this.threads; i++) {
      const worker = new Worker(bootstrap, { eval: true, workerData: { [WORKER_FLAG]: true } });
      worker.unref();
      worker.on('message', (r: JobResult) => {
        const w = this.waiting.get(r.id);
        this.waiting.delete(r.id);
        w?.resolve(r);
      });
      worker.on('error', (e) => this.failAll(e));
      worker.on('exit', (code) => {
        if (!this.closed) this.failAll(new Error(`RSA worker thread exited (${code})`));
      });
      this.workers.push(worker);
    }
  }

  private failAll(e: Error): void {
    for (const [id, w] of this.waiting) {
      this.waiting.delete(id);
      w.reject(e);
    }
    // The next batch starts fresh threads.
    const workers = this.workers.splice(0);
    for (const w of workers) void w.terminate();
  }
}

let shared: RsaPool | undefined;

/** The process-wide pool (threads start on first use and never keep the process alive when idle). */
export function sharedRsaPool(): RsaPool {
  shared ??= new RsaPool();
  return shared;
}

function pack(items: Uint8Array[]): { data: Uint8Array; ends: Uint32Array } {
  const ends = new Uint32Array(items.length);
  let total = 0;
  items.forEach((c, i) => (ends[i] = total += c.length));
  const data = new Uint8Array(total);
  items.forEach((c, i) => data.set(c, i === 0 ? 0 : ends[i - 1]));
  return { data, ends };
}

function unpack(r: JobResult): RsaOutcome[] {
  const failed = new Map(r.errors);
  const out: RsaOutcome[] = [];
  for (let i = 0; i < r.ends.length; i++) {
    const start = i === 0 ? 0 : r.ends[i - 1]!;
    const message = failed.get(i);
    if (message !== undefined) out.push({ ok: false, message });
    else
      out.push({
        ok: true,
        value: Buffer.from(r.data.buffer, r.data.byteOffset + start, r.ends[i]! - start),
      });
  }
  return out;
}

/** Decrypts every packed ciphertext; each fails or succeeds on its own. */
function decryptPacked(key: KeyObject, job: { data: Uint8Array; ends: Uint32Array }): Omit<JobResult, 'id'> {
  const data = new Uint8Array(job.data.length); // a plaintext is never longer than its ciphertext
  const ends = new Uint32Array(job.ends.length);
  const errors: JobResult['errors'] = [];
  let o = 0;
  for (let i = 0; i < job.ends.length; i++) {
    const start = i === 0 ? 0 : job.ends[i - 1]!;
    try {
      const plain = rsaPkcs1v15Decrypt(key, job.data.subarray(start, job.ends[i]));
      data.set(plain, o);
      o += plain.length;
    } catch (e) {
      errors.push([i, (e as Error).message]);
    }
    ends[i] = o;
  }
  return { data, ends, errors };
}

// ---------- worker side ----------

if (!isMainThread && (workerData as Record<string, unknown> | null)?.[WORKER_FLAG]) {
  const keys = new Map<string, KeyObject>();
  parentPort!.on('message', (job: Job) => {
    let key = keys.get(job.pem);
    if (!key) {
      key = createPrivateKey(job.pem);
      keys.set(job.pem, key);
    }
    const result = { id: job.id, ...decryptPacked(key, job) } satisfies JobResult;
    parentPort!.postMessage(result, [result.data.buffer as ArrayBuffer, result.ends.buffer as ArrayBuffer]);
  });
}
