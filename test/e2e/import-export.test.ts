import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrate } from '../../src/platform/db/migrations.js';
import { createPool } from '../../src/platform/db/pool.js';
import { OrgRepository } from '../../src/org/org.repository.js';
import { cleanEnv, runVigil } from '../support/cli.js';
import { scratchDatabase } from '../support/db.js';

const message = (msgid: string, at: number, body: Record<string, unknown>) =>
  JSON.stringify({
    msgid,
    action: 'send',
    from: 'zhangsan',
    tolist: ['wmCust01'],
    roomid: '',
    msgtime: at,
    ...body,
  });

describe('vigil import and vigil export', () => {
  it('imports WeCom JSONL exactly once, rejects bad lines with reasons, and exports it back in order', async () => {
    const db = await scratchDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'vigil-import-'));
    const pool = createPool(db.url, { ssl: { mode: 'disable' }, poolMax: 2 });
    try {
      await migrate(pool);
      await new OrgRepository(pool).ensureCorp('acme', '某某公司', null);
      const lines = [
        message('i2', 1760000060000, { msgtype: 'text', text: { content: '第二条：合同已签' } }),
        message('i1', 1760000000000, {
          msgtype: 'file',
          file: { filename: '报价单.pdf', fileext: 'pdf', filesize: 10, md5sum: '', sdkfileid: '' },
        }),
        '{"msgid": "broken", "action": "send"',
        JSON.stringify({ action: 'send', msgtype: 'text' }),
        message('i3', 1760000120000, { msgtype: 'future_type', future_type: { x: 1 } }),
      ];
      const file = join(dir, 'old.jsonl');
      writeFileSync(file, lines.join('\n') + '\n');
      const env = cleanEnv({ DATABASE_URL: db.url, VIGIL__KEYRING__LOCAL__PATH: join(dir, 'keyring.json') });

      const first = await runVigil(['import', file, '--corp', 'acme'], { env });
      expect(first.code).toBe(0);
      expect(first.stdout).toContain('5 line(s): 3 imported, 0 already archived, 2 rejected');
      const rejects = readFileSync(`${file}.rejected.jsonl`, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { line: number; reason: string });
      expect(rejects.map((r) => r.line)).toEqual([3, 4]);
      expect(rejects[0]!.reason).toMatch(/malformed message JSON/);
      expect(rejects[1]!.reason).toMatch(/no msgid/);

      const again = await runVigil(['import', file, '--corp', 'acme'], { env });
      expect(again.stdout).toContain('0 imported, 3 already archived');

      // Exports need an export grant approved by a second person.
      const vigil = (...args: string[]) => runVigil(args, { env });
      for (const [username, role] of [
        ['officer', 'compliance_officer'],
        ['lead', 'compliance_lead'],
      ] as const)
        expect(
          (await vigil('users', 'create', '--username', username, '--role', role, '--corp', 'acme')).code,
        ).toBe(0);
      const unapproved = await vigil('export', '--corp', 'acme', '--as', 'officer', '--grant', '1');
      expect(unapproved.code).not.toBe(0);
      expect(unapproved.stderr).toContain('export grant');
      const requested = await vigil(
        'grants',
        'request',
        '--corp',
        'acme',
        '--as',
        'officer',
        '--actions',
        'export',
        '--reason',
        'migration to the new archive',
      );
      expect(requested.stdout).toContain('requested grant #1');
      expect((await vigil('grants', 'approve', '1', '--corp', 'acme', '--as', 'officer')).code).not.toBe(0);
      expect((await vigil('grants', 'approve', '1', '--corp', 'acme', '--as', 'lead')).stdout).toContain(
        '#1  active',
      );
      const exported = await vigil('export', '--corp', 'acme', '--as', 'officer', '--grant', '1');
      expect(exported.code, exported.stderr).toBe(0);
      const records = exported.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(records.map(({ _vigil, ...wecom }) => wecom)).toEqual(
        [lines[1], lines[0], lines[4]].map((l) => JSON.parse(l!)),
      );
      expect(records[0]!._vigil).toMatchObject({
        grant: '1',
        watermark: expect.stringMatching(/^officer · /),
      });
      expect(exported.stderr).toContain('exported 3 message(s)');
      const { rows } = await pool.query("SELECT msgtype, flags FROM messages WHERE msgid = 'i3'");
      expect(rows[0]).toEqual({ msgtype: 'future_type', flags: ['unknown_type'] }); // kept and flagged
    } finally {
      await pool.end();
      await db.drop();
    }
  });
});
