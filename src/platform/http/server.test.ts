import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { configSchema } from '../config/schema.js';
import { AppError, forbidden } from './errors.js';
import { healthRoutes } from './health.routes.js';
import { Metrics } from './metrics.js';
import { buildHttpServer } from './server.js';

const logger = pino({ level: 'silent' });

const sampleRoutes: FastifyPluginAsync = async (base) => {
  const app = base.withTypeProvider<ZodTypeProvider>();
  app.get('/public', { config: { permission: 'public' } }, async () => ({ ok: true }));
  app.get('/secret', { config: { permission: 'secrets.read' } }, async () => ({ secret: 42 }));
  app.post(
    '/echo',
    { config: { permission: 'public' }, schema: { body: z.object({ n: z.number().int() }) } },
    async (request) => ({ n: request.body.n }),
  );
  app.get('/boom', { config: { permission: 'public' } }, async () => {
    throw new Error('database password is hunter2');
  });
  app.get('/conflict', { config: { permission: 'public' } }, async () => {
    throw new AppError(409, 'already_exists', 'corp exists', { slug: 'demo' });
  });
};

async function server(overrides: Record<string, unknown> = {}) {
  const config = configSchema.parse({ server: { rateLimitPerMinute: 1000, ...overrides } });
  const metrics = new Metrics();
  return buildHttpServer({
    config,
    logger,
    metrics,
    authorize: async (request) => {
      if (request.headers['x-test-user'] !== 'allowed') throw forbidden('no grant');
    },
    routes: [sampleRoutes, healthRoutes(async () => [{ name: 'database', ok: true }], metrics)],
  });
}

