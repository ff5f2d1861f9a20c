import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createPool, withTransaction, type Pool } from '../platform/db/pool.js';
import { migrate } from '../platform/db/migrations.js';
import { scratchDatabase } from '../../test/support/db.js';
import { AuditLog } from './audit-log.js';
import { AuditService } from './audit.service.js';
import { ZERO_HASH, entryHash } from './canonical.js';
import { auditConfigSchema } from './config.js';
import { leafHash, rootFromInclusionProof, verifyConsistency, verifyInclusion } from './merkle.js';
import { parseCheckpoint } from './checkpoint.js';
import { localAuditSigner } from './signer.js';
import { verifyAuditLog } from './verify.js';

// Tampering needs a superuser disabling triggers: a database of its own, so other suites' logs
// are never touched.
let db: { url: string; drop(): Promise<void> };
let pool: Pool;
let log: AuditLog;
let dataDir: string;
let service: AuditService;

async function superuser(sql: string, params: unknown[] = []): Promise<void> {
  await withTransaction(pool, async (c) => {
    await c.query('ALTER TABLE audit_events DISABLE TRIGGER USER');
    await c.query(sql, params);
    await c.query('ALTER TABLE audit_events ENABLE TRIGGER USER');
  });
}

async function write(n: number): Promise<void> {
  for (let i = 0; i < n; i++)
    await withTransaction(pool, (c) =>
      log.record(c, {
        actor: `user:${i % 3}`,
        action: i % 2 ? 'content.read' : 'search',
        corpId: null,
        result: 'allowed',
        resourceType: 'conversation',
        resourceIds: [`c${i}`],
        details: { i, nested: { b: 2, a: [1, 'x'] } },
      }),
    );
}

