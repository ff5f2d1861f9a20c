import { mkdtempSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeTestPool, testPool } from '../../test/support/db.js';
import { accessModule, type AccessModule } from '../access/module.js';
import { aesGcmSecretBox } from '../access/secret-box.js';
import { configSchema } from '../platform/config/schema.js';
import { Metrics } from '../platform/http/metrics.js';
import { buildHttpServer } from '../platform/http/server.js';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { notificationsRoutes } from './notifications.routes.js';
import { NotificationService } from './notifications.service.js';

afterAll(closeTestPool);

const PASSWORD = 'correct horse battery staple';
let app: FastifyInstance;
let access: AccessModule;

beforeAll(async () => {
  const config = configSchema.parse({ server: { rateLimitPerMinute: 100_000 } });
  access = accessModule({
    pool: testPool(),
    config,
    logger: pino({ level: 'silent' }),
    dataDir: mkdtempSync(join(tmpdir(), 'vigil-notifications-')),
    secrets: aesGcmSecretBox(randomBytes(32)),
  });
  app = await buildHttpServer({
    config,
    logger: pino({ level: 'silent' }),
    metrics: new Metrics(),
    authorize: access.authorize,
    routes: [...access.routes, notificationsRoutes(new NotificationService(testPool()))],
  });
});

/** A new account with an employee role, signed in: a request function bound to its session. */
async function signedIn(): Promise<{
  id: string;
  request(o: InjectOptions): Promise<LightMyRequestResponse>;
}> {
  const username = `nt-${randomBytes(5).toString('hex')}`;
  const { user } = await access.users.create(
    { actor: 'system' },
    { username, password: PASSWORD, roles: [{ role: 'employee', corpId: null, departmentId: null }] },
  );
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/sign-in',
    payload: { username, password: PASSWORD },
  });
  expect(res.json()).toMatchObject({ stage: 'full' });
  const cookie = String(res.headers['set-cookie']).split(';')[0]!;
  const csrf = (res.json() as { csrfToken: string }).csrfToken;
  return {
    id: user.id,
    request: (o) => app.inject({ ...o, headers: { cookie, 'x-csrf-token': csrf, ...o.headers } }),
  };
}

async function notify(userId: string, title: string): Promise<string> {
  const r = await new NotificationService(testPool()).notify(testPool(), {
    corpId: null,
    recipients: { userIds: [userId] },
    kind: 'test.inbox',
    title,
    body: `${title} body`,
    link: '/somewhere',
  });
  return r.notificationIds[0]!;
}

describe('notifications API', () => {
  it("lists only one's own notifications, with an unread filter and paging, and marks them read", async () => {
    const me = await signedIn();
    const someoneElse = await signedIn();
    const mine = [await notify(me.id, 'one'), await notify(me.id, 'two'), await notify(me.id, 'three')];
    const theirs = await notify(someoneElse.id, 'not yours');

    const page1 = await me.request({ method: 'GET', url: '/api/v1/notifications?limit=2' });
    expect(page1.statusCode).toBe(200);
    expect(page1.json()).toMatchObject({
      items: [
        { id: mine[2], title: 'three', body: 'three body', link: '/somewhere', readAt: null },
        { id: mine[1], title: 'two' },
      ],
      unreadCount: 3,
      nextBefore: mine[1],
    });
    expect(Object.keys(page1.json().items[0]).sort()).toEqual([
      'body',
      'corpId',
      'createdAt',
      'id',
      'kind',
      'link',
      'readAt',
      'title',
    ]);
    const page2 = await me.request({ method: 'GET', url: `/api/v1/notifications?limit=2&before=${mine[1]}` });
    expect(page2.json()).toMatchObject({ items: [{ id: mine[0] }], nextBefore: null });

    // Someone else's notification is not found, and stays unread.
    expect(
      (await me.request({ method: 'POST', url: `/api/v1/notifications/${theirs}/read` })).statusCode,
    ).toBe(404);
    expect(
      (await someoneElse.request({ method: 'GET', url: '/api/v1/notifications?unread=true' })).json(),
    ).toMatchObject({
      items: [{ id: theirs, readAt: null }],
      unreadCount: 1,
    });

    expect(
      (await me.request({ method: 'POST', url: `/api/v1/notifications/${mine[0]}/read` })).statusCode,
    ).toBe(204);
    const unread = await me.request({ method: 'GET', url: '/api/v1/notifications?unread=true' });
    expect(unread.json().items.map((n: { id: string }) => n.id)).toEqual([mine[2], mine[1]]);
    expect(unread.json().unreadCount).toBe(2);

    const all = await me.request({ method: 'POST', url: '/api/v1/notifications/read-all' });
    expect(all.json()).toEqual({ marked: 2 });
    expect(
      (await me.request({ method: 'GET', url: '/api/v1/notifications?unread=true' })).json(),
    ).toMatchObject({
      items: [],
      unreadCount: 0,
    });
    // Reading a second time is fine.
    expect(
      (await me.request({ method: 'POST', url: `/api/v1/notifications/${mine[0]}/read` })).statusCode,
    ).toBe(204);
  });

  it('needs a signed-in session', async () => {
    expect((await app.inject({ method: 'GET', url: '/api/v1/notifications' })).statusCode).toBe(401);
  });
});