describe('HTTP server', () => {
  it('answers errors in one shape with the request id', async () => {
    const app = await server();
    const notFound = await app.inject({ url: '/nowhere', headers: { 'x-request-id': 'req-12345678' } });
    expect(notFound.statusCode).toBe(404);
    expect(notFound.json()).toEqual({
      error: { code: 'not_found', message: 'no route for GET /nowhere', requestId: 'req-12345678' },
    });
    expect(notFound.headers['x-request-id']).toBe('req-12345678');

    const invalid = await app.inject({ method: 'POST', url: '/echo', payload: { n: 'x' } });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json().error.code).toBe('validation_failed');
    expect(invalid.json().error.details).toBeInstanceOf(Array);

    const conflict = await app.inject({ url: '/conflict' });
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json().error).toMatchObject({ code: 'already_exists', details: { slug: 'demo' } });
  });

  it('hides internal error messages from clients', async () => {
    const app = await server();
    const response = await app.inject({ url: '/boom' });
    expect(response.statusCode).toBe(500);
    expect(response.json().error).toMatchObject({ code: 'internal_error', message: 'internal error' });
    expect(response.body).not.toContain('hunter2');
  });

  it('enforces the permission each route declares', async () => {
    const app = await server();
    expect((await app.inject({ url: '/secret' })).statusCode).toBe(403);
    expect((await app.inject({ url: '/secret', headers: { 'x-test-user': 'allowed' } })).json()).toEqual({
      secret: 42,
    });
    expect((await app.inject({ url: '/public' })).statusCode).toBe(200);
  });

  it('refuses to start with a route that declares no permission', async () => {
    const config = configSchema.parse({});
    const metrics = new Metrics();
    const undeclared: FastifyPluginAsync = async (app) => {
      app.get('/open', async () => 'open');
    };
    await expect(
      buildHttpServer({
        config,
        logger,
        metrics,
        authorize: async () => undefined,
        routes: [undeclared],
      }).then((a) => a.ready()),
    ).rejects.toThrow(/GET \/open declares no permission/);
  });

  it('sends security headers and a strict content security policy', async () => {
    const app = await server();
    const response = await app.inject({ url: '/public' });
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['x-frame-options']).toBe('SAMEORIGIN');
    const csp = String(response.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
  });

  it('rate-limits clients', async () => {
    const app = await server({ rateLimitPerMinute: 3 });
    const codes = [];
    for (let i = 0; i < 5; i++) codes.push((await app.inject({ url: '/public' })).statusCode);
    expect(codes).toEqual([200, 200, 200, 429, 429]);
    expect((await app.inject({ url: '/public' })).json().error.code).toBe('rate_limited');
  });

  it('publishes an OpenAPI document, docs page, health and metrics', async () => {
    const app = await server();
    const openapi = (await app.inject({ url: '/api/openapi.json' })).json();
    expect(openapi.openapi).toMatch(/^3\./);
    expect(openapi.paths['/echo'].post.requestBody).toBeDefined();
    expect((await app.inject({ url: '/api/docs/' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/readyz' })).json()).toEqual({
      status: 'ready',
      checks: [{ name: 'database', ok: true }],
    });
    await app.inject({ url: '/public' });
    const metrics = (await app.inject({ url: '/metrics' })).body;
    expect(metrics).toContain(
      'vigil_http_request_duration_seconds_count{method="GET",route="/public",status="200"}',
    );
    expect(metrics).toContain('vigil_process_cpu_seconds_total');
  });

  it('serves TLS 1.3 only when given a certificate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-tls-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    const app = await server({ tls: { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') } });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as { port: number };
    const ca = readFileSync(join(dir, 'cert.pem'));
    const get = (maxVersion: 'TLSv1.2' | 'TLSv1.3') =>
      new Promise<string>((resolve, reject) => {
        const req = httpsRequest(
          { host: '127.0.0.1', port, path: '/public', ca, servername: 'localhost', maxVersion },
          (res) => {
            resolve(
              `${res.statusCode} ${(res.socket as unknown as { getProtocol(): string }).getProtocol()}`,
            );
          },
        );
        req.on('error', reject);
        req.end();
      });
    try {
      expect(await get('TLSv1.3')).toBe('200 TLSv1.3');
      await expect(get('TLSv1.2')).rejects.toThrow();
    } finally {
      await app.close();
    }
  });

  it('requires client certificates signed by the configured CA when asked (mutual TLS)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-mtls-'));
    const f = (name: string) => join(dir, name);
    const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
    openssl(
      'req',
      '-x509',
      ...ec,
      '-days',
      '1',
      '-subj',
      '/CN=vigil-test-ca',
      '-keyout',
      f('ca.key'),
      '-out',
      f('ca.pem'),
    );
    openssl(
      'req',
      '-x509',
      ...ec,
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-keyout',
      f('server.key'),
      '-out',
      f('server.pem'),
    );
    openssl('req', ...ec, '-subj', '/CN=integration', '-keyout', f('client.key'), '-out', f('client.csr'));
    openssl(
      'x509',
      '-req',
      '-in',
      f('client.csr'),
      '-CA',
      f('ca.pem'),
      '-CAkey',
      f('ca.key'),
      '-CAcreateserial',
      '-days',
      '1',
      '-out',
      f('client.pem'),
    );
    const app = await server({
      tls: { cert: f('server.pem'), key: f('server.key'), clientCa: f('ca.pem'), requireClientCert: true },
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as { port: number };
    const get = (withCert: boolean) =>
      new Promise<number | undefined>((resolve, reject) => {
        const req = httpsRequest(
          {
            host: '127.0.0.1',
            port,
            path: '/public',
            ca: readFileSync(f('server.pem')),
            servername: 'localhost',
            ...(withCert ? { cert: readFileSync(f('client.pem')), key: readFileSync(f('client.key')) } : {}),
          },
          (res) => resolve(res.statusCode),
        );
        req.on('error', reject);
        req.end();
      });
    try {
      expect(await get(true)).toBe(200);
      await expect(get(false)).rejects.toThrow();
    } finally {
      await app.close();
    }
  });
});
