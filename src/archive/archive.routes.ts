import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError, notFound } from '../platform/http/errors.js';
import { QuerySyntaxError } from '../crypto/blind-index.js';
import type { OrgRepository } from '../org/org.repository.js';
import type { ArchiveService, SearchHit } from './archive.service.js';

const hitSchema = z.object({
  msgid: z.string(),
  seq: z.string().nullable(),
  msgTime: z.string(),
  msgtype: z.string(),
  action: z.string(),
  senderId: z.string().nullable(),
  conversationId: z.string(),
  content: z.discriminatedUnion('state', [
    z.object({ state: z.literal('ok'), raw: z.string() }),
    z.object({ state: z.literal('destroyed') }),
    z.object({ state: z.literal('unreadable'), reason: z.string() }),
  ]),
  highlight: z
    .object({
      snippet: z.string(),
      ranges: z.array(z.object({ start: z.number(), end: z.number() })),
      truncatedStart: z.boolean(),
      truncatedEnd: z.boolean(),
    })
    .nullable(),
});

const commaList = z
  .string()
  .transform((s) => s.split(',').filter(Boolean))
  .optional();

function present(hit: SearchHit): z.infer<typeof hitSchema> {
  const m = hit.message;
  return {
    msgid: m.msgid,
    seq: m.seq,
    msgTime: m.msgTime.toISOString(),
    msgtype: m.msgtype,
    action: m.action,
    senderId: m.senderId,
    conversationId: m.conversationId,
    content: m.content,
    highlight: hit.highlight && {
      snippet: hit.highlight.snippet,
      ranges: hit.highlight.ranges,
      truncatedStart: hit.highlight.truncatedStart,
      truncatedEnd: hit.highlight.truncatedEnd,
    },
  };
}

/** Archive search. Global content search needs the `content.search.global` permission (dual control). */
export function archiveRoutes(archive: ArchiveService, org: OrgRepository): FastifyPluginAsync {
  return async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>();
    app.get(
      '/api/v1/corps/:corp/messages/search',
      {
        config: { permission: 'content.search.global' },
        schema: {
          tags: ['archive'],
          params: z.object({ corp: z.string() }),
          querystring: z.object({
            q: z.string().max(500).default(''),
            from: z.coerce.date().optional(),
            to: z.coerce.date().optional(),
            employee: z.string().optional(),
            externalContact: z.string().optional(),
            conversation: z.string().regex(/^\d+$/).optional(),
            departments: commaList,
            msgtypes: commaList,
            hasAttachment: z
              .enum(['true', 'false'])
              .transform((v) => v === 'true')
              .optional(),
            cursor: z.string().optional(),
            limit: z.coerce.number().int().min(1).max(200).default(50),
          }),
          response: { 200: z.object({ items: z.array(hitSchema), next: z.string().nullable() }) },
        },
      },
      async (request) => {
        const corp = await org.findCorp(request.params.corp);
        if (!corp) throw notFound('corp');
        const q = request.query;
        try {
          const page = await archive.search(
            corp.id,
            q.q,
            {
              from: q.from,
              to: q.to,
              employeeId: q.employee,
              externalContactId: q.externalContact,
              conversationId: q.conversation,
              departmentIds: q.departments?.map(Number),
              msgtypes: q.msgtypes,
              hasAttachment: q.hasAttachment,
            },
            { cursor: q.cursor, limit: q.limit },
          );
          return { items: page.hits.map(present), next: page.next };
        } catch (err) {
          if (err instanceof QuerySyntaxError || err instanceof RangeError) {
            throw new AppError(400, 'invalid_query', (err as Error).message);
          }
          throw err;
        }
      },
    );
  };
}
