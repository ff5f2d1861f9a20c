import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { testArchive } from '../../../test/support/archive.js';
import { closeTestPool, createTestCorp, testPool } from '../../../test/support/db.js';
import { withTransaction } from '../../platform/db/pool.js';
import { configSchema } from '../../platform/config/schema.js';
import { forbidden } from '../../platform/http/errors.js';
import { Metrics } from '../../platform/http/metrics.js';
import { buildHttpServer } from '../../platform/http/server.js';
import { JobRepository } from '../../platform/jobs/queue.js';
import type { JobProgress } from '../../platform/jobs/types.js';
import { detectionModule } from './index.js';
import { groupMessage, policyDoc } from './test-helpers.js';

afterAll(closeTestPool);

const at = (minute: number) => new Date(Date.UTC(2026, 4, 4, 2, 0) + minute * 60_000);

async function setup() {
  const corp = await createTestCorp();
  const { archive } = await testArchive(testPool());
  const jobs = new JobRepository(testPool());
  const module = detectionModule({ pool: testPool(), archive, jobs, registry: { checkIntervalMs: 0 } });
  const granted = new Set<string>();
  const app = await buildHttpServer({
    config: configSchema.parse({}),
    logger: pino({ level: 'silent' }),
    metrics: new Metrics(),
    authorize: async (_request, permission) => {
      if (!granted.has(permission)) throw forbidden();
    },
    routes: module.routes,
  });
  return { corp, archive, jobs, module, app, granted };
}

