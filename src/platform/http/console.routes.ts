import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';
import { packageRoot } from '../paths.js';
import { notFound } from './errors.js';

/** Where `npm run build:console` writes the console. */
export const consoleRoot = (): string => join(packageRoot(), 'console', 'dist');

const NOT_BUILT = `<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>Vigil</title>
<body style="font-family:sans-serif;margin:3rem"><h1>Vigil</h1>
<p>控制台尚未构建。运行 <code>npm run build:console</code> 后刷新。</p>
<p>The console is not built yet: run <code>npm run build:console</code>, then reload. The API is at <a href="/api/docs">/api/docs</a>.</p>`;

/**
 * The web console: hashed assets cached for a year, and index.html (never cached) for every other
 * path that is not an API route, so the client-side router owns the URL space. Files go out
 * precompressed (brotli or gzip, written by the build) when the browser accepts it.
 */
export function consoleRoutes(root = consoleRoot()): FastifyPluginAsync {
  return async (app) => {
    const built = existsSync(join(root, 'index.html'));
    if (built)
      await app.register(fastifyStatic, { root, serve: false, preCompressed: true, cacheControl: false });
    const open = { config: { permission: 'public' as const }, schema: { hide: true } };
    app.get('/assets/*', open, async (request, reply) => {
      if (!built) throw notFound('asset');
      const path = (request.params as { '*': string })['*'];
      return reply.header('cache-control', 'public, max-age=31536000, immutable').sendFile(`assets/${path}`);
    });
    app.get('/*', open, async (request, reply) => {
      if (request.url.startsWith('/api/')) throw notFound('route');
      reply.header('cache-control', 'no-store');
      if (!built) return reply.type('text/html; charset=utf-8').send(NOT_BUILT);
      return reply.sendFile('index.html');
    });
  };
}
