import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildEvidencePackage } from '../../src/review/evidence/build.js';
import { publicKeyPem, rawPublicKey } from '../../src/review/evidence/keys.js';
import { sampleEvidenceInput, testEvidenceSigner } from '../../src/review/evidence/test-fixture.js';
import { runVigil } from '../support/cli.js';

const dirs: string[] = [];
const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-evidence-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

describe('vigil evidence verify', () => {
  it('accepts a package, pins its key, and names the problem in a tampered copy', async () => {
    const dir = tempDir();
    const signer = testEvidenceSigner();
    const zip = await buildEvidencePackage(sampleEvidenceInput(), signer);
    const file = join(dir, 'case-42.zip');
    writeFileSync(file, zip);
    const ourKey = join(dir, 'ours.pem');
    writeFileSync(ourKey, publicKeyPem(rawPublicKey(signer.publicKey)));
    const otherKey = join(dir, 'other.pem');
    writeFileSync(otherKey, publicKeyPem(rawPublicKey(testEvidenceSigner(9).publicKey)));

    const ok = await runVigil([
      'evidence',
      'verify',
      file,
      '--trusted-key',
      otherKey,
      '--trusted-key',
      ourKey,
    ]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('evidence package case-42.zip: OK');
    expect(ok.stdout).toContain('7 files: 3 messages, 1 media file, 2 hits, 3 review trail entries');
    expect(ok.stdout).toMatch(/signer: vigil-evidence, Ed25519 key SHA-256 [0-9a-f]{64} \(pinned key\)/);

    const json = await runVigil(['evidence', 'verify', file, '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, problems: [], signer: { trusted: null } });

    const photo = zip.indexOf(Buffer.from('fakejpeg', 'latin1'));
    const tampered = Buffer.from(zip);
    tampered[photo]! ^= 0x20;
    const bad = join(dir, 'tampered.zip');
    writeFileSync(bad, tampered);
    const failed = await runVigil(['evidence', 'verify', bad]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain('evidence package tampered.zip: FAILED');
    expect(failed.stdout).toContain('  - media/m2_1767225660/photo.jpg: SHA-256 mismatch');

    const untrusted = await runVigil(['evidence', 'verify', file, '--trusted-key', otherKey]);
    expect(untrusted.code).toBe(1);
    expect(untrusted.stdout).toMatch(
      /- signed by an untrusted key \(vigil-evidence, fingerprint [0-9a-f]{64}\)/,
    );
  });

  it('exits 2 on usage errors', async () => {
    const dir = tempDir();
    const missing = await runVigil(['evidence', 'verify']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("missing required argument 'file'");
    const absent = await runVigil(['evidence', 'verify', join(dir, 'nope.zip')]);
    expect(absent.code).toBe(2);
    expect(absent.stderr).toContain('cannot read evidence package');
    const notKey = join(dir, 'key.pem');
    writeFileSync(notKey, 'hello');
    const badKey = await runVigil(['evidence', 'verify', join(dir, 'nope.zip'), '--trusted-key', notKey]);
    expect(badKey.code).toBe(2);
    expect(badKey.stderr).toContain(`--trusted-key ${notKey}:`);
  });
});
