import { afterAll, describe, expect, it } from 'vitest';
import { testArchive, textMessage } from '../../../test/support/archive.js';
import { closeTestPool, createTestCorp, testPool } from '../../../test/support/db.js';
import type { ArchiveService } from '../../archive/archive.service.js';
import type { MessageToArchive } from '../../archive/types.js';
import { withTransaction } from '../../platform/db/pool.js';
import { DetectionService } from './detection.service.js';
import { PolicyService } from './policy.service.js';
import { PolicyRegistry } from './registry.js';
import { groupMessage, policyDoc } from './test-helpers.js';

afterAll(closeTestPool);

const pool = () => testPool();

async function setup(documents: unknown[]) {
  const corp = await createTestCorp();
  const { archive } = await testArchive(pool());
  const registry = new PolicyRegistry(pool(), { checkIntervalMs: 0 });
  const detection = new DetectionService(pool(), registry);
  const policies = new PolicyService(pool(), { onChange: (c) => registry.invalidate(c) });
  for (const document of documents) await policies.create(corp.id, { document, enabled: true });
  /** What the ingest pipeline does: store the batch, then detect, in one transaction. */
  const ingest = (messages: MessageToArchive[]) =>
    withTransaction(pool(), async (client) => {
      const stored = await archive.storeBatch(corp.id, messages, client);
      return detection.detectArchived(client, corp.id, messages, stored.duplicates);
    });
  return { corp, archive, registry, detection, policies, ingest };
}

async function findings(corpId: number) {
  const { rows } = await pool().query<{
    id: string;
    conversation_id: string;
    category: string;
    hit_count: number;
    msgids: string[];
    rule_ids: string[];
    severity: string;
    window_start: Date;
    window_end: Date;
  }>(
    `SELECT id::text, conversation_id::text, category, hit_count, msgids, rule_ids, severity, window_start, window_end
     FROM detection_findings WHERE corp_id = $1 ORDER BY window_start, category`,
    [corpId],
  );
  return rows;
}

const at = (minute: number) => new Date(Date.UTC(2026, 2, 2, 2, 0) + minute * 60_000);