beforeAll(async () => {
  db = await scratchDatabase();
  pool = createPool(db.url, { ssl: { mode: 'disable' }, poolMax: 8 });
  await migrate(pool);
  log = new AuditLog(pool);
  dataDir = mkdtempSync(join(tmpdir(), 'vigil-audit-'));
  service = new AuditService({
    pool,
    dataDir,
    config: auditConfigSchema.parse({ origin: 'test.vigil/audit' }),
    signer: await localAuditSigner(dataDir),
  });
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

beforeEach(async () => {
  rmSync(service.checkpointsFile, { force: true });
  await withTransaction(pool, async (c) => {
    await c.query('ALTER TABLE audit_events DISABLE TRIGGER USER');
    await c.query('ALTER TABLE audit_checkpoints DISABLE TRIGGER USER');
    await c.query('TRUNCATE audit_events, audit_checkpoints');
    await c.query('ALTER TABLE audit_events ENABLE TRIGGER USER');
    await c.query('ALTER TABLE audit_checkpoints ENABLE TRIGGER USER');
  });
});

describe('audit chain', () => {
  it('chains entries from seq 1 and verifies clean', async () => {
    await write(10);
    const { rows } = await pool.query<{ seq: string; prev_hash: Buffer; hash: Buffer }>(
      'SELECT seq, prev_hash, hash FROM audit_events ORDER BY seq',
    );
    expect(rows.map((r) => r.seq)).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10']);
    expect(rows[0]!.prev_hash.equals(ZERO_HASH)).toBe(true);
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.prev_hash.equals(rows[i - 1]!.hash)).toBe(true);
    const report = await verifyAuditLog(pool);
    expect(report).toMatchObject({ ok: true, checked: 10, first: '1', last: '10', treeSize: 10 });
  });

  it('refuses UPDATE, DELETE and TRUNCATE through the trigger', async () => {
    await write(2);
    await expect(pool.query("UPDATE audit_events SET actor = 'x' WHERE seq = 1")).rejects.toThrow(
      /append-only/,
    );
    await expect(pool.query('DELETE FROM audit_events WHERE seq = 1')).rejects.toThrow(/append-only/);
    await expect(pool.query('TRUNCATE audit_events')).rejects.toThrow(/append-only/);
    // The purge flag alone does not open DELETE to a session without the purge function's checks…
    await expect(pool.query('SELECT audit_purge(1)')).rejects.toThrow(/younger than the minimum retention/);
    expect((await verifyAuditLog(pool)).ok).toBe(true);
  });

  it('rolls back with the caller transaction and leaves no gap', async () => {
    await write(1);
    await expect(
      withTransaction(pool, async (c) => {
        await log.record(c, { actor: 'system', action: 'config.change', result: 'allowed' });
        throw new Error('action failed');
      }),
    ).rejects.toThrow('action failed');
    await log.recordStandalone({ actor: 'user:9', action: 'content.read', result: 'denied' });
    const report = await verifyAuditLog(pool);
    expect(report).toMatchObject({ ok: true, last: '2' });
    await expect(log.record(pool, { actor: 'system', action: 'x', result: 'allowed' })).rejects.toThrow(
      /transaction client/,
    );
  });

  it('refuses content in details', async () => {
    await expect(
      log.recordStandalone({
        actor: 'system',
        action: 'content.read',
        result: 'allowed',
        details: { content: '回扣' },
      }),
    ).rejects.toThrow(/must not carry "content"/);
  });

  it('stays gapless under concurrent writers', async () => {
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        withTransaction(pool, async (c) => {
          await c.query('SELECT pg_sleep(0.001 * $1)', [i % 4]);
          await log.record(c, { actor: `user:${i}`, action: 'search', result: 'allowed', details: { i } });
        }),
      ),
    );
    const report = await verifyAuditLog(pool);
    expect(report).toMatchObject({ ok: true, checked: 40, last: '40' });
  });

  it('names an entry altered by UPDATE with the trigger disabled', async () => {
    await write(8);
    await superuser(`UPDATE audit_events SET details = '{"i": 99}' WHERE seq = 5`);
    const report = await verifyAuditLog(pool);
    expect(report.ok).toBe(false);
    expect(report.firstProblem).toMatchObject({ seq: '5', kind: 'altered' });
  });

  it('names an entry altered and re-hashed by the link its successor holds', async () => {
    await write(8);
    const row = (await pool.query('SELECT * FROM audit_events WHERE seq = 4')).rows[0];
    const forged = {
      seq: '4',
      kind: row.kind,
      corpId: row.corp_id,
      occurredAt: row.occurred_at,
      actor: 'user:innocent',
      actorIp: row.actor_ip,
      action: row.action,
      resourceType: row.resource_type,
      resourceIds: row.resource_ids,
      reason: row.reason,
      result: row.result,
      details: row.details,
      prevHash: row.prev_hash,
    };
    await superuser('UPDATE audit_events SET actor = $1, hash = $2 WHERE seq = 4', [
      'user:innocent',
      entryHash(forged),
    ]);
    const report = await verifyAuditLog(pool);
    expect(report.firstProblem).toMatchObject({ seq: '4', kind: 'altered' });
  });

  it('names a deleted entry', async () => {
    await write(8);
    await superuser('DELETE FROM audit_events WHERE seq = 3');
    const report = await verifyAuditLog(pool);
    expect(report.firstProblem).toMatchObject({ seq: '3', kind: 'removed' });
  });

  it('names a forged entry appended without the chain', async () => {
    await write(5);
    await pool.query(
      `INSERT INTO audit_events (seq, occurred_at, actor, action, result, prev_hash, hash)
       VALUES (6, now(), 'user:1', 'grant.approve', 'allowed', $1, $2)`,
      [Buffer.alloc(32, 1), Buffer.alloc(32, 2)],
    );
    const report = await verifyAuditLog(pool);
    expect(report.firstProblem).toMatchObject({ seq: '6', kind: 'altered' });
  });

  it('names an entry inserted into history with later entries renumbered', async () => {
    await write(8);
    const prev = (await pool.query<{ hash: Buffer }>('SELECT hash FROM audit_events WHERE seq = 4')).rows[0]!
      .hash;
    const forged = {
      seq: '5',
      kind: 'event' as const,
      corpId: null,
      occurredAt: new Date(),
      actor: 'user:1',
      actorIp: null,
      action: 'grant.approve',
      resourceType: null,
      resourceIds: [],
      reason: 'backdated approval',
      result: 'allowed' as const,
      details: {},
      prevHash: prev,
    };
    await withTransaction(pool, async (c) => {
      await c.query('ALTER TABLE audit_events DISABLE TRIGGER USER');
      await c.query('UPDATE audit_events SET seq = seq + 1000 WHERE seq >= 5');
      await c.query('UPDATE audit_events SET seq = seq - 999 WHERE seq >= 1000');
      await c.query(
        `INSERT INTO audit_events (seq, occurred_at, actor, action, reason, result, prev_hash, hash)
         VALUES (5, $1, 'user:1', 'grant.approve', 'backdated approval', 'allowed', $2, $3)`,
        [forged.occurredAt, prev, entryHash(forged)],
      );
      await c.query('ALTER TABLE audit_events ENABLE TRIGGER USER');
    });
    const report = await verifyAuditLog(pool);
    expect(report.firstProblem).toMatchObject({ seq: '5', kind: 'inserted' });
    // One insertion is one problem, not one per shifted entry.
    expect(report.problems.filter((p) => p.kind === 'inserted')).toHaveLength(1);
  });

  it('names entries whose seqs were swapped', async () => {
    await write(8);
    await withTransaction(pool, async (c) => {
      await c.query('ALTER TABLE audit_events DISABLE TRIGGER USER');
      await c.query('UPDATE audit_events SET seq = 1000 WHERE seq = 3');
      await c.query('UPDATE audit_events SET seq = 3 WHERE seq = 6');
      await c.query('UPDATE audit_events SET seq = 6 WHERE seq = 1000');
      await c.query('ALTER TABLE audit_events ENABLE TRIGGER USER');
    });
    const report = await verifyAuditLog(pool);
    expect(report.firstProblem).toMatchObject({ seq: '3', kind: 'reordered' });
    expect(report.firstProblem!.message).toContain('written as seq 6');
  });
});

