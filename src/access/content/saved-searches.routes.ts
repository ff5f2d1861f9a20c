import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { OrgRepository } from '../../org/org.repository.js';
import { notFound } from '../../platform/http/errors.js';
import { principalOf } from '../authorizer.js';
import { savedFilters, type SavedSearchRepository } from './saved-searches.js';

const corpParams = z.object({ corp: z.string() });

/** The signed-in user's saved searches in a corp (content.read: whoever may search). */
export function savedSearchRoutes(deps: {
  searches: SavedSearchRepository;
  org: OrgRepository;
}): FastifyPluginAsync {
  const corpId = async (slug: string) => {
    const corp = await deps.org.findCorp(slug);
    if (!corp) throw notFound('corp');
    return corp.id;
  };
  const config = { permission: 'content.read' } as const;
  const tags = ['content'];
  return async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>();
    app.get(
      '/api/v1/corps/:corp/saved-searches',
      { config, schema: { tags, summary: 'My saved searches', params: corpParams } },
      async (request) => ({
        items: await deps.searches.list(principalOf(request).userId, await corpId(request.params.corp)),
      }),
    );
    app.post(
      '/api/v1/corps/:corp/saved-searches',
      {
        config,
        schema: {
          tags,
          summary: 'Save a search under a name (replaces my search of that name)',
          params: corpParams,
          body: z.object({
            name: z.string().trim().min(1).max(100),
            query: z.string().max(500),
            filters: savedFilters.default({}),
          }),
        },
      },
      async (request, reply) => {
        const saved = await deps.searches.save(
          principalOf(request).userId,
          await corpId(request.params.corp),
          request.body,
        );
        return reply.status(201).send(saved);
      },
    );
    app.delete(
      '/api/v1/corps/:corp/saved-searches/:id',
      {
        config,
        schema: {
          tags,
          summary: 'Delete my saved search',
          params: corpParams.extend({ id: z.string().regex(/^\d+$/) }),
        },
      },
      async (request, reply) => {
        const { corp, id } = request.params;
        if (!(await deps.searches.delete(principalOf(request).userId, await corpId(corp), id)))
          throw notFound('saved search');
        return reply.status(204).send();
      },
    );
  };
}
