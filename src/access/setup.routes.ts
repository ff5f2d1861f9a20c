import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../platform/http/errors.js';
import { issueSession } from './auth.routes.js';
import { crossSite, sessionToken } from './authorizer.js';
import type { CookieMode } from './cookies.js';
import type { SetupService } from './setup.js';

export interface SetupRoutesDeps {
  setup: SetupService;
  cookie: CookieMode;
  allowedOrigins?: string[];
}

const sessionSchema = z.object({
  stage: z.enum(['totp', 'enrol', 'full']),
  csrfToken: z.string(),
  expiresAt: z.date(),
});

/** First-run setup: whether it is open, and creating the first administrator with the setup token. */
export function setupRoutes(deps: SetupRoutesDeps): FastifyPluginAsync {
  return async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>();

    app.get(
      '/api/v1/auth/setup',
      {
        config: { permission: 'public' },
        schema: { tags: ['auth'], response: { 200: z.object({ required: z.boolean() }) } },
      },
      async (_request, reply) => {
        reply.header('cache-control', 'no-store');
        return { required: await deps.setup.required() };
      },
    );

    app.post(
      '/api/v1/auth/setup',
      {
        config: { permission: 'public' },
        schema: {
          tags: ['auth'],
          body: z.object({
            token: z.string().min(1).max(256),
            username: z.string().min(1).max(64),
            displayName: z.string().max(100).optional(),
            password: z.string().min(1).max(1024),
          }),
          response: { 201: sessionSchema },
        },
      },
      async (request, reply) => {
        // As sign-in: a cross-site page must not drive the setup of a victim's browser.
        if (crossSite(request, deps.allowedOrigins))
          throw new AppError(403, 'csrf_failed', 'cross-site request refused');
        const session = await deps.setup.complete(
          request.body,
          { ip: request.ip, userAgent: request.headers['user-agent'] },
          sessionToken(request, deps.cookie),
        );
        return reply.status(201).send(issueSession(reply, deps.cookie, session));
      },
    );
  };
}
