import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../access/authorizer.js';
import { notFound } from '../platform/http/errors.js';
import type { NotificationService } from './notifications.service.js';

const notificationView = z.object({
  id: z.string(),
  corpId: z.number().nullable(),
  kind: z.string(),
  title: z.string(),
  body: z.string(),
  link: z.string().nullable(),
  createdAt: z.date(),
  readAt: z.date().nullable(),
});

/** One's own notifications ('notifications.own': every signed-in session, for its own account). */
export function notificationsRoutes(service: NotificationService): FastifyPluginAsync {
  return async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>();

    app.get(
      '/api/v1/notifications',
      {
        config: { permission: 'notifications.own' },
        schema: {
          tags: ['notifications'],
          querystring: z.object({
            unread: z.enum(['true', 'false']).default('false'),
            before: z
              .string()
              .regex(/^\d{1,18}$/)
              .optional(),
            limit: z.coerce.number().int().min(1).max(200).default(50),
          }),
          response: {
            200: z.object({
              items: z.array(notificationView),
              unreadCount: z.number(),
              nextBefore: z.string().nullable(),
            }),
          },
        },
      },
      async (request) => {
        const q = request.query;
        const page = await service.list(principalOf(request).userId, {
          unreadOnly: q.unread === 'true',
          before: q.before,
          limit: q.limit,
        });
        // The schema keeps what the inbox shows: delivery bookkeeping stays internal.
        return page;
      },
    );

    app.post(
      '/api/v1/notifications/:id/read',
      {
        config: { permission: 'notifications.own' },
        schema: { tags: ['notifications'], params: z.object({ id: z.string().regex(/^\d{1,18}$/) }) },
      },
      async (request, reply) => {
        // Someone else's notification answers like a missing one.
        if (!(await service.markRead(principalOf(request).userId, request.params.id)))
          throw notFound('notification');
        return reply.status(204).send();
      },
    );

    app.post(
      '/api/v1/notifications/read-all',
      {
        config: { permission: 'notifications.own' },
        schema: { tags: ['notifications'], response: { 200: z.object({ marked: z.number() }) } },
      },
      async (request) => ({ marked: await service.markAllRead(principalOf(request).userId) }),
    );
  };
}
