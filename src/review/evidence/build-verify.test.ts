import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { keyringAuditSigner } from '../../crypto/keyring-services.js';
import { openOrCreateLocalKeyring } from '../../crypto/keyring/local.js';
import { buildEvidencePackage } from './build.js';
import { readZip, writeCanonicalZip } from './canonical-zip.js';
import { publicKeyPem, rawPublicKey } from './keys.js';
import { evidenceSignerFromKeyring } from './signer.js';
import { sampleEvidenceInput, testEvidenceSigner } from './test-fixture.js';
import { verifyEvidencePackage } from './verify.js';

const text = (entries: Map<string, Uint8Array>, p: string): string =>
  Buffer.from(entries.get(p)!).toString('utf8');
const entriesOf = (zip: Buffer) => new Map(readZip(zip).entries.map((e) => [e.path, e.data]));
const pemOf = (signer = testEvidenceSigner()) => publicKeyPem(rawPublicKey(signer.publicKey));

describe('buildEvidencePackage', () => {
  it('writes messages, media, hits, trail, case, manifest and signature, and verifies', async () => {
    const zip = await buildEvidencePackage(sampleEvidenceInput(), testEvidenceSigner());
    const entries = entriesOf(zip);
    expect([...entries.keys()]).toEqual([
      'manifest.json',
      'manifest.sig',
      'case.json',
      'messages.jsonl',
      'hits.jsonl',
      'review-trail.jsonl',
      'media/m2_1767225660/photo.jpg',
    ]);

    const messages = text(entries, 'messages.jsonl')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(messages).toHaveLength(3);
    expect(messages[0]).toMatchObject({
      msgid: 'm1_1767225600',
      msgTime: '2026-01-01T00:00:00.000Z',
      sender: { id: 'zhangsan', name: '张三', kind: 'employee' },
      recipients: [{ id: 'ext-7f3a9c', name: '客户 A', kind: 'external' }],
      conversationId: '3',
      msgtype: 'text',
      link: 'https://vigil.example.com/corps/acme/messages/m1_1767225600',
    });
    expect(JSON.parse(messages[0].content.raw).text.content).toBe('返点按老规矩');
    expect(messages[1].media).toEqual(['media/m2_1767225660/photo.jpg']);
    expect(messages[2].content).toEqual({ state: 'destroyed' });
    expect(
      text(entries, 'hits.jsonl')
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l).ruleId),
    ).toEqual(['kickback', 'kickback-custom']);
    const trail = text(entries, 'review-trail.jsonl')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(trail.map((e) => e.action)).toEqual(['alert.claimed', 'decision.first', 'case.alert_added']);
    expect(trail[1]).toMatchObject({ actor: { id: '12', name: 'li.lei' }, comment: '明显的回扣暗示' });
    expect(JSON.parse(text(entries, 'case.json'))).toMatchObject({
      corp: 'acme',
      caseId: '42',
      legalHold: true,
      grantId: '7',
      exportedBy: { id: '12' },
      exportedAt: '2026-01-10T08:30:00.000Z',
      watermark: 'li.lei · 2026-01-10 08:30 · audit #991',
    });

    const manifest = JSON.parse(text(entries, 'manifest.json'));
    expect(manifest).toMatchObject({
      format: 'vigil-evidence',
      formatVersion: 1,
      corp: 'acme',
      caseId: '42',
    });
    expect(manifest.counts).toEqual({ messages: 3, media: 1, hits: 2, reviewTrail: 3 });
    const photo = manifest.files.find((f: { path: string }) => f.path === 'media/m2_1767225660/photo.jpg');
    expect(photo.sha256).toBe(createHash('sha256').update(entries.get(photo.path)!).digest('hex'));
    const sig = JSON.parse(text(entries, 'manifest.sig'));
    expect(sig).toMatchObject({ keyName: 'vigil-evidence', algorithm: 'Ed25519', publicKey: pemOf() });

    const result = verifyEvidencePackage(zip);
    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.signer).toMatchObject({ keyName: 'vigil-evidence', trusted: null });
    expect(result.files).toHaveLength(7);
  });

  it('is deterministic, and its byte layout does not drift with library upgrades', async () => {
    const a = await buildEvidencePackage(sampleEvidenceInput(), testEvidenceSigner());
    const b = await buildEvidencePackage(sampleEvidenceInput(), testEvidenceSigner());
    expect(a.equals(b)).toBe(true);
    // If this changes (e.g. an fflate upgrade writes other header bytes), packages already issued
    // would stop verifying: keep the old layout, or bump formatVersion and keep a reader for 1.
    expect(createHash('sha256').update(a).digest('hex')).toMatchInlineSnapshot(
      `"94bc0c5bfefc716bda32f468182e8a0539e205142787f37fa6664e72ed819ba5"`,
    );
  });

  it('refuses media with unsafe names and references to messages not in the package', async () => {
    const unsafe = sampleEvidenceInput();
    unsafe.media![0]!.name = '../etc/passwd';
    await expect(buildEvidencePackage(unsafe, testEvidenceSigner())).rejects.toThrow(/cannot be a file name/);
    const orphan = sampleEvidenceInput();
    orphan.hits![0]!.msgid = 'nope';
    await expect(buildEvidencePackage(orphan, testEvidenceSigner())).rejects.toThrow(/not in the package/);
  });

  it('refuses a signer whose public key does not match its private key', async () => {
    const signer = { ...testEvidenceSigner(1), publicKey: testEvidenceSigner(2).publicKey };
    await expect(buildEvidencePackage(sampleEvidenceInput(), signer)).rejects.toThrow(/does not verify/);
  });
});

