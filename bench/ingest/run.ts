/**
 * Ingest benchmark: N emulator messages end to end through the native path (pull with the
 * stand-in library in the supervised child → RSA → DecryptData → normalize → encrypt → index →
 * store), against the ceiling set by one RSA-2048 private-key operation per message, measured in
 * the same run on one core and on two worker threads. Also prints the peak RSS of this process
 * and of the finance SDK child (flat memory: compare 100,000 with 1,000,000 messages).
 *
 *   npx tsx bench/ingest/run.ts [--messages 100000] [--ceiling-ops 4000] [--keep]
 *
 * Uses BENCH_DATABASE_URL or TEST_DATABASE_URL (server URL) or an embedded PostgreSQL under
 * .tmp/bench-postgres; each run creates a database of its own and drops it afterwards (--keep
 * keeps it). The emulator runs in this process, so its CPU (RSA public encryption and AES of
 * every envelope) is counted against the pipeline: on the real service that work is WeCom's.
 */
import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import pg from 'pg';
import { ArchiveService } from '../../src/archive/archive.service.js';
import { PgDekStore } from '../../src/crypto/dek.repository.js';
import { EnvelopeService } from '../../src/crypto/envelope.js';
import { openOrCreateLocalKeyring } from '../../src/crypto/keyring/local.js';
import { SecretNames } from '../../src/crypto/keyring/types.js';
import { rsaPkcs1v15Decrypt } from '../../src/crypto/rsa.js';
import { OrgRepository } from '../../src/org/org.repository.js';
import { startEmbeddedPostgres } from '../../src/platform/db/embedded.js';
import { migrate } from '../../src/platform/db/migrations.js';
import { createPool } from '../../src/platform/db/pool.js';
import { IngestService } from '../../src/wecom/connector/ingest.service.js';
import { createEmulator } from '../../src/wecom/emulator/index.js';
import { encryptRandomKey } from '../../src/wecom/emulator/emulator-crypto.js';
import { ensureStandinLibrary } from '../../src/wecom/sdk/build-standin.js';
import { SupervisedFinanceSdk } from '../../src/wecom/sdk/supervised-sdk.js';
import { databaseUrlFor } from '../../test/support/urls.js';

const { values: args } = parseArgs({
  options: {
    messages: { type: 'string', default: '100000' },
    'ceiling-ops': { type: 'string', default: '4000' },
    keep: { type: 'boolean', default: false },
  },
});
const TOTAL = Number(args.messages);
const CEILING_OPS = Number(args['ceiling-ops']);
const WECOM_CORP = 'wwbenchingest';

