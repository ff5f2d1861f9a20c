/**
 * Search benchmark: indexes N generated messages (default 1,000,000) into the encrypted archive,
 * then times 2-, 4- and 8-character phrase queries (first page of 50, newest first) with and
 * without filters, and the same queries answered by decrypt-and-scan as the baseline.
 *
 *   npx tsx bench/search/run.ts [--messages 1000000] [--queries 40] [--fresh]
 *
 * Uses BENCH_DATABASE_URL or TEST_DATABASE_URL (server URL; a database `vigil_bench_search` is
 * created and kept between runs) or an embedded PostgreSQL under .tmp/bench-postgres.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { ArchiveService } from '../../src/archive/archive.service.js';
import type { MessageToArchive } from '../../src/archive/types.js';
import { PgDekStore } from '../../src/crypto/dek.repository.js';
import { EnvelopeService } from '../../src/crypto/envelope.js';
import { openOrCreateLocalKeyring } from '../../src/crypto/keyring/local.js';
import { startEmbeddedPostgres } from '../../src/platform/db/embedded.js';
import { migrate } from '../../src/platform/db/migrations.js';
import { createPool } from '../../src/platform/db/pool.js';
import { OrgRepository } from '../../src/org/org.repository.js';
import { chineseChatTexts } from '../../test/support/chinese-corpus.js';
import { prng } from '../../test/support/prng.js';
import { databaseUrlFor } from '../../test/support/urls.js';

const { values: args } = parseArgs({
  options: {
    messages: { type: 'string', default: '1000000' },
    queries: { type: 'string', default: '40' },
    fresh: { type: 'boolean', default: false },
  },
});
const TOTAL = Number(args.messages);
const QUERIES = Number(args.queries);
const EMPLOYEES = 60;
const START = Date.UTC(2025, 0, 1);
const STEP_MS = 30_000;

async function main(): Promise<void> {
  let serverUrl = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
  const embedded = serverUrl
    ? undefined
    : await startEmbeddedPostgres({ dir: '.tmp/bench-postgres', port: 0 });
  serverUrl ??= embedded!.url;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  if (args.fresh) await admin.query('DROP DATABASE IF EXISTS vigil_bench_search WITH (FORCE)');
  const exists = (await admin.query("SELECT 1 FROM pg_database WHERE datname = 'vigil_bench_search'"))
    .rowCount;
  if (!exists) await admin.query('CREATE DATABASE vigil_bench_search');
  await admin.end();

  const pool = createPool(databaseUrlFor(serverUrl, 'vigil_bench_search'), {
    ssl: { mode: 'disable' },
    poolMax: 4,
  });
  await migrate(pool);
  const keyring = await openOrCreateLocalKeyring({ path: join('.tmp', 'bench-keys', 'keyring.json') });
  const envelope = new EnvelopeService({ keyring, store: new PgDekStore(pool) });
  const archive = new ArchiveService(pool, envelope, keyring);
  const corp = await new OrgRepository(pool).ensureCorp('bench', '基准测试公司', null);
  const texts = [...chineseChatTexts(TOTAL, 2026)];

  const { rows } = await pool.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM messages WHERE corp_id = $1',
    [corp.id],
  );
  let indexRate: number | null = null;
  if (rows[0]!.n < TOTAL) {
    const started = performance.now();
    const from = rows[0]!.n;
    for (let i = from; i < TOTAL; i += 1000) {
      const batch: MessageToArchive[] = [];
      for (let j = i; j < Math.min(TOTAL, i + 1000); j++) batch.push(message(j, texts[j]!));
      await archive.storeBatch(corp.id, batch);
      if ((i / 1000) % 50 === 0) process.stderr.write(`indexed ${i + batch.length}/${TOTAL}\r`);
    }
    indexRate = (TOTAL - from) / ((performance.now() - started) / 1000);
    await pool.query('VACUUM ANALYZE messages');
    process.stderr.write('\n');
  }

  const sizes = await pool.query<{ gin: string; tsv: string }>(
    `SELECT sum(pg_relation_size(i.indexrelid))::text AS gin,
            (SELECT sum(pg_column_size(search))::text FROM messages WHERE corp_id = $1) AS tsv
     FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname LIKE 'messages%search%'`,
    [corp.id],
  );
  const random = prng(5);
  const phrasesOf = (length: number) => {
    const out: string[] = [];
    while (out.length < QUERIES) {
      const run = (texts[Math.floor(random() * texts.length)]!.match(/[\u4e00-\u9fff]+/g) ?? []).find(
        (r) => r.length >= length,
      );
      if (run) out.push(run.slice(0, length));
    }
    return out;
  };
  const filters = (i: number) => ({
    employeeId: `user${String((i % EMPLOYEES) + 1).padStart(3, '0')}`,
    from: new Date(START + ((i * 7919) % TOTAL) * STEP_MS),
    to: new Date(START + (((i * 7919) % TOTAL) + 100_000) * STEP_MS),
  });

  console.log(`\nsearch benchmark: ${TOTAL.toLocaleString()} messages, first page of 50, newest first`);
  if (indexRate)
    console.log(
      `indexing:        ${Math.round(indexRate).toLocaleString()} messages/s (encrypt + blind index + insert)`,
    );
  console.log(
    `index size:      GIN ${(Number(sizes.rows[0]!.gin) / TOTAL).toFixed(1)} B/message, tsvector ${(Number(sizes.rows[0]!.tsv) / TOTAL).toFixed(1)} B/message`,
  );
  console.log('\nphrase  filters   p50 ms   p95 ms   baseline ms  speed-up (decrypt-and-scan / index)');
  for (const length of [2, 4, 8]) {
    const phrases = phrasesOf(length);
    for (const filtered of [false, true]) {
      const times: number[] = [];
      for (let i = 0; i < phrases.length; i++) {
        const t0 = performance.now();
        await archive.search(corp.id, `"${phrases[i]}"`, filtered ? filters(i) : {}, { limit: 50 });
        times.push(performance.now() - t0);
      }
      const baseline = await decryptAndScan(archive, corp.id, phrases[0]!, filtered ? filters(0) : undefined);
      times.sort((a, b) => a - b);
      const p = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!;
      console.log(
        `${String(length).padStart(6)}  ${(filtered ? 'yes' : 'no').padEnd(8)} ${p(0.5).toFixed(1).padStart(7)} ${p(0.95).toFixed(1).padStart(8)} ${baseline.toFixed(0).padStart(13)}  ${(baseline / p(0.5)).toFixed(0)}×`,
      );
    }
  }
  await pool.end();
  await keyring.close();
  await embedded?.stop();
}

function message(i: number, text: string): MessageToArchive {
  const employee = `user${String((i % EMPLOYEES) + 1).padStart(3, '0')}`;
  const customer = `wmCustomer${i % 500}`;
  const at = new Date(START + i * STEP_MS);
  return {
    msgid: `bench-${i}`,
    seq: String(i + 1),
    msgTime: at,
    action: 'send',
    msgtype: 'text',
    senderId: employee,
    senderKind: 'employee',
    direction: 'outbound',
    conversation: {
      kind: 'external',
      key: `${customer}|${employee}`,
      roomId: null,
      members: [
        { id: employee, kind: 'employee' },
        { id: customer, kind: 'external' },
      ],
    },
    raw: JSON.stringify({
      msgid: `bench-${i}`,
      action: 'send',
      from: employee,
      tolist: [customer],
      msgtime: at.getTime(),
      msgtype: 'text',
      text: { content: text },
    }),
    searchText: text,
    hasAttachment: false,
    recalledMsgid: null,
  };
}

/** The baseline: decrypt every candidate row and test the plaintext, as an archive without an index must. */
async function decryptAndScan(
  archive: ArchiveService,
  corpId: number,
  phrase: string,
  filters?: { employeeId: string; from: Date; to: Date },
): Promise<number> {
  const t0 = performance.now();
  let found = 0;
  let cursor: string | undefined;
  do {
    const page = await archive.search(corpId, '', filters ?? {}, { cursor, limit: 500 });
    for (const hit of page.hits)
      if (hit.message.content.state === 'ok' && hit.message.content.raw.includes(phrase)) found++;
    cursor = found >= 50 ? undefined : (page.next ?? undefined);
  } while (cursor);
  return performance.now() - t0;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
