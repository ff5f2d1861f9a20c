import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { scratchDatabase } from '../../../test/support/db.js';
import { ArchiveService } from '../../archive/archive.service.js';
import { policiesCommand } from '../../cli/policies.js';
import { PgDekStore } from '../../crypto/dek.repository.js';
import { EnvelopeService } from '../../crypto/envelope.js';
import { openOrCreateLocalKeyring } from '../../crypto/keyring/local.js';
import { OrgRepository } from '../../org/org.repository.js';
import { migrate } from '../../platform/db/migrations.js';
import { createPool } from '../../platform/db/pool.js';
import { groupMessage } from './test-helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** Runs `vigil policies …` in this process, returning what it printed on stdout. */
async function run(args: string[]): Promise<string> {
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += chunk.toString();
    return true;
  });
  try {
    await policiesCommand().exitOverride().parseAsync(args, { from: 'user' });
  } finally {
    spy.mockRestore();
  }
  return out;
}

describe('vigil policies', () => {
  it('installs templates, enables, saves and back-tests a policy file', async () => {
    const db = await scratchDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'vigil-policies-'));
    const keyPath = join(dir, 'keyring.json');
    const pool = createPool(db.url, { ssl: { mode: 'disable' }, poolMax: 2 });
    cleanups.push(db.drop, () => pool.end());
    await migrate(pool);
    const keyring = await openOrCreateLocalKeyring({ path: keyPath });
    const archive = new ArchiveService(
      pool,
      new EnvelopeService({ keyring, store: new PgDekStore(pool) }),
      keyring,
    );
    const corp = await new OrgRepository(pool).ensureCorp('acme', '某某公司', null);
    await archive.storeBatch(
      corp.id,
      Array.from({ length: 6 }, (_, i) =>
        groupMessage(`c${i}`, i < 4 ? '回扣照旧' : '你好', new Date(Date.UTC(2026, 5, 1, 2, i))),
      ),
    );
    await keyring.close();
    vi.stubEnv('DATABASE_URL', db.url);
    vi.stubEnv('VIGIL__KEYRING__LOCAL__PATH', keyPath);
    vi.stubEnv('VIGIL_LOG_LEVEL', 'warn');
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await run(['install-templates', '--corp', 'acme'])).toMatch(/8 installed .*0 skipped/);
      const list = await run(['list', '--corp', 'acme']);
      expect(list).toMatch(/disabled\s+v1\s+corp \d+\s+bribery\s+商业贿赂与回扣/);
      const id = /^\s*(\d+)\s+disabled.*bribery/m.exec(list)![1]!;
      expect(await run(['enable', id])).toMatch(/enabled\s+v1/);

      const file = join(dir, 'draft.yaml');
      writeFileSync(
        file,
        'id: draft\nname: 草稿\nlexicons: [{ id: w, terms: [回扣] }]\nrules:\n  - { id: draft.w, name: 词, category: bribery, severity: high, when: { lexicon: w } }\n',
      );
      const out = await run(['backtest', '--policy', file, '--corp', 'acme', '--from', '2026-06-01']);
      expect(out).toContain('6 message(s) scanned, 4 hit(s), 1 finding(s)');
      expect(out).toMatch(/draft\.w\s+4\s+4\s+-\s+c0 c1 c2 c3/);
      expect(stderr.mock.calls.map((c) => String(c[0])).join('')).toMatch(/backtest/);

      expect(await run(['save', '--policy', file, '--corp', 'acme'])).toMatch(/disabled\s+v1.*draft/);
      expect(await run(['save', '--policy', file, '--corp', 'acme', '--comment', 'again'])).toMatch(
        /v2.*draft/,
      );
      writeFileSync(
        file,
        'id: draft\nname: 草稿\nrules:\n  - { id: draft.w, name: 词, category: c, severity: high, when: { lexicon: nope } }\n',
      );
      await expect(run(['save', '--policy', file, '--corp', 'acme'])).rejects.toThrow(
        /rule draft\.w at when/,
      );
    } finally {
      stderr.mockRestore();
      vi.unstubAllEnvs();
    }
  });
});
