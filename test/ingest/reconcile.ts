/**
 * Reconciliation of a corp's archive against the emulator's ground truth: every visible message
 * exactly once, in the state its fault calls for (archived, quarantined or held, with a reason
 * that names the fault and the encrypted envelope kept), archived content equal to the plaintext,
 * and media stored byte-equal or marked expired. Returns a report of mismatches rather than
 * throwing, so callers (the reconciliation and crash suites) can print all of them at once.
 */
import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { ArchiveService } from '../../src/archive/archive.service.js';
import type { BlobStore } from '../../src/crypto/blob/blobstore.js';
import type { Pool } from '../../src/platform/db/pool.js';
import type { EmulatedCorp, ExpectedMessage } from '../../src/wecom/emulator/index.js';

export interface ReconcileOptions {
  /** The blob store media were downloaded into; without it media are not checked. */
  blobs?: BlobStore;
  /** Non-faulty media files compared byte by byte (default 300); faulty ones are always compared. */
  mediaSample?: number;
  /** Parallel archive reads (default 4). */
  concurrency?: number;
  /**
   * Media not downloaded yet are fine (a test that downloads only a sample parks the others);
   * otherwise every non-expired file must be stored.
   */
  pendingMediaAllowed?: boolean;
}

export interface ReconcileReport {
  /** Visible messages in the ground truth. */
  expected: number;
  archived: number;
  quarantined: number;
  held: number;
  /** Content compared after decryption. */
  contentChecked: number;
  /** Media rows checked for their state, and files compared byte by byte. */
  mediaChecked: number;
  mediaCompared: number;
  /** Media left pending (only with pendingMediaAllowed). */
  mediaPending: number;
  /**
   * Files corrupted on their first download whose message carries no md5sum (WeCom allows an
   * empty one), so nothing could detect the corruption: reported here, not as mismatches.
   */
  /** Messages per content fault in the ground truth. */
  faults: Record<string, number>;
  /** Every difference found (first 500), e.g. "CAQQ…: missing from the archive". */
  mismatches: string[];
  mismatchCount: number;
}

type Expected = { state: 'archived' } | { state: 'quarantined' | 'held_key'; reason: RegExp };

/** What the pipeline must have done with a message, given its fault. */
export function expectedOutcome(m: Pick<ExpectedMessage, 'fault'>): Expected {
  switch (m.fault) {
    case 'crash':
      return { state: 'quarantined', reason: /^DecryptData crashed \d+ times/ };
    case 'malformed_json':
      return { state: 'quarantined', reason: /^malformed message JSON/ };
    case 'unknown_key_version':
      return { state: 'held_key', reason: /^no private key for publickey_ver 9999$/ };
    default:
      return { state: 'archived' };
  }
}

