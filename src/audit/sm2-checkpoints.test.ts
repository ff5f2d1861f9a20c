import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AUDIT_SM2_SECRET, keyringAuditSigner } from '../crypto/keyring-services.js';
import { openOrCreateLocalKeyring } from '../crypto/keyring/local.js';
import type { Keyring } from '../crypto/keyring/types.js';
import { createPool, withTransaction, type Pool } from '../platform/db/pool.js';
import { migrate } from '../platform/db/migrations.js';
import { scratchDatabase } from '../../test/support/db.js';
import { cleanEnv, runVigil } from '../../test/support/cli.js';
import { AuditLog } from './audit-log.js';
import { AuditService } from './audit.service.js';
import { parseCheckpoint, parseVerifierKey, verifyCheckpoint, verifyNoteSigners } from './checkpoint.js';
import { auditConfigSchema } from './config.js';
import { leafHash, verifyConsistency, verifyInclusion } from './merkle.js';
import { localAuditSigner, type AuditSigner } from './signer.js';
import { SM2_CURVE, sm2PublicKeyToSpki, sm2SignatureToDer } from './sm2.js';

// The whole audit path with `audit.signature: sm2`: keyring key, checkpoints, export, verification
// (service and `vigil audit …`), proofs, tampering, and a log that switched from Ed25519.
let db: { url: string; drop(): Promise<void> };
let pool: Pool;
let log: AuditLog;
let dir: string;
let dataDir: string;
let keyring: Keyring;

const ORIGIN = 'test.vigil/audit';
const edConfig = auditConfigSchema.parse({ origin: ORIGIN });
const sm2Config = auditConfigSchema.parse({ origin: ORIGIN, signature: 'sm2' });

const service = (signature: 'ed25519' | 'sm2', signer?: AuditSigner) =>
  new AuditService({
    pool,
    dataDir,
    config: signature === 'sm2' ? sm2Config : edConfig,
    signer: signer ?? (() => keyringAuditSigner(keyring, 'vigil-audit', signature)),
  });

async function write(n: number): Promise<void> {
  for (let i = 0; i < n; i++)
    await withTransaction(pool, (c) =>
      log.record(c, { actor: `user:${i}`, action: 'content.read', result: 'allowed', details: { i } }),
    );
}

async function superuser(sql: string, params: unknown[] = []): Promise<void> {
  await withTransaction(pool, async (c) => {
    await c.query('ALTER TABLE audit_checkpoints DISABLE TRIGGER USER');
    await c.query(sql, params);
    await c.query('ALTER TABLE audit_checkpoints ENABLE TRIGGER USER');
  });
}

/** The note with the signature bytes of its (first) signature line replaced by `edit(sig)`. */
function editSignature(note: string, edit: (sig: Buffer) => Buffer): string {
  const { body, signatures } = parseCheckpoint(note);
  const s = signatures[0]!;
  const raw = Buffer.concat([s.keyId, edit(Buffer.from(s.signature))]);
  return `${body}\n\u2014 ${s.name} ${raw.toString('base64')}\n`;
}

const flipBit = (sig: Buffer) => ((sig[40]! ^= 0x01), sig);
const negateS = (sig: Buffer) =>
  Buffer.concat([
    sig.subarray(0, 32),
    Buffer.from(
      (SM2_CURVE.n - BigInt(`0x${sig.subarray(32).toString('hex')}`)).toString(16).padStart(64, '0'),
      'hex',
    ),
  ]);

