import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { VIGIL_BIN, cleanEnv } from '../support/cli.js';

function scan(
  args: string[],
  input: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [VIGIL_BIN, 'scan', ...args], { env: cleanEnv() });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

const message = (msgid: string, content: string) =>
  JSON.stringify({
    msgid,
    action: 'send',
    from: 'zhangsan',
    tolist: ['wmCust'],
    roomid: '',
    msgtime: 1760000000000,
    msgtype: 'text',
    text: { content },
  });

describe('vigil scan', () => {
  it('prints one JSON line per hit and an error line per bad input line, and goes on', async () => {
    const input = [message('m1', '这单给你回-扣'), '{oops', message('m2', '确保本月完成来回扣款')].join('\n');
    const result = await scan(['--template', 'all'], input);
    expect(result.code).toBe(0);
    const lines = result.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toContainEqual(
      expect.objectContaining({
        msgid: 'm1',
        term: '回扣',
        matched: '回-扣',
        method: 'noise',
        start: 4,
        end: 7,
      }),
    );
    expect(lines).toContainEqual(
      expect.objectContaining({ line: 2, error: expect.stringMatching(/invalid JSON/) }),
    );
    expect(lines.some((l) => l.msgid === 'm2')).toBe(false); // hard negatives: 确保本月, 来回扣款
    expect(result.stderr).toContain('scanned 2 message(s)');
  });

  it('refuses an unknown template by name', async () => {
    const result = await scan(['--template', 'nope'], '');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^vigil: unknown template "nope"/);
  });
});
