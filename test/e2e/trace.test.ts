import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { markText } from '../../src/access/content/invisible-mark.js';
import { cleanEnv, runVigil } from '../support/cli.js';
import { testPool } from '../support/db.js';

describe('vigil trace', () => {
  it('names who copied a leaked snippet, and says so when there is no mark', async () => {
    const { rows } = await testPool().query<{ id: string }>(
      `INSERT INTO users (username, display_name) VALUES ($1, '王磊') RETURNING id::text`,
      [`leaker-${Date.now()}`],
    );
    const minute = Math.floor(Date.parse('2026-11-24T08:30:00Z') / 60_000);
    const dir = mkdtempSync(join(tmpdir(), 'vigil-trace-'));
    const leaked = join(dir, 'leak.txt');
    writeFileSync(leaked, `网上流传：${markText('这单给你三个点回扣', { userId: rows[0]!.id, minute })}`);
    const env = cleanEnv({ DATABASE_URL: inject('databaseUrl') });
    const traced = await runVigil(['trace', leaked], { env });
    expect(traced.code, traced.stderr).toBe(0);
    expect(traced.stdout).toContain(`copied by user #${rows[0]!.id} leaker-`);
    expect(traced.stdout).toContain('(王磊) at 2026-11-24 08:30 UTC');
    const clean = join(dir, 'clean.txt');
    writeFileSync(clean, '这单给你三个点回扣');
    const none = await runVigil(['trace', clean], { env });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('no intact copy mark');
  });
});
