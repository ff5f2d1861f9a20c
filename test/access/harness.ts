import { mkdtempSync } from 'node:fs';
import { randomBytes, randomInt } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, FastifyPluginAsync, InjectOptions, LightMyRequestResponse } from 'fastify';
import { generate, generateSecret } from 'otplib';
import { pino } from 'pino';
import { configSchema } from '../../src/platform/config/schema.js';
import { buildHttpServer } from '../../src/platform/http/server.js';
import { Metrics } from '../../src/platform/http/metrics.js';
import { accessModule, type AccessModule, type AccessModuleDeps } from '../../src/access/module.js';
import { AccessRepository } from '../../src/access/access.repository.js';
import { aesGcmSecretBox } from '../../src/access/secret-box.js';
import type { RoleInput } from '../../src/access/users.service.js';
import { contentAccessModule } from '../../src/access/content/index.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { NotificationService } from '../../src/notifications/notifications.service.js';
import { OrgRepository } from '../../src/org/org.repository.js';
import { testArchive } from '../support/archive.js';
import { testPool } from '../support/db.js';

export interface Harness {
  app: FastifyInstance;
  mod: AccessModule;
  repo: AccessRepository;
  secrets: ReturnType<typeof aesGcmSecretBox>;
  /** A fresh client address, so rate limits of one test never touch another. */
  ip(): string;
}

/** An HTTP server with the access module's authorizer and routes (plus `extra` probe routes). */
export async function harness(
  access: Record<string, unknown> = {},
  extra: FastifyPluginAsync[] = [],
  server: Record<string, unknown> = {},
  /** Optional module dependencies, e.g. the keyring WeCom sign-in reads app secrets from. */
  deps: Pick<AccessModuleDeps, 'keyring'> = {},
): Promise<Harness> {
  const pool = testPool();
  const config = configSchema.parse({ server: { rateLimitPerMinute: 100_000, ...server }, access });
  const secrets = aesGcmSecretBox(randomBytes(32));
  const mod = accessModule({
    pool,
    config,
    logger: pino({ level: 'silent' }),
    dataDir: mkdtempSync(join(tmpdir(), 'vigil-access-')),
    secrets,
    ...deps,
  });
  const app = await buildHttpServer({
    config,
    logger: pino({ level: 'silent' }),
    metrics: new Metrics(),
    authorize: mod.authorize,
    routes: [...mod.routes, ...extra],
  });
  return {
    app,
    mod,
    repo: new AccessRepository(pool),
    secrets,
    ip: () => `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`,
  };
}

export const PASSWORD = 'correct horse battery staple';

/** A user with roles; with `totp` an enrolled TOTP secret (returned). */
export async function makeUser(
  h: Harness,
  roles: RoleInput[],
  options: { totp?: boolean; username?: string } = {},
): Promise<{ id: string; username: string; totpSecret?: string }> {
  const username = options.username ?? `u-${randomBytes(5).toString('hex')}`;
  const { user } = await h.mod.users.create({ actor: 'system' }, { username, password: PASSWORD, roles });
  if (!options.totp) return { id: user.id, username };
  const secret = generateSecret();
  const sealed = await h.secrets.encryptSecret(Buffer.from(secret), `access/totp/user:${user.id}`);
  await h.repo.enableTotp(user.id, sealed, 0);
  return { id: user.id, username, totpSecret: secret };
}

export interface Client {
  cookie: string;
  csrf: string;
  ip: string;
  stage: string;
  request(options: InjectOptions & { csrf?: boolean }): Promise<LightMyRequestResponse>;
}

/** The cookie pair `name=value` from a response's Set-Cookie. */
export function cookieFrom(setCookie: string | string[] | undefined): string {
  const header = Array.isArray(setCookie) ? setCookie[0] : setCookie;
  if (!header) throw new Error('no Set-Cookie');
  return header.split(';')[0]!;
}

/** A TOTP code for now (offset in 30 s steps). */
export const totpCode = (secret: string, stepOffset = 0) =>
  generate({ secret, epoch: Math.floor(Date.now() / 1000) + stepOffset * 30 });

/** Signs in (and completes TOTP when the user has a secret); returns a client bound to the session. */
export async function signIn(
  h: Harness,
  user: { username: string; totpSecret?: string },
  ip = h.ip(),
): Promise<Client> {
  const response = await h.app.inject({
    method: 'POST',
    url: '/api/v1/auth/sign-in',
    payload: { username: user.username, password: PASSWORD },
    remoteAddress: ip,
  });
  if (response.statusCode !== 200) throw new Error(`sign-in failed: ${response.body}`);
  let cookie = cookieFrom(response.headers['set-cookie']);
  let { csrfToken, stage } = response.json() as { csrfToken: string; stage: string };
  if (stage === 'totp' && user.totpSecret) {
    const second = await h.app.inject({
      method: 'POST',
      url: '/api/v1/auth/totp',
      headers: { cookie, 'x-csrf-token': csrfToken },
      payload: { code: await totpCode(user.totpSecret) },
      remoteAddress: ip,
    });
    if (second.statusCode !== 200) throw new Error(`totp failed: ${second.body}`);
    cookie = cookieFrom(second.headers['set-cookie']);
    ({ csrfToken, stage } = second.json() as { csrfToken: string; stage: string });
  }
  return clientFor(h, cookie, csrfToken, ip, stage);
}

export function clientFor(h: Harness, cookie: string, csrf: string, ip: string, stage = 'full'): Client {
  return {
    cookie,
    csrf,
    ip,
    stage,
    request: ({ csrf: withCsrf = true, headers, ...options }) =>
      h.app.inject({
        remoteAddress: ip,
        ...options,
        headers: { cookie, ...(withCsrf ? { 'x-csrf-token': csrf } : {}), ...(headers ?? {}) },
      }),
  };
}

/**
 * The access module with the content choke point's routes (search, conversations, grants, saved
 * searches…) over the test pool and a test archive, as the content tests need it.
 */
export async function contentHarness() {
  const pool = testPool();
  const org = new OrgRepository(pool);
  const { archive, keyring } = await testArchive(pool);
  const content = contentAccessModule({
    pool,
    archive,
    keyring,
    org,
    audit: new AuditLog(pool),
    config: configSchema.parse({}).access,
    notifications: new NotificationService(pool),
  });
  return { h: await harness({}, content.routes), pool, org, archive, content };
}
