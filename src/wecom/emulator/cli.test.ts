import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runEmulatorCli } from './cli.js';

describe('runEmulatorCli', () => {
  it('starts a demo corp, writes its keys and releases messages live', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-emu-'));
    const lines: string[] = [];
    const emu = await runEmulatorCli({
      port: 0,
      messages: 200,
      visible: 100,
      writeKeysTo: dir,
      liveIntervalMs: 50,
      liveBatch: 10,
      log: (l) => lines.push(l),
    });
    try {
      expect(lines[0]).toContain(emu.baseUrl);
      const info = JSON.parse(readFileSync(join(dir, 'wwvigildemo0000001.json'), 'utf8')) as {
        secrets: { archive: string };
      };
      expect(info.secrets.archive).toBe(emu.corp('wwvigildemo0000001').secrets.archive);
      expect(existsSync(join(dir, 'wwvigildemo0000001.v1.pem'))).toBe(true);
      await new Promise((r) => setTimeout(r, 300));
      expect(emu.corp('wwvigildemo0000001').visibleCount()).toBeGreaterThan(100);
      const health = (await (await fetch(`${emu.baseUrl}/emulator/health`)).json()) as { ok: boolean };
      expect(health.ok).toBe(true);
    } finally {
      await emu.stop();
    }
  });
});
