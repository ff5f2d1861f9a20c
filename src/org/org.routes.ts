import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { notFound } from '../platform/http/errors.js';
import type { OrgRepository } from './org.repository.js';

const corpSchema = z.object({
  id: z.number(),
  slug: z.string(),
  name: z.string(),
  wecomCorpId: z.string().nullable(),
  timezone: z.string(),
});

const departmentSchema = z.object({
  id: z.number(),
  parentId: z.number().nullable(),
  name: z.string(),
  sensitivePost: z.boolean().optional(),
});

/** Read-only organisation endpoints; every handler is one call into the repository. */
export function orgRoutes(repo: OrgRepository): FastifyPluginAsync {
  return async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>();
    app.get(
      '/api/v1/corps',
      {
        config: { permission: 'org.read' },
        schema: { tags: ['org'], response: { 200: z.object({ items: z.array(corpSchema) }) } },
      },
      async () => ({ items: await repo.listCorps() }),
    );
    app.get(
      '/api/v1/corps/:corp/departments',
      {
        config: { permission: 'org.read' },
        schema: {
          tags: ['org'],
          params: z.object({ corp: z.string().min(1) }),
          response: { 200: z.object({ items: z.array(departmentSchema) }) },
        },
      },
      async (request) => {
        const corp = await repo.findCorp(request.params.corp);
        if (!corp) throw notFound('corp');
        return { items: await repo.listDepartments(corp.id) };
      },
    );
  };
}