beforeAll(async () => {
  db = await scratchDatabase();
  pool = createPool(db.url, { ssl: { mode: 'disable' }, poolMax: 4 });
  await migrate(pool);
  log = new AuditLog(pool);
  dir = mkdtempSync(join(tmpdir(), 'vigil-sm2-audit-'));
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

let run = 0;
beforeEach(async () => {
  dataDir = join(dir, `data${run++}`);
  keyring = await openOrCreateLocalKeyring({ path: join(dataDir, 'keys', 'keyring.json') });
  await withTransaction(pool, async (c) => {
    await c.query('ALTER TABLE audit_events DISABLE TRIGGER USER');
    await c.query('ALTER TABLE audit_checkpoints DISABLE TRIGGER USER');
    await c.query('TRUNCATE audit_events, audit_checkpoints');
    await c.query('ALTER TABLE audit_events ENABLE TRIGGER USER');
    await c.query('ALTER TABLE audit_checkpoints ENABLE TRIGGER USER');
  });
});

describe('SM2 key in the keyring', () => {
  it('is created once under audit/sm2/default (insert-if-absent), beside the Ed25519 key', async () => {
    const [a, b] = await Promise.all([
      keyringAuditSigner(keyring, 'vigil-audit', 'sm2'),
      keyringAuditSigner(keyring, 'vigil-audit', 'sm2'),
    ]);
    expect(a.algorithm).toBe('sm2');
    expect(a.publicKey).toHaveLength(65);
    expect(b.publicKey).toEqual(a.publicKey);
    expect(await keyring.listSecrets('audit/')).toEqual([AUDIT_SM2_SECRET]);
    expect(a.previousVerifierKeys).toEqual([]);
    expect((await keyringAuditSigner(keyring, 'vigil-audit', 'sm2')).publicKey).toEqual(a.publicKey);

    // The other algorithm's key, once it exists, stays trusted either way round.
    const ed = await keyringAuditSigner(keyring, 'vigil-audit');
    expect(ed.publicKey).toHaveLength(32);
    expect(await keyring.listSecrets('audit/')).toEqual(['audit/ed25519/default', AUDIT_SM2_SECRET]);
    const sm2 = await keyringAuditSigner(keyring, 'vigil-audit', 'sm2');
    expect(parseVerifierKey(ed.previousVerifierKeys![0]!)).toMatchObject({ algorithm: 'sm2' });
    expect(parseVerifierKey(ed.previousVerifierKeys![0]!).publicKey).toEqual(a.publicKey);
    expect(parseVerifierKey(sm2.previousVerifierKeys![0]!)).toMatchObject({ algorithm: 'ed25519' });
    expect(parseVerifierKey(sm2.previousVerifierKeys![0]!).publicKey).toEqual(ed.publicKey);

    // The stored secret is an ordinary SM2 PKCS#8 key: OpenSSL verifies what the signer signs.
    const der = (await keyring.getSecret(AUDIT_SM2_SECRET))!;
    const keyFile = join(dataDir, 'sm2.der');
    writeFileSync(keyFile, der);
    const pub = join(dataDir, 'pub.pem');
    execFileSync('openssl', ['pkey', '-inform', 'DER', '-in', keyFile, '-pubout', '-out', pub]);
    expect(readFileSync(pub, 'utf8')).toContain(
      sm2PublicKeyToSpki(a.publicKey).toString('base64').slice(0, 60),
    );
    const msg = Buffer.from('vigil/audit\n1\nabc=\n');
    writeFileSync(join(dataDir, 'msg'), msg);
    writeFileSync(join(dataDir, 'sig'), sm2SignatureToDer(await a.sign(msg)));
    const out = execFileSync('openssl', [
      ...['pkeyutl', '-verify', '-pubin', '-inkey', pub, '-rawin', '-digest', 'sm3'],
      ...['-in', join(dataDir, 'msg'), '-sigfile', join(dataDir, 'sig')],
      ...['-pkeyopt', 'distid:1234567812345678'],
    ]);
    expect(out.toString()).toContain('Signature Verified Successfully');
  });

  it('local PEM keys work for SM2 as well (dataDir/keys/audit-signing-sm2.pem, mode 0600)', async () => {
    const local = await localAuditSigner(dataDir, 'vigil-audit', 'sm2');
    const again = await localAuditSigner(dataDir, 'vigil-audit', 'sm2');
    expect(again.publicKey).toEqual(local.publicKey);
    const pem = join(dataDir, 'keys', 'audit-signing-sm2.pem');
    const text = execFileSync('openssl', ['pkey', '-in', pem, '-noout', '-text']).toString();
    expect(text).toContain('ASN1 OID: SM2');
    const s = service('sm2', local);
    await write(2);
    const { checkpoint } = await s.checkpoint();
    expect(checkpoint.signatureAlg).toBe('sm2');
    expect((await s.verify()).ok).toBe(true);
  });
});

describe('checkpoints with audit.signature: sm2', () => {
  it('signs, records the algorithm, exports, verifies and proves; Ed25519 checkpoints stay verifiable', async () => {
    await write(4);
    const before = await service('ed25519').checkpoint();
    expect(before.checkpoint.signatureAlg).toBe('ed25519');
    await write(3);
    const sm2 = service('sm2');
    const after = await sm2.checkpoint();
    expect(after).toMatchObject({ created: true, published: 1 });
    expect(after.checkpoint).toMatchObject({ treeSize: 7, signatureAlg: 'sm2' });
    const { rows } = await pool.query('SELECT signature_alg FROM audit_checkpoints ORDER BY id');
    expect(rows.map((r) => r.signature_alg)).toEqual(['ed25519', 'sm2']);
    const lines = readFileSync(sm2.checkpointsFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.alg)).toEqual(['ed25519', 'sm2']);

    // The note verifies under the SM2 key (and only under it); the trust list has both keys.
    const sm2Key = await sm2.verifierKey();
    const [, edKey] = await sm2.trustedVerifierKeys();
    expect(parseVerifierKey(sm2Key).algorithm).toBe('sm2');
    expect(parseVerifierKey(edKey!).algorithm).toBe('ed25519');
    expect(verifyCheckpoint(after.checkpoint.note, [sm2Key], { origin: ORIGIN }).size).toBe(7);
    expect(() => verifyCheckpoint(after.checkpoint.note, [edKey!])).toThrow(
      /no signature from a trusted key/,
    );
    expect(() => verifyCheckpoint(before.checkpoint.note, [sm2Key])).toThrow(
      /no signature from a trusted key/,
    );

    const report = await sm2.verify({ checkpointsFile: sm2.checkpointsFile });
    expect(report).toMatchObject({ ok: true, treeSize: 7, checkpointsChecked: 4 });

    // Proofs: inclusion in the SM2 checkpoint, consistency from the Ed25519 one to it.
    const { checkpoint, proof } = await sm2.proveInclusion(6);
    const signed = verifyCheckpoint(checkpoint.note, [sm2Key], { origin: ORIGIN });
    const entry = (await pool.query<{ hash: Buffer }>('SELECT hash FROM audit_events WHERE seq = 6'))
      .rows[0]!;
    const path = proof.proof.map((h) => Buffer.from(h, 'hex'));
    expect(verifyInclusion(5, 7, leafHash(entry.hash), path, signed.rootHash)).toBe(true);
    expect(verifyInclusion(4, 7, leafHash(entry.hash), path, signed.rootHash)).toBe(false);
    const consistency = await sm2.proveConsistency(before.checkpoint.id, after.checkpoint.id);
    const old = verifyCheckpoint(before.checkpoint.note, [edKey!]);
    expect(
      verifyConsistency(
        old.size,
        signed.size,
        old.rootHash,
        signed.rootHash,
        consistency.proof.map((h) => Buffer.from(h, 'hex')),
      ),
    ).toBe(true);

    // Without the earlier key, the Ed25519 checkpoints are reported, not silently skipped.
    const only = { ...(await keyringAuditSigner(keyring, 'vigil-audit', 'sm2')), previousVerifierKeys: [] };
    const strict = await service('sm2', only).verify({ checkpointsFile: sm2.checkpointsFile });
    expect(strict.ok).toBe(false);
    expect(strict.problems.map((p) => p.kind)).toEqual(['signature', 'signature']);
    expect(strict.problems[0]!.message).toMatch(/no signature from a trusted key/);
  });

  it('reports a tampered SM2 checkpoint signature, stored or exported, and a wrong recorded algorithm', async () => {
    await write(5);
    const sm2 = service('sm2');
    const { checkpoint } = await sm2.checkpoint();
    const file = sm2.checkpointsFile;
    expect((await sm2.verify({ checkpointsFile: file })).ok).toBe(true);

    for (const edit of [flipBit, negateS]) {
      const tampered = editSignature(checkpoint.note, edit);
      await superuser('UPDATE audit_checkpoints SET note = $1 WHERE id = $2', [tampered, checkpoint.id]);
      const report = await sm2.verify();
      expect(report.ok).toBe(false);
      expect(report.firstProblem).toMatchObject({ kind: 'signature', seq: '5' });
      expect(report.firstProblem!.message).toBe(
        `stored checkpoint #${checkpoint.id}: invalid sm2 signature by vigil-audit`,
      );
    }
    await superuser('UPDATE audit_checkpoints SET note = $1 WHERE id = $2', [checkpoint.note, checkpoint.id]);

    const line = JSON.parse(readFileSync(file, 'utf8').trim());
    writeFileSync(file, JSON.stringify({ ...line, note: editSignature(line.note, flipBit) }) + '\n');
    const exported = await sm2.verify({ checkpointsFile: file });
    expect(exported.ok).toBe(false);
    expect(exported.problems).toEqual([
      {
        seq: '5',
        kind: 'signature',
        message: `exported checkpoint ${file}:1: invalid sm2 signature by vigil-audit`,
      },
    ]);
    writeFileSync(file, JSON.stringify(line) + '\n');

    // The row says Ed25519 but only an SM2 signature verifies: reported too.
    await superuser("UPDATE audit_checkpoints SET signature_alg = 'ed25519' WHERE id = $1", [checkpoint.id]);
    const mislabelled = await sm2.verify({ checkpointsFile: file });
    expect(mislabelled.problems).toEqual([
      expect.objectContaining({
        kind: 'signature',
        message: expect.stringMatching(/recorded as ed25519 but no trusted ed25519 signature verifies/),
      }),
    ]);
    expect(verifyNoteSigners(checkpoint.note, await sm2.trustedVerifierKeys()).verifiedBy).toHaveLength(1);
  });

  it('refuses to sign when audit.signature and the signer disagree', async () => {
    await write(1);
    const ed = await keyringAuditSigner(keyring, 'vigil-audit');
    await expect(service('sm2', ed).checkpoint()).rejects.toThrow(
      'audit.signature is sm2 but the checkpoint signer uses ed25519',
    );
    expect((await pool.query('SELECT count(*)::int AS n FROM audit_checkpoints')).rows[0].n).toBe(0);
  });
});

describe('vigil audit … with VIGIL__AUDIT__SIGNATURE=sm2', () => {
  it('checkpoints with the keyring SM2 key; verify and prove accept it; a tampered signature fails', async () => {
    await write(5);
    const env = cleanEnv({
      DATABASE_URL: db.url,
      VIGIL_DATA_DIR: dataDir,
      VIGIL__AUDIT__SIGNATURE: 'sm2',
      VIGIL__AUDIT__ORIGIN: ORIGIN,
    });
    const cp = await runVigil(['audit', 'checkpoint'], { env });
    expect(cp.stderr).toBe('');
    expect(cp.code).toBe(0);
    expect(cp.stdout).toContain('new checkpoint #');
    const vkey = /verifier key: (\S+)/.exec(cp.stdout)![1]!;
    expect(parseVerifierKey(vkey).algorithm).toBe('sm2');
    const reopened = await openOrCreateLocalKeyring({ path: join(dataDir, 'keys', 'keyring.json') });
    expect(await reopened.listSecrets('audit/')).toEqual([AUDIT_SM2_SECRET]);
    const { rows } = await pool.query('SELECT id, note, signature_alg FROM audit_checkpoints');
    expect(rows).toHaveLength(1);
    expect(rows[0].signature_alg).toBe('sm2');
    expect(verifyCheckpoint(rows[0].note, [vkey], { origin: ORIGIN }).size).toBe(5);

    const ok = await runVigil(['audit', 'verify'], { env });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^audit log OK: 5 entries 1\.\.5, tree size 5, .*2 checkpoint\(s\) matched/);

    const prove = await runVigil(['audit', 'prove', '--seq', '3'], { env });
    expect(prove.code).toBe(0);
    const { checkpoint, proof } = JSON.parse(prove.stdout);
    const signed = verifyCheckpoint(checkpoint.note, [vkey], { origin: ORIGIN });
    const path = (proof.proof as string[]).map((h) => Buffer.from(h, 'hex'));
    expect(verifyInclusion(2, 5, Buffer.from(proof.leafHash, 'hex'), path, signed.rootHash)).toBe(true);

    const file = join(dataDir, 'audit', 'checkpoints.log');
    const line = JSON.parse(readFileSync(file, 'utf8').trim());
    expect(line.alg).toBe('sm2');
    writeFileSync(file, JSON.stringify({ ...line, note: editSignature(line.note, flipBit) }) + '\n');
    const bad = await runVigil(['audit', 'verify'], { env });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('audit log FAILED');
    expect(bad.stdout).toContain(
      `first problem: entry 5 (signature): exported checkpoint ${file}:1: invalid sm2 signature by vigil-audit`,
    );
  });
});