interface EnvelopeState {
  seq: string;
  state: string;
  reason: string | null;
  publickey_ver: number | null;
  has_ciphertext: boolean;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Compares the archive of `corpId` with everything `corp` has made visible. */
export async function reconcile(
  pool: Pool,
  archive: ArchiveService,
  corpId: number,
  corp: EmulatedCorp,
  options: ReconcileOptions = {},
): Promise<ReconcileReport> {
  const report: ReconcileReport = {
    expected: 0,
    archived: 0,
    quarantined: 0,
    held: 0,
    contentChecked: 0,
    mediaChecked: 0,
    mediaCompared: 0,
    mediaPending: 0,
    faults: {},
    mismatches: [],
    mismatchCount: 0,
  };
  const miss = (text: string) => {
    report.mismatchCount++;
    if (report.mismatches.length < 500) report.mismatches.push(text);
  };

  const archivedRows = new Map<string, { seq: string | null; n: number }>();
  for (const r of (
    await pool.query<{ msgid: string; seq: string | null; n: number }>(
      'SELECT msgid, min(seq)::text AS seq, count(*)::int AS n FROM messages WHERE corp_id = $1 GROUP BY msgid',
      [corpId],
    )
  ).rows)
    archivedRows.set(r.msgid, { seq: r.seq, n: r.n });
  const envelopes = new Map<string, EnvelopeState>();
  for (const r of (
    await pool.query<EnvelopeState & { msgid: string }>(
      `SELECT msgid, seq::text, state, reason, publickey_ver,
         (encrypt_random_key IS NOT NULL AND encrypt_chat_msg IS NOT NULL) AS has_ciphertext
       FROM wecom_envelopes WHERE corp_id = $1`,
      [corpId],
    )
  ).rows)
    envelopes.set(r.msgid, r);
  const attachments = new Map<
    string,
    { status: string; blob_address: string | null; last_error: string | null; md5sum: string | null }
  >();
  if (options.blobs) {
    for (const r of (
      await pool.query<{
        msgid: string;
        sdkfileid: string;
        status: string;
        blob_address: string | null;
        last_error: string | null;
        md5sum: string | null;
      }>(
        'SELECT msgid, sdkfileid, status, blob_address, last_error, md5sum FROM attachments WHERE corp_id = $1',
        [corpId],
      )
    ).rows)
      attachments.set(`${r.msgid}|${r.sdkfileid}`, r);
  }

  const toRead: ExpectedMessage[] = [];
  const toCompare: Array<{
    label: string;
    sdkfileid: string;
    address: string;
    bytes: Buffer;
  }> = [];
  const seen = new Set<string>();
  const seenMedia = new Set<string>();
  let mediaIndex = 0;
  const totalMedia = options.blobs ? attachments.size : 0;
  const sampleEvery = Math.max(1, Math.floor(totalMedia / (options.mediaSample ?? 300)));

  for (const m of corp.groundTruth()) {
    report.expected++;
    if (m.fault) report.faults[m.fault] = (report.faults[m.fault] ?? 0) + 1;
    if (seen.has(m.msgid)) miss(`${m.msgid}: msgid twice in the ground truth`);
    seen.add(m.msgid);
    const want = expectedOutcome(m);
    const env = envelopes.get(m.msgid);
    const row = archivedRows.get(m.msgid);
    const label = `${m.msgid} (seq ${m.seq}, fault ${m.fault ?? 'none'})`;
    // A message archived by the streaming capture leaves no envelope row: the archive row is the
    // record. Any envelope row there is must be the message's own.
    if (env) {
      if (env.seq !== m.seq.toString()) miss(`${label}: envelope seq ${env.seq}`);
      if (env.publickey_ver !== m.publickeyVer)
        miss(`${label}: publickey_ver ${env.publickey_ver}, expected ${m.publickeyVer}`);
    }
    if (want.state !== 'archived') {
      if (!env) {
        miss(`${label}: neither archived nor kept as an envelope (gap)`);
        continue;
      }
      if (env.state !== want.state)
        miss(`${label}: state ${env.state} (${env.reason}), expected ${want.state}`);
      else if (!want.reason.test(env.reason ?? '')) miss(`${label}: reason ${JSON.stringify(env.reason)}`);
      if (!env.has_ciphertext) miss(`${label}: ${env.state} without its encrypted envelope`);
      if (row) miss(`${label}: archived although it should be ${want.state}`);
      if (env.state === 'quarantined') report.quarantined++;
      if (env.state === 'held_key') report.held++;
      continue;
    }
    if (env && env.state !== 'archived')
      miss(`${label}: envelope ${env.state} (${env.reason}), expected archived`);
    if (!row) {
      miss(`${label}: missing from the archive (gap)`);
      continue;
    }
    report.archived++;
    if (row.n !== 1) miss(`${label}: archived ${row.n} times`);
    if (row.seq !== m.seq.toString()) miss(`${label}: archived seq ${row.seq}`);
    toRead.push(m);
    if (!options.blobs) continue;
    for (const file of m.media) {
      const key = `${m.msgid}|${file.sdkfileid}`;
      seenMedia.add(key);
      const a = attachments.get(key);
      report.mediaChecked++;
      if (!a) {
        miss(`${label}: attachment ${file.sdkfileid.slice(0, 24)}… not recorded`);
        continue;
      }
      if (file.expired) {
        if (a.status !== 'expired' || !/no longer serves/.test(a.last_error ?? ''))
          miss(`${label}: expired media is ${a.status} (${a.last_error})`);
        continue;
      }
      if (a.status === 'pending' && options.pendingMediaAllowed) {
        report.mediaPending++;
        continue;
      }
      if (a.status !== 'stored' || !a.blob_address) {
        miss(`${label}: media ${a.status} (${a.last_error})`);
        continue;
      }
      if (m.fault || mediaIndex++ % sampleEvery === 0)
        toCompare.push({
          label,
          sdkfileid: file.sdkfileid,
          address: a.blob_address,
          bytes: file.bytes,
        });
    }
  }
  for (const msgid of archivedRows.keys())
    if (!seen.has(msgid)) miss(`${msgid}: archived but not in the ground truth`);
  for (const msgid of envelopes.keys())
    if (!seen.has(msgid)) miss(`${msgid}: pulled but not in the ground truth`);
  for (const key of attachments.keys())
    if (!seenMedia.has(key)) miss(`${key}: attachment not in the ground truth`);

  await inParallel(toRead, options.concurrency ?? 4, async (m) => {
    const got = await archive.getMessage(corpId, m.msgid);
    report.contentChecked++;
    if (!got || got.content.state !== 'ok') {
      miss(`${m.msgid}: content ${got?.content.state ?? 'missing'}`);
      return;
    }
    const raw = got.content.raw;
    if (m.fault === 'control_chars') {
      // The control characters were stripped before parsing: the archived JSON is re-serialised.
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch {
        parsed = undefined;
      }
      if (!isDeepStrictEqual(parsed, withoutControlChars(m.message)))
        miss(`${m.msgid}: content differs after stripping control characters`);
      if (!got.flags.includes('control_chars_stripped'))
        miss(`${m.msgid}: not flagged control_chars_stripped`);
    } else if (raw !== m.plaintext) {
      miss(`${m.msgid}: content differs from the plaintext`);
    }
    if (m.fault === 'unknown_msgtype' && !got.flags.includes('unknown_type'))
      miss(`${m.msgid}: not flagged unknown_type`);
  });
  if (options.blobs) {
    const blobs = options.blobs;
    await inParallel(toCompare, options.concurrency ?? 4, async (f) => {
      const stored = await blobs.getBuffer(String(corpId), f.address);
      report.mediaCompared++;
      if (sha256(stored) === sha256(f.bytes)) return;
      miss(`${f.label}: media ${f.sdkfileid} differs (${stored.length} vs ${f.bytes.length} bytes)`);
    });
  }
  return report;
}

/** `value` with the raw control characters WeCom sometimes sends removed from every string. */
function withoutControlChars(value: unknown): unknown {
  // eslint-disable-next-line no-control-regex
  if (typeof value === 'string') return value.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');
  if (Array.isArray(value)) return value.map(withoutControlChars);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutControlChars(v)]));
  return value;
}

async function inParallel<T>(
  items: T[],
  concurrency: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}
