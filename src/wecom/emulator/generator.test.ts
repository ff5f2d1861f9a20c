import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDecryptedMessage, mediaRefsOf, PAYLOAD_KEY, type ArchivedMessage } from '../sdk/messages.js';
import { ALL_MSGTYPES, CRASH_MARKER, SyntheticCorp } from './generator.js';
import { buildFixture, defaultFixtureDir, FIXTURE_NAMES, loadMediaFixtures } from './media-fixtures.js';

describe('SyntheticCorp', () => {
  const corp = new SyntheticCorp({ corpId: 'wwgen', seed: 'seed-1', messageCount: 2000 });

  it('is deterministic for a seed and different across seeds', () => {
    const again = new SyntheticCorp({ corpId: 'wwgen', seed: 'seed-1', messageCount: 2000 });
    const other = new SyntheticCorp({ corpId: 'wwgen', seed: 'seed-2', messageCount: 2000 });
    for (const i of [0, 7, 500, 1999]) {
      expect(again.message(i).plaintext).toBe(corp.message(i).plaintext);
    }
    expect(other.message(5).plaintext).not.toBe(corp.message(5).plaintext);
    expect(again.employees).toEqual(corp.employees);
    // Random access gives the same as sequential access.
    const seq = [...corp.messages(95, 110)].map((m) => m.msgid);
    expect(seq).toEqual([...Array(15).keys()].map((k) => corp.message(95 + k).msgid));
  });

  it('builds an org with Chinese departments, sensitive posts, customers, groups and a robot', () => {
    const names = corp.departments.map((d) => d.name);
    expect(names).toEqual(expect.arrayContaining(['销售一部', '财务部', '采购部', '人力资源部']));
    expect(corp.departments.filter((d) => d.parentid === 0)).toHaveLength(1);
    expect(corp.employees.some((e) => e.sensitive)).toBe(true);
    expect(corp.employees.some((e) => e.status !== 1)).toBe(true);
    expect(corp.employees.some((e) => e.is_leader_in_dept[0] === 1)).toBe(true);
    expect(new Set(corp.employees.map((e) => e.userid)).size).toBe(corp.employees.length);
    expect(corp.customers.every((c) => /^w[mo]/.test(c.external_userid))).toBe(true);
    expect(corp.groups.every((g) => g.roomid.startsWith('wr'))).toBe(true);
    expect(
      corp.groups.some((g) => g.kind === 'internal') && corp.groups.some((g) => g.kind === 'customer'),
    ).toBe(true);
    expect(corp.robot.robot_id).toMatch(/^wb/);
  });

  it('uses every message type with the right payload keys', () => {
    const seen = new Map<string, ArchivedMessage>();
    for (const m of corp.messages()) {
      const parsed = parseDecryptedMessage(m.plaintext);
      expect(parsed.ok).toBe(true);
      if (parsed.ok) seen.set(m.msgtype, parsed.message);
    }
    for (const t of ALL_MSGTYPES) expect(seen.has(t), t).toBe(true);
    for (const [t, m] of seen) {
      if (t === 'switch') {
        expect(m).toMatchObject({ action: 'switch' });
        expect(Object.keys(m).sort()).toEqual(['action', 'msgid', 'time', 'user']);
        continue;
      }
      const key = PAYLOAD_KEY[t];
      if (key) expect(m, t).toHaveProperty(key);
    }
    expect(seen.get('revoke')).toMatchObject({ action: 'recall', revoke: { pre_msgid: expect.any(String) } });
    expect(seen.get('vote')).toHaveProperty('votetitle');
    expect(seen.get('docmsg')).toHaveProperty('doc.link_url');
    expect(seen.get('external_redpacket')).toHaveProperty('redpacket.totalamount');
    expect(seen.get('meeting_voice_call')).toHaveProperty('voiceid');
    expect(seen.get('voip_doc_share')).toHaveProperty('voipid');
    const record = seen.get('chatrecord') as unknown as { chatrecord: { item: Array<{ content: unknown }> } };
    expect(typeof record.chatrecord.item[0]!.content).toBe('string');
    expect(mediaRefsOf(seen.get('mixed')!)).toHaveLength(1);
    expect(seen.get('markdown')).toMatchObject({ from: corp.robot.robot_id });
    expect(seen.get('agree')).toMatchObject({ from: expect.stringMatching(/^w[mo]/) });
  });

  it('attaches media that resolve to fixture bytes with the stated md5', () => {
    let checked = 0;
    for (const m of corp.messages(0, 600)) {
      for (const a of m.media) {
        const r = corp.resolveSdkFileId(a.sdkfileid);
        expect(r?.bytes.length).toBe(a.size);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(20);
    expect(
      corp.resolveSdkFileId(Buffer.from('emu1|wwgen|photo.jpg|1|0|forged').toString('base64')),
    ).toBeNull();
  });

  it('plants risky conversations with evasive spellings in the ground truth', () => {
    const big = new SyntheticCorp({ corpId: 'wwgen', seed: 'seed-1', messageCount: 30_000 });
    const risks = [...big.messages()].filter((m) => m.risk).map((m) => m.risk!);
    const categories = new Set(risks.map((r) => r.category));
    expect([...categories].sort()).toEqual(
      ['data_exfiltration', 'evidence_destruction', 'guaranteed_return', 'kickback', 'side_order'].sort(),
    );
    const terms = new Set(risks.map((r) => r.term));
    expect([...terms].some((t) => ['回-扣', '迴扣', 'huikou', '回 扣'].includes(t))).toBe(true);
    for (const m of big.messages(0, 30_000)) {
      if (m.risk && m.msgtype === 'text') expect(m.plaintext).toContain(m.risk.term);
    }
  });

  it('supports seqs above 2^53 and strides, with an exact inverse', () => {
    const start = 2n ** 63n + 12345n;
    const c = new SyntheticCorp({
      corpId: 'wwbig',
      seed: 's',
      messageCount: 100,
      seqStart: start,
      seqStride: 3n,
    });
    expect(c.message(0).seq).toBe(start);
    expect(c.message(99).seq).toBe(start + 297n);
    expect(c.firstIndexAfter(0n)).toBe(0);
    expect(c.firstIndexAfter(start)).toBe(1);
    expect(c.firstIndexAfter(start + 1n)).toBe(1);
    expect(c.firstIndexAfter(start + 3n)).toBe(2);
  });

  it('generates 100,000 messages lazily with monotone time', () => {
    const c = new SyntheticCorp({ corpId: 'wwbulk', seed: 'bulk', messageCount: 100_000 });
    let n = 0;
    let last = 0;
    for (const m of c.messages()) {
      const t = m.message && m.message.action === 'switch' ? (m.message.time as number) : m.msgtime;
      expect(t).toBeGreaterThanOrEqual(last);
      last = t;
      n++;
    }
    expect(n).toBe(100_000);
    expect(new Set([0, 50_000, 99_999].map((i) => c.message(i).msgid)).size).toBe(3);
  });

  it('applies content faults deterministically', () => {
    const c = new SyntheticCorp({
      corpId: 'wwf',
      seed: 'f',
      messageCount: 200,
      faultAt: { 1: 'crash', 2: 'control_chars', 3: 'malformed_json', 4: 'unknown_msgtype' },
    });
    expect(c.message(1).plaintext.startsWith(CRASH_MARKER)).toBe(true);
    expect([...c.message(2).plaintext].some((ch) => ch.charCodeAt(0) < 0x20)).toBe(true);
    expect(() => JSON.parse(c.message(2).plaintext)).toThrow();
    const cc = parseDecryptedMessage(c.message(2).plaintext);
    expect(cc.ok && cc.controlCharsStripped).toBe(true);
    expect(parseDecryptedMessage(c.message(3).plaintext).ok).toBe(false);
    expect(c.message(3).message).toBeNull();
    expect(c.message(4).msgtype).toBe('hologram');
    const rated = new SyntheticCorp({
      corpId: 'wwf',
      seed: 'f',
      messageCount: 2000,
      faultRates: { crash: 0.01 },
    });
    const crashes = [...rated.messages()].filter((m) => m.fault === 'crash').length;
    expect(crashes).toBeGreaterThan(5);
    expect(crashes).toBeLessThan(60);
  });
});

describe('media fixtures', () => {
  const magic: Record<string, number[] | string> = {
    'photo.jpg': [0xff, 0xd8, 0xff],
    'screenshot.png': [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
    'thumbsup.gif': 'GIF89a',
    'voice.amr': '#!AMR\n',
    'voice-silk.amr': '\u0002#!SILK_V3',
    'clip.mp4': '\u0000\u0000\u0000\u001cftyp',
    'contract.pdf': '%PDF-',
  };

  it('are committed, match their builders, carry the right magic bytes and stay small', () => {
    let total = 0;
    for (const name of FIXTURE_NAMES) {
      const bytes = readFileSync(join(defaultFixtureDir(), name));
      expect(bytes.equals(buildFixture(name)), name).toBe(true);
      const m = magic[name]!;
      const head = typeof m === 'string' ? Buffer.from(m, 'latin1') : Buffer.from(m);
      expect(bytes.subarray(0, head.length).equals(head), name).toBe(true);
      total += bytes.length;
    }
    expect(total).toBeLessThan(300 * 1024);
    expect(loadMediaFixtures().get('photo.jpg')!.md5).toMatch(/^[0-9a-f]{32}$/);
  });
});
