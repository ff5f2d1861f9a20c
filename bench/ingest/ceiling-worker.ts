/**
 * Worker thread of the RSA ceiling measurement: once told to start, decrypts the ciphertexts it
 * was given with rsaPkcs1v15Decrypt as fast as one core allows and reports how long that took.
 */
import { createPrivateKey } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { rsaPkcs1v15Decrypt } from '../../src/crypto/rsa.js';

const { pem, ciphertexts } = workerData as { pem: string; ciphertexts: Uint8Array[] };
const key = createPrivateKey(pem);
for (const c of ciphertexts.slice(0, 50)) rsaPkcs1v15Decrypt(key, c); // warm-up
parentPort!.once('message', () => {
  const start = process.hrtime.bigint();
  for (const c of ciphertexts) rsaPkcs1v15Decrypt(key, c);
  parentPort!.postMessage(Number(process.hrtime.bigint() - start) / 1e6);
});
parentPort!.postMessage('ready');
