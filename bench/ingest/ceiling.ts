/**
 * The ceiling of the ingest benchmark: one RSA-2048 private-key operation (rsaPkcs1v15Decrypt,
 * what the pipeline runs per message) on this thread, and split over worker threads.
 */
import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { rsaPkcs1v15Decrypt } from '../../src/crypto/rsa.js';
import { encryptRandomKey } from '../../src/wecom/emulator/emulator-crypto.js';
import { ownThreads } from './cpu.js';

/** `count` ciphertexts of random keys under the public half of `pem`. */
export function ciphertextsFor(pem: string, count: number): Uint8Array[] {
  const publicKey = createPublicKey(pem);
  return Array.from({ length: count }, () =>
    Buffer.from(encryptRandomKey(publicKey, randomBytes(16).toString('hex')), 'base64'),
  );
}

/** Decryptions on this thread: wall ms, and CPU seconds of this thread (what one operation costs). */
export function ceilingOneCore(
  pem: string,
  ciphertexts: Uint8Array[],
): { wallMs: number; cpuSeconds: number } {
  const key = createPrivateKey(pem); // parsed once: a PEM per call would measure the parser
  for (const c of ciphertexts.slice(0, 200)) rsaPkcs1v15Decrypt(key, c); // warm-up
  const cpu0 = ownThreads().main;
  const start = process.hrtime.bigint();
  for (const c of ciphertexts) rsaPkcs1v15Decrypt(key, c);
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  return { wallMs, cpuSeconds: ownThreads().main - cpu0 };
}

/** The same decryptions split over `threads` worker threads (wall ms). */
export async function ceilingThreads(
  pem: string,
  ciphertexts: Uint8Array[],
  threads: number,
): Promise<number> {
  const per = Math.ceil(ciphertexts.length / threads);
  // Worker threads do not inherit tsx's loader on Node 20: register it, then load the TypeScript.
  const code = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => {
    m.register();
    return import(${JSON.stringify(new URL('./ceiling-worker.ts', import.meta.url).href)});
  });`;
  const workers = Array.from(
    { length: threads },
    (_, i) =>
      new Worker(code, {
        eval: true,
        workerData: { pem, ciphertexts: ciphertexts.slice(i * per, (i + 1) * per) },
      }),
  );
  const next = (w: Worker) => new Promise<unknown>((r, j) => w.once('message', r).once('error', j));
  await Promise.all(workers.map(next)); // loaded and warmed up: start-up is not measured
  const start = process.hrtime.bigint();
  const done = Promise.all(workers.map(next));
  for (const w of workers) w.postMessage('go');
  await done;
  const wall = Number(process.hrtime.bigint() - start) / 1e6;
  await Promise.all(workers.map((w) => w.terminate()));
  return wall;
}
