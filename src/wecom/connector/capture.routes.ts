import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Pool } from '../../platform/db/pool.js';
import { notFound } from '../../platform/http/errors.js';
import type { OrgRepository } from '../../org/org.repository.js';
import { ConnectorRepository } from './connector.repository.js';
import { captureHealth } from './health.js';

/** Capture health per corp, the quarantine with reasons, and a retry action. */
export function captureRoutes(pool: Pool, org: OrgRepository): FastifyPluginAsync {
  return async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>();
    const corpParam = z.object({ corp: z.string() });
    const corpOf = async (idOrSlug: string) => {
      const corp = await org.findCorp(idOrSlug);
      if (!corp) throw notFound('corp');
      return corp;
    };

    app.get(
      '/api/v1/corps/:corp/capture-health',
      { config: { permission: 'capture.read' }, schema: { tags: ['capture'], params: corpParam } },
      async (request) => {
        const health = await captureHealth(pool, (await corpOf(request.params.corp)).id);
        if (!health) throw notFound('WeCom connector');
        return health;
      },
    );

    app.get(
      '/api/v1/corps/:corp/quarantine',
      {
        config: { permission: 'capture.read' },
        schema: {
          tags: ['capture'],
          params: corpParam,
          querystring: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }),
        },
      },
      async (request) => ({
        items: await new ConnectorRepository(pool).attention(
          (await corpOf(request.params.corp)).id,
          request.query.limit,
        ),
      }),
    );

    app.post(
      '/api/v1/corps/:corp/quarantine/:msgid/retry',
      {
        config: { permission: 'capture.manage' },
        schema: {
          tags: ['capture'],
          params: z.object({ corp: z.string(), msgid: z.string().min(1).max(200) }),
        },
      },
      async (request) => {
        const corp = await corpOf(request.params.corp);
        const retried = await new ConnectorRepository(pool).retry(corp.id, request.params.msgid);
        if (!retried) throw notFound('quarantined or held message');
        return { msgid: request.params.msgid, state: 'pending' };
      },
    );
  };
}