/** Resident set of a process from /proc (kB → bytes); 0 when unavailable. */
function procRss(pid: number | undefined, field: 'VmRSS' | 'VmHWM'): number {
  if (!pid) return 0;
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;

/** Times `ciphertexts` RSA decryptions on this thread (ms). */
function ceilingOneCore(pem: string, ciphertexts: Uint8Array[]): number {
  const key = createPrivateKey(pem); // parsed once: a PEM per call would measure the parser
  const start = process.hrtime.bigint();
  for (const c of ciphertexts) rsaPkcs1v15Decrypt(key, c);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** Times the same decryptions split over `threads` worker threads (wall ms). */
async function ceilingThreads(pem: string, ciphertexts: Uint8Array[], threads: number): Promise<number> {
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

async function main(): Promise<void> {
  const library = await ensureStandinLibrary();
  let serverUrl = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
  const embedded = serverUrl
    ? undefined
    : await startEmbeddedPostgres({ dir: '.tmp/bench-postgres', port: 0 });
  serverUrl ??= embedded!.url;
  const dbName = `vigil_bench_ingest_${process.pid}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  await admin.end();
  const pool = createPool(databaseUrlFor(serverUrl, dbName), { ssl: { mode: 'disable' }, poolMax: 4 });
  const keyDir = mkdtempSync(join(tmpdir(), 'vigil-bench-keys-'));
  const emulator = await createEmulator({
    corps: [{ corpId: WECOM_CORP, messageCount: TOTAL, days: 5 }],
  });
  let sdk: SupervisedFinanceSdk | undefined;
  try {
    await migrate(pool);
    const keyring = await openOrCreateLocalKeyring({ path: join(keyDir, 'keyring.json') });
    const archive = new ArchiveService(
      pool,
      new EnvelopeService({ keyring, store: new PgDekStore(pool) }),
      keyring,
    );
    const corp = await new OrgRepository(pool).ensureCorp('bench-ingest', '基准测试公司', WECOM_CORP);
    const emulated = emulator.corp(WECOM_CORP);
    const pem = emulated.generatedPrivateKey(1)!;
    await keyring.putSecret(SecretNames.wecomRsa(String(corp.id), 1), Buffer.from(pem));

    let childPid: number | undefined;
    let childPeak = 0;
    sdk = new SupervisedFinanceSdk({
      libraryPath: library,
      env: { WECOM_EMULATOR_URL: emulator.baseUrl },
      onEvent: (e) => {
        if (e.type === 'spawn') childPid = e.pid;
      },
    });
    await sdk.init(WECOM_CORP, emulated.secrets.archive);
    const ingest = new IngestService(pool, archive, keyring, corp.id, sdk);

    let peakRss = process.memoryUsage().rss;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      childPeak = Math.max(childPeak, procRss(childPid, 'VmRSS'));
    }, 200);
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    let lastReport = Date.now();
    const run = await ingest.runOnce((p) => {
      if (Date.now() - lastReport > 10_000) {
        lastReport = Date.now();
        const s = Number(process.hrtime.bigint() - t0) / 1e9;
        process.stderr.write(`  … ${p.archived} archived in ${s.toFixed(0)} s\n`);
      }
    });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    clearInterval(sampler);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    childPeak = Math.max(childPeak, procRss(childPid, 'VmHWM'));
    if (run.result.archived !== TOTAL)
      throw new Error(`archived ${run.result.archived} of ${TOTAL}: ${JSON.stringify(run.result)}`);
    const rate = TOTAL / seconds;

    // The ceiling: one RSA-2048 private-key operation per message, on one core and on two.
    const publicKey = createPublicKey(pem);
    const ciphertexts = Array.from({ length: CEILING_OPS }, () =>
      Buffer.from(encryptRandomKey(publicKey, randomBytes(16).toString('hex')), 'base64'),
    );
    ceilingOneCore(pem, ciphertexts.slice(0, 200)); // warm-up
    const oneCoreMs = ceilingOneCore(pem, ciphertexts);
    const threads = Math.min(2, availableParallelism());
    const twoCoreMs = await ceilingThreads(pem, ciphertexts, threads);
    const oneCore = CEILING_OPS / (oneCoreMs / 1000);
    const twoCore = CEILING_OPS / (twoCoreMs / 1000);

    const pad = (s: string) => s.padEnd(52);
    console.log(
      `\ningest benchmark: ${TOTAL.toLocaleString('en')} messages, ${availableParallelism()} cores`,
    );
    console.log(`${pad('end to end (pull → … → store)')}${rate.toFixed(0)} msg/s (${seconds.toFixed(1)} s)`);
    console.log(
      `${pad('  this process CPU (user + system)')}${((cpu.user + cpu.system) / 1e6).toFixed(1)} s ` +
        `(${(((cpu.user + cpu.system) / 1e6 / seconds) * 100).toFixed(0)}% of one core)`,
    );
    console.log(`${pad('RSA-2048 ceiling, one core')}${oneCore.toFixed(0)} ops/s`);
    console.log(`${pad(`RSA-2048 ceiling, ${threads} worker threads`)}${twoCore.toFixed(0)} ops/s`);
    console.log(`${pad('end to end / one-core ceiling')}${((rate / oneCore) * 100).toFixed(0)}%`);
    console.log(
      `${pad(`end to end / ${threads}-thread ceiling (target ≥ 70%)`)}${((rate / twoCore) * 100).toFixed(0)}%`,
    );
    console.log(`${pad('peak RSS, this process (pipeline + emulator)')}${mb(peakRss)}`);
    console.log(`${pad('peak RSS, finance SDK child')}${mb(childPeak)}`);
  } finally {
    await sdk?.close();
    await emulator.stop();
    await pool.end();
    rmSync(keyDir, { recursive: true, force: true });
    if (!args.keep) {
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await c.end();
    }
    await embedded?.stop();
  }
}

await main();