describe('verifyEvidencePackage', () => {
  /** Re-packs canonically after `edit`, so only the manifest checks can notice. */
  async function repacked(edit: (entries: Array<[string, Uint8Array]>) => Array<[string, Uint8Array]>) {
    const zip = await buildEvidencePackage(sampleEvidenceInput(), testEvidenceSigner());
    return verifyEvidencePackage(writeCanonicalZip(edit([...entriesOf(zip)])));
  }

  it('names a removed, an added and a renamed file', async () => {
    expect((await repacked((e) => e.filter(([p]) => p !== 'hits.jsonl'))).problems).toEqual([
      'missing file: hits.jsonl',
    ]);
    expect((await repacked((e) => [...e, ['notes.txt', Buffer.from('x')]])).problems).toEqual([
      'extra file not in manifest: notes.txt',
    ]);
    const renamed = await repacked((e) =>
      e.map(([p, d]) => [p === 'media/m2_1767225660/photo.jpg' ? 'media/m2_1767225660/photo2.jpg' : p, d]),
    );
    expect(renamed.problems).toEqual([
      'missing file: media/m2_1767225660/photo.jpg',
      'extra file not in manifest: media/m2_1767225660/photo2.jpg',
    ]);
  });

  it('names a changed file, a changed manifest and a missing signature', async () => {
    const edited = await repacked((e) =>
      e.map(([p, d]) => [
        p,
        p === 'case.json' ? Buffer.from(Buffer.from(d).toString().replace('open', 'shut')) : d,
      ]),
    );
    expect(edited.problems).toEqual(['case.json: SHA-256 mismatch']);
    const manifest = await repacked((e) =>
      e.map(([p, d]) => [
        p,
        p === 'manifest.json' ? Buffer.from(Buffer.from(d).toString().replace('42', '43')) : d,
      ]),
    );
    expect(manifest.problems).toEqual(['manifest.sig: signature invalid']);
    expect((await repacked((e) => e.filter(([p]) => p !== 'manifest.sig'))).problems).toEqual([
      'missing file: manifest.sig',
    ]);
  });

  it('refuses compressed entries, non-ZIP input and appended bytes', async () => {
    const zip = await buildEvidencePackage(sampleEvidenceInput(), testEvidenceSigner());
    const deflated = zipSync(Object.fromEntries(entriesOf(zip)), { level: 6 });
    const result = verifyEvidencePackage(deflated);
    expect(result.ok).toBe(false);
    expect(result.problems).toContain('messages.jsonl: compressed (method 8); entries must be stored');
    expect(verifyEvidencePackage(Buffer.from('hello, not a zip at all')).problems).toEqual(['not a ZIP']);
    expect(verifyEvidencePackage(Buffer.concat([zip, Buffer.from('x')])).problems).toEqual([
      `ZIP is not in canonical form: byte ${zip.length} (bytes after the end of the archive) differs from a deterministic rebuild`,
    ]);
  });

  it('accepts pinned keys as PEM or raw base64 and refuses any other signer', async () => {
    const ours = testEvidenceSigner(1);
    const zip = await buildEvidencePackage(sampleEvidenceInput(), ours);
    const raw = rawPublicKey(ours.publicKey).toString('base64');
    expect(verifyEvidencePackage(zip, { trustedPublicKeys: [pemOf(ours)] }).ok).toBe(true);
    expect(
      verifyEvidencePackage(zip, { trustedPublicKeys: [pemOf(testEvidenceSigner(3)), raw] }).signer?.trusted,
    ).toBe(true);

    // An attacker re-signs a whole, self-consistent package with their own key: only pinning tells.
    const forged = await buildEvidencePackage({ ...sampleEvidenceInput(), hits: [] }, testEvidenceSigner(2));
    expect(verifyEvidencePackage(forged).ok).toBe(true);
    const pinned = verifyEvidencePackage(forged, { trustedPublicKeys: [pemOf(ours)] });
    expect(pinned.ok).toBe(false);
    expect(pinned.problems).toEqual([
      `signed by an untrusted key (vigil-evidence, fingerprint ${pinned.signer!.fingerprint})`,
    ]);
    expect(() => verifyEvidencePackage(zip, { trustedPublicKeys: ['not a key'] })).toThrow(/trusted key 1/);
  });
});

describe('evidenceSignerFromKeyring', () => {
  it('creates one key under evidence/ed25519/vigil-evidence, separate from the audit key', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'vigil-evidence-'));
    try {
      const keyring = await openOrCreateLocalKeyring({ path: path.join(dir, 'keyring.json') });
      const signer = await evidenceSignerFromKeyring(keyring);
      expect(await keyring.listSecrets('evidence/')).toEqual(['evidence/ed25519/vigil-evidence']);
      const again = await evidenceSignerFromKeyring(keyring);
      expect(Buffer.compare(again.publicKey as Buffer, signer.publicKey as Buffer)).toBe(0);
      const audit = await keyringAuditSigner(keyring);
      expect(audit.publicKey.equals(signer.publicKey as Buffer)).toBe(false);

      const zip = await buildEvidencePackage(sampleEvidenceInput(), signer);
      const pem = publicKeyPem(rawPublicKey(signer.publicKey));
      expect(verifyEvidencePackage(zip, { trustedPublicKeys: [pem] }).ok).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
