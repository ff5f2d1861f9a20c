import { generateKeyPairSync } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { testArchive } from '../../../test/support/archive.js';
import { closeTestPool, createTestCorp, testPool } from '../../../test/support/db.js';
import { reconcile } from '../../../test/ingest/reconcile.js';
import { SecretNames } from '../../crypto/keyring/types.js';
import type { DetectionService } from '../../detection/store/detection.service.js';
import { createEmulator, type ContentFaultKind } from '../emulator/index.js';
import { ensureStandinLibrary } from '../sdk/build-standin.js';
import { HttpEmulatorFinanceSdk } from '../sdk/http-emulator-sdk.js';
import { SupervisedFinanceSdk } from '../sdk/supervised-sdk.js';
import type { FinanceSdk } from '../sdk/types.js';
import { ConnectorRepository } from './connector.repository.js';
import { captureHealth } from './health.js';
import { IngestService, PullError } from './ingest.service.js';

afterAll(closeTestPool);

/** A corp of the emulator ingested into a test corp of the archive. */
async function setup(options: {
  messages: number;
  visible?: number;
  faultRates?: Partial<Record<ContentFaultKind, number>>;
  faultAt?: Record<number, ContentFaultKind>;
  faults?: Record<string, unknown>;
}) {
  const pool = testPool();
  const corp = await createTestCorp(pool, 'stream');
  const wecomCorpId = `ww${corp.slug.replace(/-/g, '')}`;
  const emulator = await createEmulator({
    corps: [
      {
        corpId: wecomCorpId,
        seed: 'stream-v1',
        messageCount: options.messages,
        visibleCount: options.visible,
        seqStart: 2n ** 64n - 4n * BigInt(options.messages) - 100n,
        seqStride: 3n,
        days: 5,
        faultRates: options.faultRates,
        faultAt: options.faultAt,
        faults: options.faults,
      },
    ],
  });
  const emulated = emulator.corp(wecomCorpId);
  const { archive, keyring } = await testArchive(pool);
  await keyring.putSecret(
    SecretNames.wecomRsa(String(corp.id), 1),
    Buffer.from(emulated.generatedPrivateKey(1)!),
  );
  const open = async (sdk: FinanceSdk, detection?: DetectionService) => {
    await sdk.init(wecomCorpId, emulated.secrets.archive);
    return new IngestService(pool, archive, keyring, corp.id, sdk, { detection });
  };
  return { pool, corp, emulator, emulated, archive, keyring, open };
}

/** runOnce until it completes a pass, as the job and the CLI retry it after a WeCom error. */
async function runToEnd(ingest: IngestService): Promise<{ pulled: number; errors: number }> {
  let pulled = 0;
  let errors = 0;
  for (let attempt = 0; attempt < 200; attempt++) {
    try {
      pulled += (await ingest.runOnce()).pulled;
      return { pulled, errors };
    } catch (err) {
      if (!(err instanceof PullError)) throw err;
      errors++;
    }
  }
  throw new Error('runOnce never completed');
}

