/**
 * Issue #4: a large emulated corp with every fault enabled, ingested through the native path
 * (SupervisedFinanceSdk running the C stand-in library), must end equal to the ground truth.
 *
 * Size: VIGIL_RECONCILE_MESSAGES, default 100,000 in CI (CI=true) and 20,000 locally.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BlobStore } from '../../src/crypto/blob/blobstore.js';
import { FsBlobBackend } from '../../src/crypto/blob/backend.js';
import { getOrCreateSecret } from '../../src/crypto/keyring/corp-keys.js';
import { SecretNames } from '../../src/crypto/keyring/types.js';
import { ConnectorRepository } from '../../src/wecom/connector/connector.repository.js';
import { IngestService, PullError } from '../../src/wecom/connector/ingest.service.js';
import { MediaService } from '../../src/wecom/connector/media.service.js';
import { createEmulator, type ContentFaultKind } from '../../src/wecom/emulator/index.js';
import { ensureStandinLibrary } from '../../src/wecom/sdk/build-standin.js';
import { SupervisedFinanceSdk, type SupervisorEvent } from '../../src/wecom/sdk/supervised-sdk.js';
import { testArchive } from '../support/archive.js';
import { closeTestPool, createTestCorp, testPool } from '../support/db.js';
import { reconcile } from './reconcile.js';

afterAll(closeTestPool);

const MESSAGES = Number(
  process.env.VIGIL_RECONCILE_MESSAGES ?? (process.env.CI === 'true' ? 100_000 : 20_000),
);

/** Content faults as rates; media faults only land on the ~9% of messages that carry media. */
const FAULT_RATES: Partial<Record<ContentFaultKind, number>> = {
  control_chars: 0.002,
  malformed_json: 0.002,
  unknown_msgtype: 0.002,
  old_key_version: 0.004,
  unknown_key_version: 0.002,
  expired_media: 0.03,
  md5_mismatch_first_try: 0.03,
};

/** One media message in MEDIA_EVERY (besides all faulty ones) has its files downloaded and compared. */
const MEDIA_EVERY = Math.max(1, Math.floor((MESSAGES * 0.09) / 400));

/** Each crash costs `maxCrashes` child restarts, so crashes are placed rather than drawn. */
function crashesAt(n: number): Record<number, ContentFaultKind> {
  const at: Record<number, ContentFaultKind> = {};
  for (let k = 1; k <= 6; k++) at[Math.floor((n * k) / 7) + k] = 'crash';
  return at;
}