describe('audit checkpoints and proofs', () => {
  it('signs, stores and exports checkpoints; proves inclusion and consistency (RFC 6962)', async () => {
    await write(5);
    const first = await service.checkpoint();
    expect(first).toMatchObject({ created: true, published: 1 });
    expect(first.checkpoint.treeSize).toBe(5);
    expect((await service.checkpoint()).created).toBe(false);
    await write(6);
    const second = await service.checkpoint();
    expect(second.checkpoint.treeSize).toBe(11);

    const lines = readFileSync(service.checkpointsFile, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(2);
    const exported = parseCheckpoint(JSON.parse(lines[1]!).note).checkpoint;
    expect(exported).toMatchObject({ origin: 'test.vigil/audit', size: 11 });

    const { proof } = await service.proveInclusion(7);
    const entry = (await pool.query<{ hash: Buffer }>('SELECT hash FROM audit_events WHERE seq = 7')).rows[0]!
      .hash;
    const path = proof.proof.map((h) => Buffer.from(h, 'hex'));
    expect(verifyInclusion(6, 11, leafHash(entry), path, exported.rootHash)).toBe(true);
    expect(rootFromInclusionProof(5, 11, leafHash(entry), path)?.equals(exported.rootHash)).toBe(false);

    const consistency = await service.proveConsistency(first.checkpoint.id, second.checkpoint.id);
    expect(
      verifyConsistency(
        5,
        11,
        first.checkpoint.rootHash,
        second.checkpoint.rootHash,
        consistency.proof.map((h) => Buffer.from(h, 'hex')),
      ),
    ).toBe(true);

    const report = await service.verify({ checkpointsFile: service.checkpointsFile });
    expect(report).toMatchObject({ ok: true, checkpointsChecked: 4 });
  });

  it('catches a log rebuilt consistently after a checkpoint left the database', async () => {
    await write(6);
    await service.checkpoint();
    const file = service.checkpointsFile;
    // A superuser rewrites entry 2 and re-hashes the whole chain after it, and drops the stored
    // checkpoint: the chain verifies, the exported checkpoint does not.
    const { rows } = await pool.query('SELECT * FROM audit_events ORDER BY seq');
    let prev: Buffer = ZERO_HASH;
    await withTransaction(pool, async (c) => {
      await c.query('ALTER TABLE audit_events DISABLE TRIGGER USER');
      await c.query('ALTER TABLE audit_checkpoints DISABLE TRIGGER USER');
      await c.query('DELETE FROM audit_checkpoints');
      for (const r of rows) {
        const e = {
          seq: r.seq,
          kind: r.kind,
          corpId: r.corp_id,
          occurredAt: r.occurred_at,
          actor: r.seq === '2' ? 'user:someone-else' : r.actor,
          actorIp: r.actor_ip,
          action: r.action,
          resourceType: r.resource_type,
          resourceIds: r.resource_ids,
          reason: r.reason,
          result: r.result,
          details: r.details,
          prevHash: prev,
        };
        const hash = entryHash(e);
        await c.query('UPDATE audit_events SET actor = $1, prev_hash = $2, hash = $3 WHERE seq = $4', [
          e.actor,
          prev,
          hash,
          r.seq,
        ]);
        prev = hash;
      }
      await c.query('ALTER TABLE audit_events ENABLE TRIGGER USER');
      await c.query('ALTER TABLE audit_checkpoints ENABLE TRIGGER USER');
    });
    expect((await verifyAuditLog(pool)).ok).toBe(true);
    const report = await service.verify({ checkpointsFile: file });
    expect(report.ok).toBe(false);
    expect(report.firstProblem).toMatchObject({ kind: 'checkpoint', seq: '1' });
    expect(report.firstProblem!.message).toContain('1..6');
  });

  it('detects truncation of the newest entries against a checkpoint', async () => {
    await write(6);
    await service.checkpoint();
    await superuser('DELETE FROM audit_events WHERE seq >= 5');
    const report = await verifyAuditLog(pool);
    expect(report.firstProblem).toMatchObject({ kind: 'removed', seq: '5' });
  });

  it('purges old entries behind an anchor and still verifies and proves', async () => {
    const old = new Date(Date.now() - 400 * 86_400_000);
    for (let i = 0; i < 7; i++)
      await withTransaction(pool, (c) =>
        log.record(c, { actor: 'user:1', action: 'search', result: 'allowed', occurredAt: old }),
      );
    await write(4);
    await service.checkpoint();
    const purge = new AuditService({
      pool,
      dataDir,
      config: auditConfigSchema.parse({ origin: 'test.vigil/audit', retentionDays: 365 }),
      signer: await localAuditSigner(dataDir),
    });
    expect(await purge.purge()).toEqual({ purgedThrough: '7', deleted: 7 });
    expect((await pool.query('SELECT min(seq) AS m FROM audit_events')).rows[0].m).toBe('8');
    const report = await purge.verify();
    expect(report).toMatchObject({ ok: true, first: '8', last: '12', treeSize: 12 });
    await write(2);
    const cp = await purge.checkpoint();
    expect(cp.checkpoint.treeSize).toBe(14);
    const { proof } = await purge.proveInclusion(9);
    expect(proof.treeSize).toBe(14);
    expect((await purge.verify()).ok).toBe(true);
    await expect(purge.proveInclusion(3)).rejects.toThrow(/purged/);
  });

  it('exports JSONL and RFC 5424 lines', async () => {
    await write(3);
    const jsonl: string[] = [];
    await service.export({ format: 'jsonl' }, (l) => void jsonl.push(l));
    expect(jsonl).toHaveLength(3);
    expect(JSON.parse(jsonl[0]!)).toMatchObject({ seq: '1', actor: 'user:0', action: 'search' });
    const syslog: string[] = [];
    await service.export(
      { format: 'syslog', since: new Date(Date.now() - 60_000) },
      (l) => void syslog.push(l),
    );
    expect(syslog[1]).toMatch(
      /^<110>1 \d{4}-\d\d-\d\dT[\d:.]+Z \S+ vigil - content\.read \[vigil@32473 seq="2" kind="event" actor="user:1" result="allowed"/,
    );
  });

  it('enforces the minimum retention in the config schema', () => {
    expect(auditConfigSchema.parse({}).retentionDays).toBe(1095);
    expect(() => auditConfigSchema.parse({ retentionDays: 90 })).toThrow(/at least 180 days/);
  });
});
