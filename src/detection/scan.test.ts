import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { PolicyError } from './rules/errors.js';
import { compilePolicySet } from './rules/policy-set.js';
import { listTemplates, loadTemplate, scanJsonl, templateDocument } from './scan.js';

async function run(
  lines: string[],
  policy = loadTemplate('all'),
): Promise<{ out: Record<string, unknown>[]; summary: Awaited<ReturnType<typeof scanJsonl>> }> {
  const output = new PassThrough();
  const chunks: string[] = [];
  output.on('data', (c: Buffer) => chunks.push(c.toString()));
  const summary = await scanJsonl(Readable.from(lines.map((l) => l + '\n')), output, policy);
  output.end();
  return {
    out: chunks
      .join('')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>),
    summary,
  };
}

describe('templates', () => {
  it('every bundled template compiles', () => {
    expect(listTemplates()).toHaveLength(8);
    for (const name of listTemplates()) expect(loadTemplate(name).rules.length).toBeGreaterThan(0);
  });

  it('hard negatives from the brief do not hit', () => {
    const policy = loadTemplate('all');
    const m = (text: string) => ({ msgid: 'x', conversationId: 'c', time: 0, text });
    for (const text of ['确保本月目标完成', '来回扣款两次了', '往返点位已经确认', '你先回，扣款的事明天说']) {
      expect(
        policy.scanMessage({
          ...m(text),
          corpId: '',
          conversationKind: 'external',
          direction: 'outbound',
          senderId: 'a',
          senderKind: 'employee',
          senderDepartmentIds: [],
          senderSensitivePost: false,
          msgtype: 'text',
          action: 'send',
          recipientIds: [],
          recipientsExternal: true,
        }),
        text,
      ).toEqual([]);
    }
  });

  it('unknown template names are reported', () =>
    expect(() => templateDocument('nope')).toThrow(/unknown template "nope"/));
});

describe('scanJsonl', () => {
  it('writes one line per hit and an error line per bad line, then goes on', async () => {
    const { out, summary } = await run([
      JSON.stringify({ msgid: 'a', conversationId: 'c1', time: 1, text: '这单给你回 扣' }),
      '{not json',
      JSON.stringify({ msgid: 'b', conversationId: 'c1', time: 'yesterday', text: 'x' }),
      '',
      JSON.stringify({
        msgid: 'w1',
        action: 'send',
        from: 'zhangsan',
        tolist: ['wmX'],
        roomid: '',
        msgtime: 2,
        msgtype: 'text',
        text: { content: '保本保息' },
      }),
      JSON.stringify({ msgid: 'w2', from: 'zhangsan' }),
    ]);
    expect(out[0]).toEqual({
      msgid: 'a',
      rule: 'bribery.kickback-explicit',
      category: 'bribery',
      severity: 'high',
      term: '回扣',
      start: 4,
      end: 7,
      matched: '回 扣',
      method: 'noise',
    });
    expect(out[1]).toMatchObject({ line: 2, error: expect.stringMatching(/invalid JSON/) });
    expect(out[2]).toMatchObject({ line: 3, error: expect.stringMatching(/time/) });
    expect(out.some((o) => o.msgid === 'w1' && o.category === 'return_promise')).toBe(true);
    expect(out.at(-1)).toMatchObject({ line: 6, error: 'missing msgtype' });
    expect(summary).toMatchObject({ lines: 6, messages: 2, errors: 3 });
  });

  it('bad policies are rejected before scanning', () => {
    expect(() =>
      compilePolicySet({
        id: 'p',
        name: 'p',
        rules: [{ id: 'r', name: 'r', category: 'c', severity: 'low', when: { lexicon: 'missing' } }],
      }),
    ).toThrow(PolicyError);
  });

  it('handles a message of several megabytes of noise', async () => {
    const text = '回' + '😀 '.repeat(1_500_000) + '扣，老规矩给你回扣';
    const { out } = await run([JSON.stringify({ msgid: 'big', conversationId: 'c', time: 1, text })]);
    expect(out.filter((o) => o.rule === 'bribery.kickback-explicit').map((o) => o.matched)).toEqual(['回扣']);
  });
});
