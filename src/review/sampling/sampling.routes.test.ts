import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { closeTestPool, createTestCorp, testPool } from '../../../test/support/db.js';
import type { Principal } from '../../access/types.js';
import { AuditLog } from '../../audit/audit-log.js';
import { configSchema } from '../../platform/config/schema.js';
import { forbidden } from '../../platform/http/errors.js';
import { Metrics } from '../../platform/http/metrics.js';
import { buildHttpServer } from '../../platform/http/server.js';
import { samplingModule } from './index.js';
import { generatedMonth, samplingConfig } from './test-fixture.js';

afterAll(closeTestPool);

async function setup() {
  const granted = new Set<string>();
  const pool = testPool();
  const app = await buildHttpServer({
    config: configSchema.parse({}),
    logger: pino({ level: 'silent' }),
    metrics: new Metrics(),
    authorize: async (request, permission) => {
      if (!granted.has(permission)) throw forbidden();
      request.principal = { userId: '1', username: 'lead', actor: 'user:1', via: 'session' } as Principal;
    },
    routes: samplingModule({ pool, config: samplingConfig({ monthlyRate: 0.1 }), audit: new AuditLog(pool) })
      .routes,
  });
  return { app, granted };
}

describe('sampling API', () => {
  it('runs a period by hand once (config.manage) and reports it (reports.read)', async () => {
    const pool = testPool();
    const corp = await createTestCorp(pool, 'sapi');
    await generatedMonth(pool, corp.id, 300, 13);
    const { app, granted } = await setup();
    const runs = `/api/v1/corps/${corp.slug}/review/sampling/runs`;
    const report = `/api/v1/corps/${corp.slug}/review/sampling/report?from=2025-03-01&to=2025-04-01`;
    const body = { kind: 'monthly_random', period: '2025-03' };

    expect((await app.inject({ method: 'POST', url: runs, payload: body })).statusCode).toBe(403);
    expect((await app.inject({ method: 'GET', url: report })).statusCode).toBe(403);
    granted.add('config.manage');

    const first = await app.inject({ method: 'POST', url: runs, payload: body });
    expect(first.statusCode).toBe(201);
    const run = first.json().run;
    expect(first.json()).toMatchObject({
      created: true,
      run: { kind: 'monthly_random', period: '2025-03', rate: 0.1 },
    });
    expect(first.json().alertsCreated).toBe(run.selected);
    const again = await app.inject({ method: 'POST', url: runs, payload: body });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ created: false, alertsCreated: 0, run: { id: run.id } });

    const { rows } = await pool.query(
      `SELECT actor, resource_ids, details FROM audit_events WHERE corp_id = $1 AND action = 'review.sampling.run'`,
      [corp.id],
    );
    expect(rows).toEqual([
      {
        actor: 'user:1',
        resource_ids: [run.id],
        details: {
          kind: 'monthly_random',
          period: '2025-03',
          rate: 0.1,
          population: run.population,
          selected: run.selected,
        },
      },
    ]);

    const badPeriod = await app.inject({
      method: 'POST',
      url: runs,
      payload: { kind: 'weekly_sensitive', period: '2025-03' },
    });
    expect(badPeriod.statusCode).toBe(400);
    expect(badPeriod.json().error).toMatchObject({
      code: 'invalid_period',
      message: expect.stringMatching(/Www/),
    });
    const future = await app.inject({
      method: 'POST',
      url: runs,
      payload: { kind: 'recheck', period: '2999-01-01' },
    });
    expect(future.statusCode).toBe(409);
    const unknownKind = await app.inject({
      method: 'POST',
      url: runs,
      payload: { kind: 'yearly', period: '2025' },
    });
    expect(unknownKind.statusCode).toBe(400);

    granted.add('reports.read');
    const read = await app.inject({ method: 'GET', url: report });
    expect(read.statusCode).toBe(200);
    expect(read.json()).toMatchObject({
      corpId: corp.id,
      monthlyRandom: { configuredRate: 0.1, runs: 1, population: run.population, selected: run.selected },
      humanReview: { definition: expect.stringMatching(/automated decisions/), target: 0.3 },
    });
    expect(
      (
        await app.inject({
          method: 'GET',
          url: `/api/v1/corps/${corp.slug}/review/sampling/report?from=2025-03-01`,
        })
      ).statusCode,
    ).toBe(400);
    expect(
      (
        await app.inject({
          method: 'GET',
          url: '/api/v1/corps/no-such-corp/review/sampling/report?from=2025-03-01&to=2025-04-01',
        })
      ).statusCode,
    ).toBe(404);
  });
});