describe('detection API', () => {
  it('creates, validates (422 naming the rule), versions, enables and installs templates', async () => {
    const { corp, app, granted } = await setup();
    const base = `/api/v1/corps/${corp.slug}/detection`;
    const doc = policyDoc('api1');
    expect(
      (await app.inject({ method: 'POST', url: `${base}/policies`, payload: { document: doc } })).statusCode,
    ).toBe(403);
    granted.add('config.manage');

    const bad = await app.inject({
      method: 'POST',
      url: `${base}/policies`,
      payload: {
        yaml: 'id: api-bad\nname: 坏\nrules:\n  - { id: api-bad.r1, name: r, category: c, severity: high, when: { regex: "(a" } }\n',
      },
    });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().error).toMatchObject({
      code: 'invalid_policy',
      details: [expect.objectContaining({ where: 'rule api-bad.r1', path: 'when.regex' })],
    });

    const created = await app.inject({
      method: 'POST',
      url: `${base}/policies`,
      payload: {
        yaml: '# 注释\nid: api1\nname: 接口\nlexicons: [{ id: words, terms: [回扣] }]\nrules:\n  - { id: api1.words, name: 词, category: bribery, severity: high, when: { lexicon: words } }\n',
        comment: 'v1',
      },
    });
    expect(created.statusCode).toBe(201);
    const policy = created.json();
    expect(policy).toMatchObject({ key: 'api1', enabled: false, currentVersion: 1 });
    expect(policy.versions[0].source).toContain('# 注释');

    const updated = await app.inject({
      method: 'PUT',
      url: `${base}/policies/${policy.id}`,
      payload: { document: policyDoc('api1', ['回扣', '返点']), expectedVersion: 1 },
    });
    expect(updated.statusCode).toBe(200);
    expect(updated.json().versions.map((v: { version: number }) => v.version)).toEqual([2, 1]);
    const stale = await app.inject({
      method: 'PUT',
      url: `${base}/policies/${policy.id}`,
      payload: { document: doc, expectedVersion: 1 },
    });
    expect(stale.statusCode).toBe(409);

    const enabled = await app.inject({ method: 'POST', url: `${base}/policies/${policy.id}/enable` });
    expect(enabled.json()).toMatchObject({ enabled: true });
    const listed = await app.inject({ url: `${base}/policies` });
    expect(listed.json().items.map((p: { key: string }) => p.key)).toContain('api1');
    // Another corp cannot reach this corp's policy.
    const other = await createTestCorp();
    expect(
      (await app.inject({ url: `/api/v1/corps/${other.slug}/detection/policies/${policy.id}` })).statusCode,
    ).toBe(404);

    const openapi = await app.inject({ url: '/api/openapi.json' });
    expect(openapi.statusCode).toBe(200);
    expect(Object.keys(openapi.json().paths)).toContain('/api/v1/corps/{corp}/detection/findings');

    const installed = await app.inject({ method: 'POST', url: `${base}/templates/install` });
    expect(installed.json().installed.length).toBeGreaterThan(5);
  });

  it('test bench returns hits with method, offsets and the matched text of the author’s input', async () => {
    const { app, granted } = await setup();
    granted.add('config.manage');
    const r = await app.inject({
      method: 'POST',
      url: '/api/v1/detection/test',
      payload: {
        template: 'bribery',
        text: ['老板说 hui kou 照旧', '你好'],
        messages: [
          {
            msgid: 'w1',
            action: 'send',
            from: 'zhangsan',
            tolist: ['wmC'],
            msgtime: 1,
            msgtype: 'text',
            text: { content: '回 扣' },
          },
          { msgid: 'broken' },
        ],
      },
    });
    expect(r.statusCode).toBe(200);
    const body = r.json();
    expect(body.messages).toBe(3);
    expect(body.errors).toEqual([{ index: 1, error: 'missing msgtype' }]);
    expect(body.hits).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          msgid: 'test-1',
          term: '回扣',
          method: 'pinyin',
          start: 4,
          end: 11,
          matched: 'hui kou',
        }),
        expect.objectContaining({ msgid: 'w1', term: '回扣', method: 'noise', matched: '回 扣' }),
      ]),
    );
    const bad = await app.inject({
      method: 'POST',
      url: '/api/v1/detection/test',
      payload: {
        document: {
          id: 'x',
          name: 'x',
          rules: [{ id: 'x.r', name: 'r', category: 'c', severity: 'high', when: { lexicon: 'nope' } }],
        },
        text: 'a',
      },
    });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().error.details[0].where).toBe('rule x.r');
  });

  it('starts a back-test, reads its result, and lists findings with filters', async () => {
    const { corp, app, granted, archive, jobs, module } = await setup();
    granted.add('config.manage');
    const base = `/api/v1/corps/${corp.slug}/detection`;
    const messages = [
      ...Array.from({ length: 5 }, (_, i) => groupMessage(`a${i}`, '回扣', at(i))),
      groupMessage('z1', '内幕消息', at(2), 'wrRoom77'),
    ];
    await archive.storeBatch(corp.id, messages);

    const started = await app.inject({
      method: 'POST',
      url: `${base}/backtests`,
      payload: {
        document: policyDoc('api3'),
        scope: { from: at(0).toISOString(), to: at(10).toISOString() },
      },
    });
    expect(started.statusCode).toBe(202);
    const { id, jobId } = started.json();
    const job = (await jobs.get(jobId))!;
    const progress: JobProgress[] = [];
    await module.jobs
      .find((j) => j.name === 'detection.backtest')!
      .handler({
        job,
        logger: pino({ level: 'silent' }),
        reportProgress: async (p) => void progress.push(p),
        signal: new AbortController().signal,
      });
    const result = await app.inject({ url: `${base}/backtests/${id}` });
    expect(result.json()).toMatchObject({ status: 'succeeded', result: { messages: 6, hits: 5 } });
    expect(result.json().result.rules[0]).toMatchObject({
      ruleId: 'api3.words',
      examples: ['a0', 'a1', 'a2', 'a3', 'a4'],
    });

    // Findings: detection at ingest for the corp's enabled policies.
    await module.policies.create(corp.id, { document: policyDoc('api3'), enabled: true });
    await module.policies.create(corp.id, {
      document: policyDoc('api3b', ['内幕消息'], 'insider_info'),
      enabled: true,
    });
    const later = [
      ...Array.from({ length: 3 }, (_, i) => groupMessage(`l${i}`, '回扣', at(100 + i))),
      groupMessage('l9', '内幕消息', at(101), 'wrRoom77'),
    ];
    await withTransaction(testPool(), async (client) => {
      const stored = await archive.storeBatch(corp.id, later, client);
      await module.detection.detectArchived(client, corp.id, later, stored.duplicates);
    });
    expect((await app.inject({ url: `${base}/findings` })).statusCode).toBe(403);
    granted.add('review.read');
    const all = (await app.inject({ url: `${base}/findings` })).json();
    expect(
      all.items.map((f: { category: string; hitCount: number }) => [f.category, f.hitCount]).sort(),
    ).toEqual([
      ['bribery', 3],
      ['insider_info', 1],
    ]);
    const filtered = (
      await app.inject({ url: `${base}/findings?category=insider_info&severity=high,critical` })
    ).json();
    expect(filtered.items).toHaveLength(1);
    const paged = (await app.inject({ url: `${base}/findings?limit=1` })).json();
    expect(paged.next).toBeTruthy();
    const page2 = (await app.inject({ url: `${base}/findings?limit=1&cursor=${paged.next}` })).json();
    expect(page2.items[0].id).not.toBe(paged.items[0].id);
    const one = (await app.inject({ url: `${base}/findings/${filtered.items[0].id}` })).json();
    expect(one.hits).toEqual([expect.objectContaining({ msgid: 'l9', term: '内幕消息', start: 0, end: 4 })]);
    expect(one.hits[0]).not.toHaveProperty('matched');

    const rescan = await app.inject({
      method: 'POST',
      url: `${base}/rescan`,
      payload: { from: at(0).toISOString() },
    });
    expect(rescan.statusCode).toBe(202);
    expect((await jobs.get(rescan.json().jobId))!.name).toBe('detection.rescan');
  });
});
