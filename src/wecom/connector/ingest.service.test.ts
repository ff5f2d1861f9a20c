import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { closeTestPool, createTestCorp, testPool } from '../../../test/support/db.js';
import { testArchive } from '../../../test/support/archive.js';
import { BlobStore } from '../../crypto/blob/blobstore.js';
import { FsBlobBackend } from '../../crypto/blob/backend.js';
import { getOrCreateSecret } from '../../crypto/keyring/corp-keys.js';
import { SecretNames, type Keyring } from '../../crypto/keyring/types.js';
import { MediaService } from './media.service.js';
import { DetectionService, PolicyRegistry, PolicyService } from '../../detection/store/index.js';
import { createEmulator } from '../emulator/index.js';
import { HttpEmulatorFinanceSdk } from '../sdk/http-emulator-sdk.js';
import { ConnectorRepository } from './connector.repository.js';
import { IngestService } from './ingest.service.js';

afterAll(closeTestPool);

async function setup(options: {
  messages: number;
  faultRates?: Record<string, number>;
  faults?: Record<string, unknown>;
  seqStart?: bigint;
}) {
  const pool = testPool();
  const corp = await createTestCorp(pool, 'ingest');
  const wecomCorpId = `ww${corp.slug.replace(/-/g, '')}`;
  const emulator = await createEmulator({
    corps: [
      {
        corpId: wecomCorpId,
        messageCount: options.messages,
        days: 5,
        faultRates: options.faultRates,
        faults: options.faults,
        seqStart: options.seqStart,
      },
    ],
  });
  const emulated = emulator.corp(wecomCorpId);
  const { archive, keyring } = await testArchive(pool);
  await keyring.putSecret(
    SecretNames.wecomRsa(String(corp.id), 1),
    Buffer.from(emulated.generatedPrivateKey(1)!),
  );
  const sdk = new HttpEmulatorFinanceSdk(emulator.baseUrl);
  await sdk.init(wecomCorpId, emulated.secrets.archive);
  const ingest = new IngestService(pool, archive, keyring, corp.id, sdk);
  return { pool, corp, emulator, emulated, archive, ingest, keyring };
}

async function blobStore(keyring: Keyring) {
  return new BlobStore({
    backend: new FsBlobBackend(mkdtempSync(join(tmpdir(), 'vigil-blobs-'))),
    corpKey: (corpId) => getOrCreateSecret(keyring, SecretNames.blobKey(corpId)),
  });
}