describe('detection at ingest', () => {
  it('makes one finding of thirty repeats in a group window, across two ingest batches', async () => {
    const { corp, ingest } = await setup([policyDoc('ing1')]);
    const msgs = Array.from({ length: 30 }, (_, i) => groupMessage(`g${i}`, `大家注意 回扣 第${i}条`, at(i)));
    const first = await ingest(msgs.slice(0, 12));
    expect(first).toMatchObject({ scanned: 12, hits: 12, findingsCreated: 1, findingsUpdated: 0 });
    const second = await ingest(msgs.slice(12));
    expect(second).toMatchObject({ scanned: 18, hits: 18, findingsCreated: 0, findingsUpdated: 1 });
    const [f, ...rest] = await findings(corp.id);
    expect(rest).toEqual([]);
    expect(f).toMatchObject({
      category: 'bribery',
      hit_count: 30,
      rule_ids: ['ing1.words'],
      severity: 'high',
    });
    expect(f!.msgids).toHaveLength(30);
    expect(f!.window_start).toEqual(at(0));
    expect(f!.window_end).toEqual(at(29));
    // Every hit points at the finding and at the archived message.
    const { rows } = await pool().query(
      `SELECT count(*)::int AS n FROM detection_hits h
       JOIN message_keys k ON k.corp_id = h.corp_id AND k.msgid = h.msgid AND k.message_id = h.message_id
       WHERE h.corp_id = $1 AND h.finding_id = $2`,
      [corp.id, f!.id],
    );
    expect(rows[0].n).toBe(30);
  });

  it('separates windows, categories and conversations', async () => {
    const { corp, ingest } = await setup([
      policyDoc('ing2a'),
      policyDoc('ing2b', ['内幕消息'], 'insider_info'),
    ]);
    await ingest([
      groupMessage('w1', '回扣', at(0)),
      groupMessage('w2', '回扣', at(10)),
      groupMessage('w3', '内幕消息', at(11)), // another category: its own finding
      groupMessage('w4', '回扣', at(45)), // beyond 30 minutes of the first: a new window
      groupMessage('w5', '回扣', at(12), 'wrRoom02'), // another conversation
    ]);
    const all = await findings(corp.id);
    expect(all.map((f) => [f.category, f.msgids])).toEqual([
      ['bribery', ['w1', 'w2']],
      ['insider_info', ['w3']],
      ['bribery', ['w5']],
      ['bribery', ['w4']],
    ]);
  });

  it('stores offsets, not the matched text, and is idempotent on a retried batch', async () => {
    const canary = '987654';
    const doc = policyDoc('ing3', ['回扣'], 'bribery', [
      {
        id: 'ing3.order',
        name: '订单号',
        category: 'customer_data',
        severity: 'medium',
        when: { regex: '订单号[0-9]{6}' },
      },
    ]);
    const { corp, ingest, detection, registry } = await setup([doc]);
    const m = textMessage('c1', `订单号${canary}，回扣照旧`, at(0));
    const r = await ingest([m]);
    expect(r.hits).toBe(2);
    const { rows } = await pool().query(
      `SELECT * FROM detection_hits WHERE corp_id = $1 ORDER BY start_offset`,
      [corp.id],
    );
    expect(rows.map((h) => [h.rule_id, h.start_offset, h.end_offset, h.method])).toEqual([
      ['ing3.order', 0, 9, 'regex'],
      ['ing3.words', 10, 12, 'exact'],
    ]);
    expect(Object.keys(rows[0])).not.toContain('matched');
    for (const table of ['detection_hits', 'detection_findings'])
      expect(
        JSON.stringify((await pool().query(`SELECT * FROM ${table} WHERE corp_id = $1`, [corp.id])).rows),
      ).not.toContain(canary);
    // The ingest transaction retried after the archive already committed: nothing is counted twice.
    const again = await withTransaction(pool(), (client) =>
      detection.detectStored(client, corp.id, [
        {
          messageId: rows[0].message_id,
          msgid: 'c1',
          msgTime: at(0),
          conversationId: rows[0].conversation_id,
          raw: m.raw,
        },
      ]),
    );
    expect(again).toMatchObject({ scanned: 1, hits: 0, findingsCreated: 0, findingsUpdated: 0 });
    expect((await findings(corp.id)).map((f) => f.hit_count).sort()).toEqual([1, 1]);
    expect((await registry.active(corp.id)).sources.get('ing3')?.version).toBe(1);
  });

  it('scopes rules by the sender’s department subtree and sensitive post from the org tables', async () => {
    const doc = {
      id: 'ing4',
      name: '财务岗',
      lexicons: [{ id: 'w', terms: ['转账'] }],
      rules: [
        {
          id: 'ing4.dept',
          name: '部门',
          category: 'finance',
          severity: 'low',
          when: { lexicon: 'w' },
          scope: { departmentIds: [1] },
        },
        {
          id: 'ing4.post',
          name: '敏感岗',
          category: 'finance',
          severity: 'medium',
          when: { lexicon: 'w' },
          scope: { sensitivePostsOnly: true },
        },
      ],
    };
    const { corp, ingest } = await setup([doc]);
    await pool().query(
      `INSERT INTO departments (corp_id, id, parent_id, name, sensitive_post) VALUES ($1, 1, NULL, '总部', false),
         ($1, 7, 1, '财务部', true)`,
      [corp.id],
    );
    await pool().query(
      `INSERT INTO employees (corp_id, userid, name, department_ids) VALUES ($1, 'cashier', '出纳', '{7}')`,
      [corp.id],
    );
    await ingest([
      groupMessage('d1', '转账', at(0), 'wrRoom09', 'cashier'),
      groupMessage('d2', '转账', at(1), 'wrRoom09', 'outsider'),
    ]);
    const { rows } = await pool().query(
      `SELECT msgid, rule_id FROM detection_hits WHERE corp_id = $1 ORDER BY msgid, rule_id`,
      [corp.id],
    );
    expect(rows).toEqual([
      { msgid: 'd1', rule_id: 'ing4.dept' },
      { msgid: 'd1', rule_id: 'ing4.post' },
    ]);
  });

  it('runs conversation rules across batches in one process', async () => {
    const doc = {
      id: 'ing5',
      name: '会话',
      lexicons: [],
      rules: [
        {
          id: 'ing5.id-then-recall',
          name: '发身份证后撤回',
          category: 'evidence_destruction',
          severity: 'medium',
          conversation: { messages: 5, minutes: 10, all: [{ pii: ['resident-id'] }, { action: 'recall' }] },
        },
      ],
    };
    const { corp, ingest } = await setup([doc]);
    await ingest([textMessage('p1', '身份证 11010519491231002X', at(0))]);
    const recall = textMessage('p2', '', at(1), {
      action: 'recall',
      msgtype: 'revoke',
      raw: JSON.stringify({
        msgid: 'p2',
        action: 'recall',
        from: 'zhangsan',
        tolist: ['wmCustomer01'],
        roomid: '',
        msgtime: at(1).getTime(),
        msgtype: 'revoke',
        revoke: { pre_msgid: 'p1' },
      }),
    });
    const r = await ingest([recall]);
    expect(r.hits).toBeGreaterThan(0);
    const { rows } = await pool().query(
      `SELECT msgid, rule_id, related_msgids FROM detection_hits WHERE corp_id = $1 AND msgid = 'p2'`,
      [corp.id],
    );
    expect(rows[0]).toMatchObject({ rule_id: 'ing5.id-then-recall', related_msgids: ['p1'] });
  });

  describe('conversation windows survive restarts and span workers', () => {
    const windowDoc = (id: string) => ({
      id,
      name: '会话',
      lexicons: [],
      rules: [
        {
          id: `${id}.id-then-recall`,
          name: '发身份证后撤回',
          category: 'evidence_destruction',
          severity: 'medium',
          conversation: { messages: 5, minutes: 10, all: [{ pii: ['resident-id'] }, { action: 'recall' }] },
        },
      ],
    });
    const idCard = (msgid: string, minute: number) =>
      textMessage(msgid, '身份证 11010519491231002X', at(minute));
    const recall = (msgid: string, minute: number, of: string) =>
      textMessage(msgid, '', at(minute), {
        action: 'recall',
        msgtype: 'revoke',
        raw: JSON.stringify({
          msgid,
          action: 'recall',
          from: 'zhangsan',
          tolist: ['wmCustomer01'],
          roomid: '',
          msgtime: at(minute).getTime(),
          msgtype: 'revoke',
          revoke: { pre_msgid: of },
        }),
      });
    /** Another ingest process (or this one after a restart): nothing shared in memory. */
    const worker = (archive: ArchiveService, corpId: number) => {
      const detection = new DetectionService(pool(), new PolicyRegistry(pool(), { checkIntervalMs: 0 }));
      return (messages: MessageToArchive[]) =>
        withTransaction(pool(), async (client) => {
          const stored = await archive.storeBatch(corpId, messages, client);
          return detection.detectArchived(client, corpId, messages, stored.duplicates);
        });
    };
    const windowHits = async (corpId: number) =>
      (
        await pool().query(
          `SELECT msgid, related_msgids FROM detection_hits WHERE corp_id = $1 AND rule_id LIKE '%.id-then-recall'
           ORDER BY msgid`,
          [corpId],
        )
      ).rows;

    it('fires exactly once when the steps arrive in two ingest runs of two service instances', async () => {
      const { corp, archive, ingest } = await setup([windowDoc('ing7')]);
      await ingest([idCard('q1', 0)]);
      const { rows: open } = await pool().query(
        `SELECT rule_id, message_count::int AS n FROM detection_conversation_windows WHERE corp_id = $1`,
        [corp.id],
      );
      expect(open).toEqual([{ rule_id: 'ing7.id-then-recall', n: 1 }]);
      const restarted = worker(archive as ArchiveService, corp.id);
      const r = await restarted([textMessage('q2', '好的', at(1)), recall('q3', 2, 'q1')]);
      expect(r.hits).toBe(1);
      // Ingested again by yet another instance (the batch retried): no second hit.
      await worker(archive as ArchiveService, corp.id)([recall('q3', 2, 'q1')]);
      // Past the 10 minutes: the window no longer holds q1.
      await ingest([recall('q4', 30, 'q1')]);
      expect(await windowHits(corp.id)).toEqual([{ msgid: 'q3', related_msgids: ['q1'] }]);
    });

    it('fires exactly once when two workers ingest the two steps concurrently', async () => {
      const { corp, archive, ingest } = await setup([windowDoc('ing8')]);
      const other = worker(archive as ArchiveService, corp.id);
      await Promise.all([ingest([idCard('k1', 0)]), other([recall('k2', 1, 'k1')])]);
      const hits = await windowHits(corp.id);
      expect(hits).toHaveLength(1);
      expect(hits[0].related_msgids).toHaveLength(1);
    });
  });

  it('rescans a period idempotently', async () => {
    const { corp, archive, detection, policies } = await setup([]);
    await archive.storeBatch(
      corp.id,
      Array.from({ length: 7 }, (_, i) => groupMessage(`r${i}`, i % 2 ? '回扣' : '你好', at(i))),
    );
    await policies.create(corp.id, { document: policyDoc('ing6'), enabled: true });
    const progress: number[] = [];
    const first = await detection.rescan(
      archive as ArchiveService,
      corp.id,
      { from: at(0), to: at(60) },
      (d) => {
        progress.push(d);
      },
    );
    expect(first).toMatchObject({ scanned: 7, hits: 3, findingsCreated: 1, policies: ['ing6'] });
    expect(progress.at(-1)).toBe(7);
    const second = await detection.rescan(archive, corp.id, { from: at(0), to: at(60) });
    expect(second).toMatchObject({ scanned: 7, hits: 0, findingsCreated: 0, findingsUpdated: 0 });
    const all = await findings(corp.id);
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ hit_count: 3, msgids: ['r1', 'r3', 'r5'] });
  });
});
