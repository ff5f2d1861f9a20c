import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { detectionModule } from '../../src/detection/store/index.js';
import { ROLE_PERMISSIONS, ROLES, SELF_PERMISSIONS, type Role } from '../../src/access/permissions.js';
import { contentAccessModule } from '../../src/access/content/index.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { configSchema } from '../../src/platform/config/schema.js';
import { OrgRepository } from '../../src/org/org.repository.js';
import { JobRepository } from '../../src/platform/jobs/queue.js';
import { jobRoutes } from '../../src/platform/jobs/jobs.routes.js';
import { captureRoutes } from '../../src/wecom/connector/capture.routes.js';
import { connectorSettingsRoutes } from '../../src/wecom/connector/connector-settings.routes.js';
import { keysRoutes } from '../../src/crypto/keys.routes.js';
import { KeyService } from '../../src/crypto/keys.service.js';
import { notificationsModule } from '../../src/notifications/module.js';
import { orgRoutes } from '../../src/org/org.routes.js';
import { reviewModule } from '../../src/review/module.js';
import { trainingModule } from '../../src/training/module.js';
import { privacyModule } from '../../src/privacy/module.js';
import { testArchive } from '../support/archive.js';
import { closeTestPool, createTestCorp, testPool } from '../support/db.js';
import { harness, makeUser, signIn, type Client } from './harness.js';

afterAll(closeTestPool);

// Changes that act on every corp at once: a grant limited to one corp is not enough for them.
// Rotating the keyring changes every corp's keys.
const DEPLOYMENT_WIDE = /^\/api\/v1\/(detection\/(policies|templates)|keys\/)/;

// Routes whose callers change their own session (sign-out would end the client mid-matrix);
// test/access/auth.test.ts covers them one by one.
const SESSION_ROUTES = /^\/api\/v1\/auth\//;

/** Fills a route's parameters: `:corp` with the given corp, the rest with harmless placeholders. */
function urlFor(url: string, corp: string): string {
  return url
    .replace(':corp', corp)
    .replace(/:(\w+)/g, (_, name: string) => (name === 'id' ? '987654321' : `probe-${name}`));
}

describe('authorization matrix: every route × every role × in- and out-of-scope corps', () => {
  it('allows exactly what each role holds, and nothing in another corp', { timeout: 300_000 }, async () => {
    const pool = testPool();
    const org = new OrgRepository(pool);
    const { archive, keyring, store, envelope } = await testArchive(pool);
    const audit = new AuditLog(pool);
    const config = configSchema.parse({});
    const content = contentAccessModule({ pool, archive, keyring, org, audit, config: config.access });
    const review = reviewModule({
      pool,
      audit,
      content: content.content,
      org,
      keyring,
      config: config.review,
      baseUrl: 'http://localhost',
    });
    const jobs = new JobRepository(pool);
    const detection = detectionModule({ pool, archive, jobs, logger: pino({ level: 'silent' }) });
    const h = await harness({}, [
      jobRoutes(jobs),
      orgRoutes(org),
      ...content.routes,
      captureRoutes(pool, org),
      connectorSettingsRoutes({ pool, keyring, audit, org }),
      keysRoutes({ keys: new KeyService(pool, { keyring, deks: store, envelope }), jobs, audit, pool }),
      ...detection.routes,
      ...notificationsModule({ pool, keyring }).routes,
      ...trainingModule({ pool, audit }).routes,
      ...privacyModule({ pool, audit }).routes,
      ...review.routes,
    ]);
    const home = await createTestCorp(pool, 'home');
    const other = await createTestCorp(pool, 'other');
    const routes = h.app.routeTable.filter((r) => r.permission !== 'public' && !SESSION_ROUTES.test(r.url));
    expect(routes.length).toBeGreaterThan(10);

    const clients = new Map<Role, Client>();
    const everywhere = new Map<Role, Client>();
    for (const role of ROLES) {
      const user = await makeUser(h, [{ role, corpId: home.id }], { totp: role !== 'employee' });
      clients.set(role, await signIn(h, user));
      const wide = await makeUser(h, [{ role, corpId: null }], { totp: role !== 'employee' });
      everywhere.set(role, await signIn(h, wide));
    }
    const problems: string[] = [];
    for (const route of routes) {
      for (const role of ROLES) {
        const holds =
          ROLE_PERMISSIONS[role].includes(route.permission as never) ||
          SELF_PERMISSIONS.has(route.permission);
        const call = (corp: string, client = clients.get(role)!) =>
          client.request({
            method: route.method as 'GET',
            url: urlFor(route.url, corp),
            ...(route.method === 'GET' ? {} : { payload: {} }),
          });
        // A content route's own refusal (nothing of this corp in the caller's scope) comes after
        // the route check passed: test/access/content-scope.test.ts covers what each role sees.
        const allowed = (r: { statusCode: number; body: string }) =>
          (r.statusCode !== 401 && r.statusCode !== 403) || r.body.includes('"out_of_scope"');
        const inScope = await call(home.slug);
        const expected = holds && !(DEPLOYMENT_WIDE.test(route.url) && route.method !== 'GET');
        if (allowed(inScope) !== expected) {
          problems.push(
            `${role} ${route.method} ${route.url} (${route.permission}): ${inScope.statusCode}, expected ${expected ? 'allowed' : 'denied'}`,
          );
        }
        const wide = await call(other.slug, everywhere.get(role)!);
        if (allowed(wide) !== holds) {
          problems.push(
            `${role} everywhere ${route.method} ${route.url}: ${wide.statusCode}, expected ${holds ? 'allowed' : 'denied'}`,
          );
        }
        if (route.url.includes(':corp')) {
          const outOfScope = await call(other.slug);
          if (outOfScope.statusCode !== 403) {
            problems.push(
              `${role} ${route.method} ${route.url} in another corp: ${outOfScope.statusCode}, expected 403`,
            );
          }
        }
      }
    }
    expect(problems).toEqual([]);
  });
});
