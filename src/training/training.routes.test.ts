import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { closeTestPool, testPool } from '../../test/support/db.js';
import type { Principal } from '../access/types.js';
import { AuditLog } from '../audit/audit-log.js';
import { configSchema } from '../platform/config/schema.js';
import { forbidden } from '../platform/http/errors.js';
import { Metrics } from '../platform/http/metrics.js';
import { buildHttpServer } from '../platform/http/server.js';
import { trainingModule } from './module.js';
import { account, corpWithEmployees } from './test-fixture.js';

afterAll(closeTestPool);

const day = (days: number): string => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

async function setup() {
  const granted = new Set<string>();
  const app = await buildHttpServer({
    config: configSchema.parse({}),
    logger: pino({ level: 'silent' }),
    metrics: new Metrics(),
    authorize: async (request, permission) => {
      if (!granted.has(permission)) throw forbidden();
      request.principal = { userId: '1', username: 'admin', actor: 'user:1', via: 'session' } as Principal;
    },
    routes: trainingModule({ pool: testPool(), audit: new AuditLog(testPool()) }).routes,
  });
  return { app, granted };
}

describe('training API', () => {
  it('imports text/csv and JSON bodies and lists records with a user status (users.manage)', async () => {
    const corp = await corpWithEmployees();
    const linked = await account({ corpId: corp.id, userid: 'user005' });
    const { app, granted } = await setup();
    const url = `/api/v1/corps/${corp.slug}/training/import`;
    const csv = `userid,course,completed_at,valid_months\r\nuser005,AML,${day(-10)},12\r\nghost,AML,${day(-10)},\r\n`;
    const denied = await app.inject({
      method: 'POST',
      url,
      headers: { 'content-type': 'text/csv' },
      payload: csv,
    });
    expect(denied.statusCode).toBe(403);
    granted.add('users.manage');

    const imported = await app.inject({
      method: 'POST',
      url: `${url}?fileName=lms.csv`,
      headers: { 'content-type': 'text/csv; charset=utf-8' },
      payload: csv,
    });
    expect(imported.statusCode).toBe(200);
    expect(imported.json()).toMatchObject({
      rows: 2,
      inserted: 1,
      rejected: 1,
      rejects: [{ line: 3, reason: 'unknown person: no employee "ghost" in this corp' }],
    });
    const json = await app.inject({ method: 'POST', url, payload: { csv, fileName: 'again.csv' } });
    expect(json.json()).toMatchObject({ inserted: 0, unchanged: 1, rejected: 1 });

    const bad = await app.inject({ method: 'POST', url, payload: { csv: 'who,what\nx,y\n' } });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().error).toMatchObject({ code: 'invalid_csv', message: expect.stringMatching(/header/) });

    const listed = await app.inject({
      method: 'GET',
      url: `/api/v1/corps/${corp.slug}/training?user=${linked.username}`,
    });
    expect(listed.statusCode).toBe(200);
    expect(listed.json()).toMatchObject({
      items: [{ employeeUserid: 'user005', course: 'AML', source: 'api', importedBy: 'user:1' }],
      nextBefore: null,
      status: [{ course: 'AML', state: 'valid' }],
    });
    const missing = await app.inject({
      method: 'GET',
      url: `/api/v1/corps/${corp.slug}/training?user=${linked.username}&course=Ethics`,
    });
    expect(missing.json()).toMatchObject({
      items: [],
      status: [{ course: 'Ethics', state: 'missing', expiresAt: null }],
    });
    expect(
      (await app.inject({ method: 'GET', url: `/api/v1/corps/${corp.slug}/training?user=nobody-at-all` }))
        .statusCode,
    ).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/api/v1/corps/no-such-corp/training' })).statusCode).toBe(
      404,
    );
  });
});