describe('streaming ingest (runOnce)', () => {
  it('archives every message with every fault and a key rotation through the native SDK, equal to the ground truth', async () => {
    const messages = 6000;
    const half = messages / 2;
    const { pool, corp, emulator, emulated, archive, keyring, open } = await setup({
      messages,
      visible: half,
      faultRates: {
        control_chars: 0.005,
        malformed_json: 0.005,
        unknown_msgtype: 0.005,
        old_key_version: 0.01,
        unknown_key_version: 0.005,
      },
      faultAt: { 700: 'crash', 4100: 'crash' },
      faults: { networkErrorRate: 0.2, apiForbiddenRate: 0.2, omitChatdataWhenCaughtUp: true },
    });
    const sdk = new SupervisedFinanceSdk({
      libraryPath: await ensureStandinLibrary(),
      env: { WECOM_EMULATOR_URL: emulator.baseUrl },
    });
    try {
      const ingest = await open(sdk);
      const first = await runToEnd(ingest);
      expect(first.pulled).toBe(half);
      // Rotation: the second half is encrypted to key version 2, which the archive learns late.
      const key2 = generateKeyPairSync('rsa', { modulusLength: 2048 });
      emulated.rotateKey(2, key2.publicKey.export({ type: 'spki', format: 'pem' }).toString());
      emulated.advance(messages - half);
      const second = await runToEnd(ingest);
      expect(second.pulled).toBe(messages - half);
      const held = (await new ConnectorRepository(pool).countByState(corp.id)).held_key ?? 0;
      expect(held).toBeGreaterThan(1000);
      await keyring.putSecret(
        SecretNames.wecomRsa(String(corp.id), 2),
        Buffer.from(key2.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()),
      );
      expect(await ingest.keyAdded(2)).toBeGreaterThan(1000);
      const released = await runToEnd(ingest);
      expect(released.pulled).toBe(0);
      expect(first.errors + second.errors + released.errors).toBeGreaterThan(0);

      const report = await reconcile(pool, archive, corp.id, emulated);
      expect(report.mismatches).toEqual([]);
      expect(report.expected).toBe(messages);
      for (const kind of ['control_chars', 'malformed_json', 'unknown_msgtype', 'old_key_version', 'crash'])
        expect(report.faults[kind] ?? 0, kind).toBeGreaterThan(0);
      expect(report.quarantined).toBe((report.faults.crash ?? 0) + (report.faults.malformed_json ?? 0));
      expect(report.held).toBe(report.faults.unknown_key_version ?? 0);
      // No archived envelope keeps its ciphertext (the message lives encrypted in the archive),
      // and the cursor counts every message archived, whichever path archived it.
      const { rows } = await pool.query<{ withCiphertext: number; counted: number; keys: number }>(
        `SELECT (SELECT count(*)::int FROM wecom_envelopes WHERE corp_id = $1 AND state = 'archived'
                   AND (encrypt_random_key IS NOT NULL OR encrypt_chat_msg IS NOT NULL)) AS "withCiphertext",
                (SELECT archived_total::int FROM wecom_cursors WHERE corp_id = $1) AS counted,
                (SELECT count(*)::int FROM message_keys WHERE corp_id = $1) AS keys`,
        [corp.id],
      );
      expect(rows[0]!.withCiphertext).toBe(0);
      expect(rows[0]!.counted).toBe(rows[0]!.keys);
      expect(rows[0]!.keys).toBe(report.expected - report.quarantined - report.held);
      await pool.query(`INSERT INTO wecom_connectors (corp_id, wecom_corp_id) VALUES ($1, 'wwstream')`, [
        corp.id,
      ]);
      const health = await captureHealth(pool, corp.id);
      expect(health?.envelopes).toEqual({
        archived: rows[0]!.keys,
        pending: 0,
        held_key: report.held,
        quarantined: report.quarantined,
      });
    } finally {
      await sdk.close();
      await emulator.stop();
    }
  }, 300_000);

  it('stages a batch it cannot archive, so capture moves on, and archives it from the envelopes', async () => {
    const { pool, corp, emulator, emulated, archive, open } = await setup({ messages: 2500 });
    try {
      let failures = 1;
      const detection = {
        async detectArchived() {
          if (failures-- > 0) throw new Error('detection is down');
          return { scanned: 0, skipped: 0, hits: 0, findingsCreated: 0, findingsUpdated: 0 };
        },
      } as unknown as DetectionService;
      const ingest = await open(new HttpEmulatorFinanceSdk(emulator.baseUrl), detection);
      const run = await ingest.runOnce();
      expect(run.pulled).toBe(2500);
      expect(run.result.archived).toBe(2500);
      // Only the staged batch went through the envelope table; the cursor counts all of them.
      expect(await new ConnectorRepository(pool).countByState(corp.id)).toEqual({ archived: 1000 });
      const { rows } = await pool.query(
        'SELECT archived_total::int AS n FROM wecom_cursors WHERE corp_id = $1',
        [corp.id],
      );
      expect(rows[0]).toEqual({ n: 2500 });
      const report = await reconcile(pool, archive, corp.id, emulated);
      expect(report.mismatches).toEqual([]);
    } finally {
      await emulator.stop();
    }
  }, 120_000);

  it('stays exactly-once when two pullers of one corp stream at the same time', async () => {
    const { pool, corp, emulator, emulated, archive, open } = await setup({ messages: 4000 });
    try {
      const a = await open(new HttpEmulatorFinanceSdk(emulator.baseUrl));
      const b = await open(new HttpEmulatorFinanceSdk(emulator.baseUrl));
      const [ra, rb] = await Promise.all([a.runOnce(), b.runOnce()]);
      expect(ra.pulled + rb.pulled).toBe(4000);
      expect(ra.result.archived + rb.result.archived).toBe(4000);
      const report = await reconcile(pool, archive, corp.id, emulated);
      expect(report.mismatches).toEqual([]);
      const { rows } = await pool.query('SELECT seq::text FROM wecom_cursors WHERE corp_id = $1', [corp.id]);
      expect(rows[0].seq).toBe([...emulated.groundTruth()].at(-1)!.seq.toString());
    } finally {
      await emulator.stop();
    }
  }, 120_000);
});
