import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArchiveService } from '../../src/archive/archive.service.js';
import { PgDekStore } from '../../src/crypto/dek.repository.js';
import { EnvelopeService } from '../../src/crypto/envelope.js';
import { openOrCreateLocalKeyring } from '../../src/crypto/keyring/local.js';
import { migrate } from '../../src/platform/db/migrations.js';
import { createPool } from '../../src/platform/db/pool.js';
import { OrgRepository } from '../../src/org/org.repository.js';
import { textMessage } from '../support/archive.js';
import { cleanEnv, runVigil } from '../support/cli.js';
import { scratchDatabase } from '../support/db.js';

describe('vigil keys and vigil search', () => {
  it('rotates with progress, shows coverage, shreds with a dry run, and searches', async () => {
    const db = await scratchDatabase();
    const keyPath = join(mkdtempSync(join(tmpdir(), 'vigil-cli-keys-')), 'keyring.json');
    const pool = createPool(db.url, { ssl: { mode: 'disable' }, poolMax: 2 });
    try {
      await migrate(pool);
      const keyring = await openOrCreateLocalKeyring({ path: keyPath });
      const archive = new ArchiveService(
        pool,
        new EnvelopeService({ keyring, store: new PgDekStore(pool) }),
        keyring,
      );
      const org = new OrgRepository(pool);
      const corp = await org.ensureCorp('acme', '某某公司', null);
      await org.upsertEmployees([
        {
          corpId: corp.id,
          userid: 'zhangsan',
          name: '张三',
          departmentIds: [],
          mainDepartment: null,
          leaderOf: [],
          position: null,
          status: 1,
          sensitivePost: false,
        },
      ]);
      await archive.storeBatch(corp.id, [
        textMessage('k1', '这单回扣按老规矩走', new Date('2026-08-03T02:00:00Z')),
        textMessage('k2', '发票下周开', new Date('2026-09-03T02:00:00Z')),
      ]);
      await keyring.close();

      const env = cleanEnv({ DATABASE_URL: db.url, VIGIL__KEYRING__LOCAL__PATH: keyPath });
      const rotate = await runVigil(['keys', 'rotate'], { env });
      expect(rotate.code).toBe(0);
      expect(rotate.stdout).toMatch(/created KEK version 2; rewrap job #\d+ queued/);
      expect(rotate.stdout).toMatch(/rewrap complete: .*"rewrapped":2/);
      expect(rotate.stderr).toMatch(/rewrapping data keys: 2\/2/);

      const status = await runVigil(['keys', 'status'], { env });
      expect(status.stdout).toContain('current KEK version: 2');
      expect(status.stdout).toMatch(/^2\s+active\s+2/m);
      expect(status.stdout).toContain('data keys awaiting rewrap: 0');

      // Searches run as a user through the access service: Zhang San sees his own conversations.
      const created = await runVigil(
        [
          'users',
          'create',
          '--username',
          'zhangsan',
          '--role',
          'employee',
          '--corp',
          'acme',
          '--employee',
          'zhangsan',
        ],
        { env },
      );
      expect(created.code, created.stderr).toBe(0);
      const search = (q: string) => runVigil(['search', '--corp', 'acme', '--as', 'zhangsan', q], { env });
      const found = await search('回扣');
      expect(found.code).toBe(0);
      expect(found.stdout).toContain('k1');
      expect(found.stdout).toContain('【回扣】');
      expect(found.stdout).toContain('1 result(s)');

      const dry = await runVigil(['keys', 'shred', '--corp', 'acme', '--through', '2026-08', '--dry-run'], {
        env,
      });
      expect(dry.stdout).toMatch(/2026-08 standard\s+1 messages\s+would destroy/);
      expect(dry.stdout).toContain('dry run: 1 scope(s) would be destroyed');
      const shred = await runVigil(['keys', 'shred', '--corp', 'acme', '--through', '2026-08'], { env });
      expect(shred.stdout).toContain('destroyed 1 data key(s)');
      const after = await search('回扣');
      expect(after.stdout).toContain('0 result(s)'); // a shredded scope's index is cleared too
      const listing = await search('');
      expect(listing.stdout).toMatch(/k1 {2}zhangsan {2}text {2}\[destroyed by retention\]/);
      const invoice = await search('发票');
      const { rows } = await pool.query(
        "SELECT count(*)::int AS n FROM audit_events WHERE action = 'content.search' AND details->>'via' = 'cli'",
      );
      expect(rows[0].n).toBe(4); // every search audited under the user
      expect(invoice.stdout).toContain('【发票】');
    } finally {
      await pool.end();
      await db.drop();
    }
  });
});
