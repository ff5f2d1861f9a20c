import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { closeTestPool, createTestCorp, testPool } from '../../test/support/db.js';
import { testArchive, textMessage } from '../../test/support/archive.js';
import { configSchema } from '../platform/config/schema.js';
import { forbidden } from '../platform/http/errors.js';
import { Metrics } from '../platform/http/metrics.js';
import { buildHttpServer } from '../platform/http/server.js';
import { OrgRepository } from '../org/org.repository.js';
import { archiveRoutes } from './archive.routes.js';

afterAll(closeTestPool);

describe('archive search API', () => {
  it('searches with filters and paging, and refuses callers without the permission', async () => {
    const corp = await createTestCorp();
    const { archive } = await testArchive(testPool());
    await archive.storeBatch(corp.id, [
      textMessage('r1', '<script>alert(1)</script> 回扣', new Date('2026-10-01T01:00:00Z')),
      textMessage('r2', '回扣 第二条', new Date('2026-10-02T01:00:00Z')),
    ]);
    const granted = new Set<string>();
    const app = await buildHttpServer({
      config: configSchema.parse({}),
      logger: pino({ level: 'silent' }),
      metrics: new Metrics(),
      authorize: async (request, permission) => {
        if (!granted.has(permission) || request.headers['x-test'] !== 'yes') throw forbidden();
      },
      routes: [archiveRoutes(archive, new OrgRepository(testPool()))],
    });
    const url = `/api/v1/corps/${corp.slug}/messages/search?q=${encodeURIComponent('回扣')}&limit=1`;
    expect((await app.inject({ url, headers: { 'x-test': 'yes' } })).statusCode).toBe(403);
    granted.add('content.search.global');
    const first = await app.inject({ url, headers: { 'x-test': 'yes' } });
    expect(first.statusCode).toBe(200);
    const body = first.json();
    expect(body.items.map((i: { msgid: string }) => i.msgid)).toEqual(['r2']);
    const second = await app.inject({ url: `${url}&cursor=${body.next}`, headers: { 'x-test': 'yes' } });
    const item = second.json().items[0];
    expect(item.msgid).toBe('r1');
    expect(item.highlight.snippet).toBe('<script>alert(1)</script> 回扣'); // data, rendered as text by clients
    const bad = await app.inject({
      url: `/api/v1/corps/${corp.slug}/messages/search?q=${encodeURIComponent('(回扣')}`,
      headers: { 'x-test': 'yes' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('invalid_query');
    expect(
      (await app.inject({ url: '/api/v1/corps/nope/messages/search?q=x', headers: { 'x-test': 'yes' } }))
        .statusCode,
    ).toBe(404);
  });
});