describe('ingest reconciliation (issue #4)', () => {
  it(
    `archives ${MESSAGES.toLocaleString('en')} messages with every fault, a key rotation and uint64 seqs, equal to the ground truth`,
    async () => {
      const started = Date.now();
      const pool = testPool();
      const corp = await createTestCorp(pool, 'reconcile');
      const wecomCorpId = `ww${corp.slug.replace(/-/g, '')}`;
      const half = Math.floor(MESSAGES / 2);
      // Strided seqs right below 2^64: far above 2^53, with gaps between consecutive messages.
      const seqStart = 2n ** 64n - 3n * BigInt(MESSAGES) - 1000n;
      const emulator = await createEmulator({
        corps: [
          {
            corpId: wecomCorpId,
            seed: 'reconcile-v1', // the same corpus every run, whatever the corp's name
            messageCount: MESSAGES,
            visibleCount: half,
            seqStart,
            seqStride: 3n,
            days: 5,
            faultRates: FAULT_RATES,
            faultAt: crashesAt(MESSAGES),
            faults: {
              networkErrorRate: 0.05,
              apiForbiddenRate: 0.05,
              omitChatdataWhenCaughtUp: true,
              mediaChunkFailureRate: 0.03,
              slowRate: 0.003,
              slowMs: 300,
            },
          },
        ],
      });
      const emulated = emulator.corp(wecomCorpId);
      const { archive, keyring } = await testArchive(pool);
      const blobDir = mkdtempSync(join(tmpdir(), 'vigil-reconcile-blobs-'));
      const events: SupervisorEvent[] = [];
      const sdk = new SupervisedFinanceSdk({
        libraryPath: await ensureStandinLibrary(),
        env: { WECOM_EMULATOR_URL: emulator.baseUrl },
        onEvent: (e) => events.push(e),
      });
      try {
        await keyring.putSecret(
          SecretNames.wecomRsa(String(corp.id), 1),
          Buffer.from(emulated.generatedPrivateKey(1)!),
        );
        await sdk.init(wecomCorpId, emulated.secrets.archive);
        const ingest = new IngestService(pool, archive, keyring, corp.id, sdk);
        const key2 = generateKeyPairSync('rsa', { modulusLength: 2048 });

        let pulled = 0;
        let pullErrors = 0;
        let rotated = false;
        let key2Added = false;
        let heldBeforeKey2 = 0;
        for (let round = 0; round < 10 * (MESSAGES / 500) + 500; round++) {
          let pull;
          try {
            pull = await ingest.pullOnce(500); // half batches: more requests for the faults to hit
          } catch (e) {
            if (!(e instanceof PullError)) throw e;
            pullErrors++; // 10001 and 48002: the next tick retries from the same cursor
            if (process.env.DEBUG_RECONCILE) console.log(round, pulled, (e as Error).message);
            continue;
          }
          pulled += pull.stored;
          for (;;) {
            const r = await ingest.processPending();
            if (r.archived + r.duplicates + r.held + r.quarantined + r.retried === 0) break;
          }
          // Rotation mid-stream: the second half is encrypted to key version 2, which the
          // archive learns only later, so part of it is held first and released when it arrives.
          if (!rotated && pulled >= half / 2) {
            emulated.rotateKey(2, key2.publicKey.export({ type: 'spki', format: 'pem' }).toString());
            emulated.advance(MESSAGES - half);
            rotated = true;
          }
          if (rotated && !key2Added && pulled >= half + (MESSAGES - half) / 3) {
            heldBeforeKey2 = (await new ConnectorRepository(pool).countByState(corp.id)).held_key ?? 0;
            await keyring.putSecret(
              SecretNames.wecomRsa(String(corp.id), 2),
              Buffer.from(key2.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()),
            );
            await ingest.keyAdded(2);
            key2Added = true;
          }
          if (pull.caughtUp && key2Added) break;
        }
        const ingestSeconds = (Date.now() - started) / 1000;
        expect(key2Added).toBe(true);
        expect(pulled).toBe(MESSAGES);
        expect(pullErrors).toBeGreaterThan(0);
        expect(heldBeforeKey2).toBeGreaterThan(100);

        const blobs = new BlobStore({
          backend: new FsBlobBackend(blobDir),
          corpKey: (id) => getOrCreateSecret(keyring, SecretNames.blobKey(id)),
        });
        // Media: every file of a faulty message plus a sample of the others is downloaded; the rest
        // are parked (downloading all ~9% media messages of 100,000 would dominate the run).
        const sampled: string[] = [];
        let other = 0;
        for (const m of emulated.groundTruth()) {
          if (m.media.length === 0) continue;
          if (
            m.fault === 'expired_media' ||
            m.fault === 'md5_mismatch_first_try' ||
            other++ % MEDIA_EVERY === 0
          )
            sampled.push(m.msgid);
        }
        await pool.query(
          `UPDATE attachments SET next_attempt_at = 'infinity' WHERE corp_id = $1 AND NOT (msgid = ANY($2::text[]))`,
          [corp.id, sampled],
        );
        const media = new MediaService(pool, blobs, sdk, corp.id);
        for (let round = 0; round < 50; round++) {
          const r = await media.processDue(500);
          if (r.stored + r.expired + r.failed + r.retrying === 0) {
            // Failed downloads wait for their backoff; make them due instead of sleeping.
            const { rowCount } = await pool.query(
              `UPDATE attachments SET next_attempt_at = now()
               WHERE corp_id = $1 AND status = 'pending' AND next_attempt_at < 'infinity'`,
              [corp.id],
            );
            if (!rowCount) break;
          }
        }
        const mediaSeconds = (Date.now() - started) / 1000 - ingestSeconds;

        const report = await reconcile(pool, archive, corp.id, emulated, {
          blobs,
          mediaSample: Number.MAX_SAFE_INTEGER, // compare every downloaded file
          pendingMediaAllowed: true,
        });
        const totalSeconds = (Date.now() - started) / 1000;
        console.log(
          `reconcile ${MESSAGES}: ingest ${ingestSeconds.toFixed(1)} s (${(MESSAGES / ingestSeconds).toFixed(0)} msg/s), ` +
            `media ${mediaSeconds.toFixed(1)} s, total ${totalSeconds.toFixed(1)} s; pull errors ${pullErrors}, ` +
            `held before key 2 ${heldBeforeKey2}, child spawns ${sdk.spawns}; ` +
            JSON.stringify({ ...report, mismatches: report.mismatches.slice(0, 20) }),
        );
        expect(report.mismatches).toEqual([]);
        expect(report.expected).toBe(MESSAGES);
        expect(report.contentChecked).toBe(report.archived);
        // Every fault kind really happened, and crashes went through the supervisor.
        for (const kind of [...Object.keys(FAULT_RATES), 'crash'])
          expect(report.faults[kind] ?? 0, kind).toBeGreaterThan(0);
        expect(report.quarantined).toBe((report.faults.crash ?? 0) + (report.faults.malformed_json ?? 0));
        expect(report.held).toBe(report.faults.unknown_key_version);
        expect(events.filter((e) => e.type === 'gave_up')).toHaveLength(report.faults.crash!);
        expect(report.mediaCompared).toBeGreaterThanOrEqual(Math.min(300, report.mediaChecked));
        expect(report.mediaCompared).toBeGreaterThanOrEqual(report.faults.md5_mismatch_first_try ?? 0);
        const truth = [...emulated.groundTruth(half, MESSAGES)];
        expect(
          truth.filter((m) => m.fault === 'old_key_version' && m.publickeyVer === 1).length,
        ).toBeGreaterThan(0);
        expect(truth.filter((m) => m.publickeyVer === 2).length).toBeGreaterThan(half / 2);
      } finally {
        await sdk.close();
        await emulator.stop();
        rmSync(blobDir, { recursive: true, force: true });
      }
    },
    30 * 60_000,
  );
});
