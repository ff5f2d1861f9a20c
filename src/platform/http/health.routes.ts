import type { FastifyPluginAsync } from 'fastify';
import type { Metrics } from './metrics.js';

export interface ReadinessCheck {
  name: string;
  ok: boolean;
  detail?: string;
}

/** Liveness, readiness and Prometheus endpoints (public: they reveal no content). */
export function healthRoutes(
  readiness: () => Promise<ReadinessCheck[]>,
  metrics: Metrics,
): FastifyPluginAsync {
  return async (app) => {
    app.get('/healthz', { config: { permission: 'public' }, schema: { hide: true } }, async () => ({
      status: 'ok',
    }));
    app.get(
      '/readyz',
      { config: { permission: 'public' }, schema: { hide: true } },
      async (_request, reply) => {
        const checks = await readiness();
        const ready = checks.every((c) => c.ok);
        return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks });
      },
    );
    app.get(
      '/metrics',
      { config: { permission: 'public' }, schema: { hide: true } },
      async (_request, reply) => {
        reply.header('content-type', metrics.registry.contentType);
        return metrics.registry.metrics();
      },
    );
  };
}
