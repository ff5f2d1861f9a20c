import { describe, expect, it } from 'vitest';
import { maskText, maskWecomJson } from './masking.js';
import { Pseudonymizer } from './pseudonyms.js';

describe('masking (脱敏)', () => {
  it('masks phone, resident ID and e-mail keeping the length and a recognisable edge', () => {
    const text = '电话13812345678，身份证11010519491231002X，邮箱zhang.san@example.com，订单号202611240001';
    const masked = maskText(text);
    expect(masked).toHaveLength(text.length);
    expect(masked).toContain('138****5678');
    expect(masked).toContain('110*************2X');
    expect(masked).toContain('z********@example.com');
    expect(masked).toContain('202611240001'); // an order number is not personal data
  });

  it('masks full-width and spaced numbers too', () => {
    expect(maskText('１３８１２３４５６７８')).toBe('１３８****５６７８');
    expect(maskText('138 1234 5678')).toBe('138 **** 5678');
  });

  it('masks free text in WeCom JSON and leaves identifiers alone', () => {
    const raw = JSON.stringify({
      msgid: '13812345678',
      from: 'zhangsan',
      tolist: ['wm1'],
      text: { content: '13812345678' },
    });
    const masked = JSON.parse(maskWecomJson(raw));
    expect(masked).toEqual({
      msgid: '13812345678',
      from: 'zhangsan',
      tolist: ['wm1'],
      text: { content: '138****5678' },
    });
  });
});

describe('pseudonyms', () => {
  const key = Buffer.alloc(32, 7);
  it('gives stable names to external contacts, never to the viewer or robots, and reveals only known ids', () => {
    const p = new Pseudonymizer(key, 'external', 'alice');
    const name = p.show('wmCust1');
    expect(name).toMatch(/^客户-[0-9A-Z]{8}$/);
    expect(new Pseudonymizer(key, 'external', null).show('wmCust1')).toBe(name);
    expect(new Pseudonymizer(Buffer.alloc(32, 8), 'external', null).show('wmCust1')).not.toBe(name);
    expect(p.show('bob')).toBe('bob');
    expect(p.show('wbRobot')).toBe('wbRobot');
    const all = new Pseudonymizer(key, 'all', 'alice');
    expect(all.show('alice')).toBe('alice');
    expect(all.show('bob')).toMatch(/^员工-/);
    expect(p.reveal(name, ['bob', 'wmCust1'])).toBe('wmCust1');
    expect(p.reveal(name, ['bob', 'wmOther'])).toBeUndefined();
    const raw = JSON.parse(p.applyToWecomJson(JSON.stringify({ from: 'wmCust1', tolist: ['alice'] })));
    expect(raw).toEqual({ from: name, tolist: ['alice'] });
  });
});
