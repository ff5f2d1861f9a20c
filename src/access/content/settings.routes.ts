import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { OrgRepository } from '../../org/org.repository.js';
import { notFound } from '../../platform/http/errors.js';
import { principalOf } from '../authorizer.js';
import type { ContentSettingsService } from './settings.service.js';

const categories = z.object({
  categories: z.array(z.string().regex(/^[a-z][a-z0-9_-]{0,39}$/)).max(20),
});

/** Data categories and pseudonym settings. */
export function contentSettingsRoutes(deps: {
  settings: ContentSettingsService;
  org: OrgRepository;
}): FastifyPluginAsync {
  const corpId = async (slug: string) => {
    const corp = await deps.org.findCorp(slug);
    if (!corp) throw notFound('corp');
    return corp.id;
  };
  const tags = ['content'];
  return async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>();
    app.put(
      '/api/v1/corps/:corp/departments/:department/categories',
      {
        config: { permission: 'config.manage' },
        schema: {
          tags,
          summary: 'Data categories the department’s conversations carry',
          params: z.object({ corp: z.string(), department: z.string().regex(/^\d+$/) }),
          body: categories,
        },
      },
      async (request, reply) => {
        const { params, body } = request;
        await deps.settings.setDepartmentCategories(
          principalOf(request),
          await corpId(params.corp),
          Number(params.department),
          body.categories,
          request.ip,
        );
        return reply.status(204).send();
      },
    );
    app.put(
      '/api/v1/corps/:corp/conversations/:conversation/categories',
      {
        config: { permission: 'review.decide' },
        schema: {
          tags,
          summary: 'Categories set by hand on a conversation',
          params: z.object({ corp: z.string(), conversation: z.string().regex(/^\d+$/) }),
          body: categories,
        },
      },
      async (request, reply) => {
        const { params, body } = request;
        await deps.settings.setConversationCategories(
          principalOf(request),
          await corpId(params.corp),
          params.conversation,
          body.categories,
          request.ip,
        );
        return reply.status(204).send();
      },
    );
    app.put(
      '/api/v1/corps/:corp/pseudonyms',
      {
        config: { permission: 'config.manage' },
        schema: {
          tags,
          summary: 'Show external contacts, or everyone, under pseudonyms',
          params: z.object({ corp: z.string() }),
          body: z.object({ mode: z.enum(['none', 'external', 'all']) }),
        },
      },
      async (request, reply) => {
        await deps.settings.setPseudonymMode(
          principalOf(request),
          await corpId(request.params.corp),
          request.body.mode,
          request.ip,
        );
        return reply.status(204).send();
      },
    );
  };
}
