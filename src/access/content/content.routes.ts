import { Readable } from 'node:stream';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { QuerySyntaxError } from '../../crypto/blind-index.js';
import type { OrgRepository } from '../../org/org.repository.js';
import { AppError, notFound } from '../../platform/http/errors.js';
import { principalOf } from '../authorizer.js';
import type { ContentAccessService, Viewer } from './content-access.service.js';
import type { ViewedMessage } from './present.js';

const messageView = z.object({
  msgid: z.string(),
  seq: z.string().nullable(),
  msgTime: z.string(),
  msgtype: z.string(),
  action: z.string(),
  senderId: z.string().nullable(),
  conversationId: z.string(),
  hasAttachment: z.boolean(),
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

const pageView = z.object({
  items: z.array(messageView),
  next: z.string().nullable(),
  watermark: z.string(),
});

const commaList = z
  .string()
  .transform((s) => s.split(',').filter(Boolean))
  .optional();
const corpParams = z.object({ corp: z.string() });
const numericId = z.string().regex(/^\d+$/);

const show = (m: ViewedMessage): z.infer<typeof messageView> => ({
  msgid: m.msgid,
  seq: m.seq,
  msgTime: m.msgTime.toISOString(),
  msgtype: m.msgtype,
  action: m.action,
  senderId: m.senderId,
  conversationId: m.conversationId,
  hasAttachment: m.hasAttachment,
  content: m.content,
  highlight: m.highlight,
});

/**
 * Message content over HTTP. Every route hands the viewer to the content access service, which
 * decides what is visible; the route permission only says the caller may use the reader at all.
 * Message text is returned as data (JSON strings), never as markup.
 */
export function contentRoutes(deps: {
  content: ContentAccessService;
  org: OrgRepository;
}): FastifyPluginAsync {
  const viewer = (request: FastifyRequest): Viewer => ({ principal: principalOf(request), ip: request.ip });
  const corpId = async (slug: string): Promise<number> => {
    const corp = await deps.org.findCorp(slug);
    if (!corp) throw notFound('corp');
    return corp.id;
  };
  const badQuery = (err: unknown): never => {
    if (err instanceof QuerySyntaxError || err instanceof RangeError)
      throw new AppError(400, 'invalid_query', (err as Error).message);
    throw err;
  };
  const config = { permission: 'content.read' } as const;
  const tags = ['content'];

  return async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>();
    app.get(
      '/api/v1/corps/:corp/messages/search',
      {
        config,
        schema: {
          tags,
          summary: 'Search message content in scope (phrases, AND / OR / NOT)',
          params: corpParams,
          querystring: z.object({
            q: z.string().max(500).default(''),
            from: z.coerce.date().optional(),
            to: z.coerce.date().optional(),
            employee: z.string().optional(),
            externalContact: z.string().optional(),
            conversation: numericId.optional(),
            departments: commaList,
            msgtypes: commaList,
            hasAttachment: z
              .enum(['true', 'false'])
              .transform((v) => v === 'true')
              .optional(),
            cursor: z.string().optional(),
            limit: z.coerce.number().int().min(1).max(200).default(50),
          }),
          response: { 200: pageView },
        },
      },
      async (request) => {
        const q = request.query;
        const page = await deps.content
          .search(
            viewer(request),
            await corpId(request.params.corp),
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
          )
          .catch(badQuery);
        return { ...page, items: page.items.map(show) };
      },
    );

    app.get(
      '/api/v1/corps/:corp/conversations',
      {
        config,
        schema: {
          tags,
          summary: 'Conversations in scope, latest activity first (mine=true: those I am in)',
          params: corpParams,
          querystring: z.object({
            mine: z
              .enum(['true', 'false'])
              .transform((v) => v === 'true')
              .optional(),
            cursor: z.string().max(50).optional(),
            limit: z.coerce.number().int().min(1).max(200).default(50),
          }),
          response: {
            200: z.object({
              items: z.array(
                z.object({
                  id: z.string(),
                  kind: z.enum(['internal', 'external', 'group']),
                  title: z.string().nullable(),
                  lastMessageAt: z.string(),
                  memberCount: z.number(),
                  counterparts: z.array(
                    z.object({
                      id: z.string(),
                      kind: z.enum(['employee', 'external', 'robot']),
                      name: z.string().nullable(),
                    }),
                  ),
                }),
              ),
              next: z.string().nullable(),
              watermark: z.string(),
            }),
          },
        },
      },
      async (request) => {
        const list = await deps.content
          .conversations(viewer(request), await corpId(request.params.corp), request.query)
          .catch(badQuery);
        return {
          ...list,
          items: list.items.map((c) => ({ ...c, lastMessageAt: c.lastMessageAt.toISOString() })),
        };
      },
    );

    app.get(
      '/api/v1/corps/:corp/conversations/:conversation/messages',
      {
        config,
        schema: {
          tags,
          summary: 'A conversation’s messages in scope, oldest first',
          params: corpParams.extend({ conversation: numericId }),
          querystring: z.object({
            from: z.coerce.date().optional(),
            to: z.coerce.date().optional(),
            cursor: z.string().optional(),
            limit: z.coerce.number().int().min(1).max(500).default(100),
          }),
          response: { 200: pageView },
        },
      },
      async (request) => {
        const page = await deps.content
          .conversation(
            viewer(request),
            await corpId(request.params.corp),
            request.params.conversation,
            request.query,
          )
          .catch(badQuery);
        return { ...page, items: page.items.map(show) };
      },
    );

    app.get(
      '/api/v1/corps/:corp/messages/:msgid',
      {
        config,
        schema: {
          tags,
          summary: 'One message and its attachments',
          params: corpParams.extend({ msgid: z.string().max(200) }),
          response: {
            200: z.object({
              message: messageView,
              attachments: z.array(
                z.object({
                  id: z.string(),
                  path: z.string(),
                  kind: z.string(),
                  status: z.string(),
                  type: z.string().nullable(),
                  size: z.number().nullable(),
                }),
              ),
              watermark: z.string(),
            }),
          },
        },
      },
      async (request) => {
        const read = await deps.content.message(
          viewer(request),
          await corpId(request.params.corp),
          request.params.msgid,
        );
        return { ...read, message: show(read.message) };
      },
    );

    app.get(
      '/api/v1/corps/:corp/messages/:msgid/attachments/:attachment',
      {
        config,
        schema: {
          tags,
          summary: 'A stored media file, decrypted',
          params: corpParams.extend({ msgid: z.string().max(200), attachment: numericId }),
        },
      },
      async (request, reply) => {
        const file = await deps.content.attachment(
          viewer(request),
          await corpId(request.params.corp),
          request.params.msgid,
          request.params.attachment,
        );
        // Served as a download, never rendered in Vigil's origin (media is attacker-controlled).
        reply
          .header('content-type', 'application/octet-stream')
          .header(
            'content-disposition',
            `attachment; filename="${request.params.attachment}.${file.type ?? 'bin'}"`,
          )
          .header('x-vigil-watermark', encodeURIComponent(file.watermark));
        if (file.size !== null) reply.header('x-vigil-size', String(file.size));
        return reply.send(file.body);
      },
    );

    app.get(
      '/api/v1/corps/:corp/exports/messages',
      {
        config,
        schema: {
          tags,
          summary: 'Export under an active export grant (JSONL, watermarked)',
          params: corpParams,
          querystring: z.object({
            grant: numericId,
            conversation: numericId.optional(),
            from: z.coerce.date().optional(),
            to: z.coerce.date().optional(),
          }),
        },
      },
      async (request, reply) => {
        const id = await corpId(request.params.corp);
        const lines = deps.content.export(viewer(request), id, request.query.grant, {
          conversationId: request.query.conversation,
          from: request.query.from,
          to: request.query.to,
        });
        // The first line is produced before the headers go out, so a refusal is a normal error.
        const first = await lines.next();
        async function* all() {
          if (!first.done) yield first.value;
          yield* lines;
        }
        return reply
          .header('content-type', 'application/x-ndjson; charset=utf-8')
          .header('content-disposition', `attachment; filename="export-${request.query.grant}.jsonl"`)
          .send(Readable.from(all()));
      },
    );

    app.post(
      '/api/v1/corps/:corp/conversations/:conversation/reveal',
      {
        config,
        schema: {
          tags,
          summary: 'The real id behind a pseudonym (needs a reveal grant)',
          params: corpParams.extend({ conversation: numericId }),
          body: z.object({ pseudonym: z.string().min(1).max(40) }),
          response: { 200: z.object({ pseudonym: z.string(), id: z.string() }) },
        },
      },
      async (request) => {
        const id = await deps.content.reveal(
          viewer(request),
          await corpId(request.params.corp),
          request.params.conversation,
          request.body.pseudonym,
        );
        return { pseudonym: request.body.pseudonym, id };
      },
    );
  };
}