describe('WeCom ingest pipeline', () => {
  it('archives every message type exactly once, with 64-bit seqs, equal to the ground truth', async () => {
    const { pool, corp, emulator, emulated, archive, ingest } = await setup({
      messages: 1500,
      seqStart: 2n ** 63n,
    });
    try {
      const run = await ingest.runOnce();
      expect(run.pulled).toBe(1500);
      expect(run.result).toMatchObject({ archived: 1500, quarantined: 0, held: 0 });
      // A second run finds nothing new and archives nothing twice.
      expect((await ingest.runOnce()).pulled).toBe(0);

      const types = new Set<string>();
      for (const expected of emulated.groundTruth()) {
        const message = await archive.getMessage(corp.id, expected.msgid);
        expect(message, expected.msgid).toBeDefined();
        expect(message!.seq).toBe(expected.seq.toString());
        expect(message!.content).toEqual({ state: 'ok', raw: expected.plaintext });
        types.add(message!.msgtype);
      }
      expect([...types].sort()).toEqual(
        expect.arrayContaining(['text', 'image', 'mixed', 'chatrecord', 'switch', 'revoke']),
      );
      expect(types.size).toBeGreaterThanOrEqual(30);
      const { rows } = await pool.query(
        'SELECT count(*)::int AS n, count(DISTINCT msgid)::int AS d FROM messages WHERE corp_id = $1',
        [corp.id],
      );
      expect(rows[0]).toEqual({ n: 1500, d: 1500 });
      const cursor = await pool.query('SELECT seq::text FROM wecom_cursors WHERE corp_id = $1', [corp.id]);
      expect(cursor.rows[0].seq).toBe((2n ** 63n + 1499n).toString());
    } finally {
      await emulator.stop();
    }
  });

  it('quarantines bad messages with reasons, holds unknown key versions, and survives WeCom errors', async () => {
    const { pool, corp, emulator, emulated, archive, ingest } = await setup({
      messages: 2000,
      faultRates: {
        malformed_json: 0.01,
        unknown_msgtype: 0.01,
        control_chars: 0.01,
        unknown_key_version: 0.01,
      },
      faults: { networkErrorRate: 0.3, apiForbiddenRate: 0.1, omitChatdataWhenCaughtUp: true },
    });
    try {
      let errors = 0;
      for (let attempt = 0; attempt < 200; attempt++) {
        try {
          const pull = await ingest.pullOnce(100); // small batches: many requests, so faults surely strike
          while ((await ingest.processPending()).archived > 0);
          if (pull.fetched === 0) break;
        } catch {
          errors++; // network errors and 48002 are retried by the next tick; nothing is lost
        }
      }
      expect(errors).toBeGreaterThan(0);
      const states = await new ConnectorRepository(pool).countByState(corp.id);
      const truth = [...emulated.groundTruth()];
      const byFault = (f: string) => truth.filter((m) => m.fault === f).length;
      expect(states.held_key).toBe(byFault('unknown_key_version'));
      expect(states.quarantined).toBe(byFault('malformed_json'));
      expect(states.archived).toBe(truth.length - byFault('unknown_key_version') - byFault('malformed_json'));
      const consents = await pool.query(
        'SELECT count(*)::int AS n FROM external_consents WHERE corp_id = $1',
        [corp.id],
      );
      expect(consents.rows[0].n).toBeGreaterThan(0); // agree/disagree messages became consent history
      const attention = await new ConnectorRepository(pool).attention(corp.id, 1000);
      for (const row of attention) {
        expect(row.reason).toMatch(
          row.state === 'held_key' ? /no private key for publickey_ver 9999/ : /malformed message JSON/,
        );
      }
      for (const m of truth.filter((t) => t.fault === 'unknown_msgtype' || t.fault === 'control_chars')) {
        const archived = await archive.getMessage(corp.id, m.msgid);
        expect(archived?.flags).toContain(
          m.fault === 'unknown_msgtype' ? 'unknown_type' : 'control_chars_stripped',
        );
      }
    } finally {
      await emulator.stop();
    }
  });

  it('downloads every media file byte-equal, retrying chunk and md5 failures, marking expired ones', async () => {
    const { pool, corp, emulator, emulated, ingest, keyring } = await setup({
      messages: 600,
      faultRates: { md5_mismatch_first_try: 0.2, expired_media: 0.05 },
      faults: { mediaChunkFailureRate: 0.1 },
    });
    try {
      await ingest.runOnce();
      const blobs = await blobStore(keyring);
      const sdk = new HttpEmulatorFinanceSdk(emulator.baseUrl);
      await sdk.init(emulated.corpId, emulated.secrets.archive);
      const media = new MediaService(pool, blobs, sdk, corp.id);
      for (let round = 0; round < 20; round++) {
        const r = await media.processDue(100);
        if (r.stored + r.expired + r.failed + r.retrying === 0) break;
        await pool.query(
          `UPDATE attachments SET next_attempt_at = now() WHERE corp_id = $1 AND status = 'pending'`,
          [corp.id],
        );
      }
      const { rows } = await pool.query<{
        msgid: string;
        sdkfileid: string;
        status: string;
        blob_address: string | null;
        detected_type: string | null;
        last_error: string | null;
      }>(
        'SELECT msgid, sdkfileid, status, blob_address, detected_type, last_error FROM attachments WHERE corp_id = $1',
        [corp.id],
      );
      const bySdkFile = new Map(rows.map((r) => [`${r.msgid}|${r.sdkfileid}`, r]));
      let checked = 0;
      for (const expected of emulated.groundTruth()) {
        for (const file of expected.media) {
          const row = bySdkFile.get(`${expected.msgid}|${file.sdkfileid}`);
          expect(row, `${expected.msgid} ${file.sdkfileid}`).toBeDefined();
          if (file.expired) {
            expect(row!.status).toBe('expired');
            expect(row!.last_error).toMatch(/no longer serves/);
          } else {
            expect({
              msgid: expected.msgid,
              fault: expected.fault,
              status: row!.status,
              error: row!.last_error,
            }).toMatchObject({ status: 'stored' });
            const stored = await blobs.getBuffer(String(corp.id), row!.blob_address!);
            const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
            expect({ msgid: expected.msgid, fault: expected.fault, md5: md5(stored) }).toEqual({
              msgid: expected.msgid,
              fault: expected.fault,
              md5: md5(file.bytes),
            });
            checked++;
          }
        }
      }
      expect(checked).toBeGreaterThan(20);
      expect(
        rows.filter((r) => r.detected_type === 'silk' || r.detected_type === 'amr').length,
      ).toBeGreaterThan(0);
    } finally {
      await emulator.stop();
    }
  });

  it('screens archived messages at ingest: planted risky conversations become findings', async () => {
    const { pool, corp, emulator, emulated, archive, keyring } = await setup({ messages: 1500 });
    try {
      const registry = new PolicyRegistry(pool);
      const policies = new PolicyService(pool, { onChange: (c) => registry.invalidate(c) });
      const { installed } = await policies.installTemplates(corp.id);
      for (const policy of installed) await policies.setEnabled(policy.id, true);
      const sdk = new HttpEmulatorFinanceSdk(emulator.baseUrl);
      await sdk.init(emulated.corpId, emulated.secrets.archive);
      const ingest = new IngestService(pool, archive, keyring, corp.id, sdk, {
        detection: new DetectionService(pool, registry),
      });
      await ingest.runOnce();
      const risky = [...emulated.groundTruth()].filter((m) => m.risk);
      expect(risky.length).toBeGreaterThan(0);
      const hits = await pool.query<{ msgid: string }>(
        'SELECT DISTINCT msgid FROM detection_hits WHERE corp_id = $1',
        [corp.id],
      );
      const hitIds = new Set(hits.rows.map((r) => r.msgid));
      const caught = risky.filter((m) => hitIds.has(m.msgid)).length;
      expect(caught / risky.length).toBeGreaterThan(0.5);
      const findings = await pool.query(
        'SELECT count(*)::int AS n FROM detection_findings WHERE corp_id = $1',
        [corp.id],
      );
      expect(findings.rows[0].n).toBeGreaterThan(0);
      expect(findings.rows[0].n).toBeLessThan(hits.rows.length + 1); // grouped per window, not one per hit
    } finally {
      await emulator.stop();
    }
  });
});
