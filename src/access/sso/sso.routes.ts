import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../platform/http/errors.js';
import { issueSession } from '../auth.routes.js';
import type { NewSession, RequestMeta } from '../auth.service.js';
import { sessionToken } from '../authorizer.js';
import type { CookieMode } from '../cookies.js';
import type { OidcSignIn } from './oidc.service.js';
import { preAuthClearCookie, preAuthCookie, preAuthSetCookie, readPreAuthCookie } from './preauth.js';
import type { WecomSignIn } from './wecom.service.js';

export interface SsoRoutesDeps {
  oidc?: OidcSignIn;
  wecom?: WecomSignIn;
  cookie: CookieMode;
  /** Whether the first-run setup is open (the sign-in page then offers it). */
  setupRequired?: () => Promise<boolean>;
}

const sessionSchema = z.object({
  stage: z.enum(['totp', 'enrol', 'full']),
  csrfToken: z.string(),
  expiresAt: z.date(),
});

/** Request log lines without the query string: callbacks carry single-use codes and states. */
const logWithoutQuery = {
  req: (req: FastifyRequest) => ({
    method: req.method,
    url: req.url.split('?')[0],
    host: req.host,
    remoteAddress: req.ip,
  }),
};

const methodsSchema = z.object({
  password: z.boolean(),
  oidc: z.array(z.object({ id: z.string(), name: z.string(), startUrl: z.string() })),
  wecom: z.array(z.object({ corp: z.string(), name: z.string(), startUrl: z.string() })),
  setupRequired: z.boolean(),
});

/** Where a browser goes when a sign-in fails: the console's sign-in page, with the error's code. */
export function signInErrorLocation(err: unknown): string {
  const code = err instanceof AppError && /^[a-z0-9_]{1,64}$/.test(err.code) ? err.code : 'sso_failed';
  return `/?error=${code}`;
}

/** Single sign-on: OpenID Connect and WeCom (OAuth in the WeCom client, QR login in browsers). */
export function ssoRoutes(deps: SsoRoutesDeps): FastifyPluginAsync {
  const preAuth = preAuthCookie(deps.cookie);
  const meta = (request: FastifyRequest): RequestMeta => ({
    ip: request.ip,
    userAgent: request.headers['user-agent'],
  });
  const redirectToProvider = (reply: FastifyReply, started: { location: string; browserSecret: string }) => {
    reply.header('set-cookie', preAuthSetCookie(preAuth, started.browserSecret));
    reply.header('cache-control', 'no-store');
    return reply.redirect(started.location, 302);
  };
  /** The new session: JSON for API clients, otherwise a redirect into the console. */
  const signedIn = (request: FastifyRequest, reply: FastifyReply, session: NewSession) => {
    const body = issueSession(reply, deps.cookie, session);
    reply.header('set-cookie', preAuthClearCookie(preAuth));
    if (request.headers.accept?.includes('application/json')) return reply.send(body);
    return reply.redirect('/', 302);
  };
  /**
   * A failed start or callback: JSON for API clients, otherwise back to the sign-in page with the
   * error's code (the console explains it). Starts answer JSON unless a browser navigated there.
   */
  const failed = (request: FastifyRequest, reply: FastifyReply, err: unknown, start = false) => {
    const accept = request.headers.accept ?? '';
    const browser = start ? accept.includes('text/html') : !accept.includes('application/json');
    if (!browser) throw err;
    if (!(err instanceof AppError)) request.log.error({ err }, 'single sign-on failed');
    reply.header('set-cookie', preAuthClearCookie(preAuth));
    reply.header('cache-control', 'no-store');
    return reply.redirect(signInErrorLocation(err), 302);
  };
  const callbackContext = (request: FastifyRequest) => ({
    browserSecret: readPreAuthCookie(preAuth, request.headers.cookie),
    presentedSession: sessionToken(request, deps.cookie),
    meta: meta(request),
  });

  return async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>();

    app.get(
      '/api/v1/auth/sso',
      {
        config: { permission: 'public' },
        schema: {
          tags: ['auth'],
          response: {
            200: z.object({ oidc: z.object({ name: z.string() }).nullable(), wecom: z.boolean() }),
          },
        },
      },
      async () => ({
        oidc: deps.oidc ? { name: deps.oidc.displayName } : null,
        wecom: Boolean(deps.wecom),
      }),
    );

    app.get(
      '/api/v1/auth/methods',
      {
        config: { permission: 'public' },
        schema: { tags: ['auth'], response: { 200: methodsSchema } },
      },
      async (_request, reply) => {
        reply.header('cache-control', 'no-store');
        const corps = deps.wecom ? await deps.wecom.corps() : [];
        return {
          password: true,
          oidc: deps.oidc
            ? [{ id: 'oidc', name: deps.oidc.displayName, startUrl: '/api/v1/auth/oidc/start' }]
            : [],
          wecom: corps.map((c) => ({
            corp: c.slug,
            name: c.name,
            startUrl: `/api/v1/auth/wecom/start?corp=${encodeURIComponent(c.slug)}`,
          })),
          setupRequired: deps.setupRequired ? await deps.setupRequired() : false,
        };
      },
    );

    app.get(
      '/api/v1/auth/oidc/start',
      { config: { permission: 'public' }, schema: { tags: ['auth'] } },
      async (request, reply) => {
        try {
          if (!deps.oidc) throw new AppError(404, 'sso_not_configured', 'single sign-on is not configured');
          return redirectToProvider(reply, await deps.oidc.start());
        } catch (err) {
          return failed(request, reply, err, true);
        }
      },
    );

    app.get(
      '/api/v1/auth/oidc/callback',
      {
        config: { permission: 'public' },
        logSerializers: logWithoutQuery,
        schema: {
          tags: ['auth'],
          querystring: z.record(z.string(), z.string().max(4096)),
          response: { 200: sessionSchema },
        },
      },
      async (request, reply) => {
        try {
          if (!deps.oidc) throw new AppError(404, 'sso_not_configured', 'single sign-on is not configured');
          const c = callbackContext(request);
          const session = await deps.oidc.finish(request.query, c.browserSecret, c.presentedSession, c.meta);
          return signedIn(request, reply, session);
        } catch (err) {
          return failed(request, reply, err);
        }
      },
    );

    app.get(
      '/api/v1/auth/wecom/start',
      {
        config: { permission: 'public' },
        schema: {
          tags: ['auth'],
          querystring: z.object({
            corp: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'expected a corp slug'),
            mode: z.enum(['oauth', 'qr']).optional(),
          }),
        },
      },
      async (request, reply) => {
        try {
          if (!deps.wecom) throw new AppError(404, 'sso_not_configured', 'WeCom sign-in is not configured');
          // Inside the WeCom client (user agent "wxwork/…") the OAuth flow signs in silently.
          const mode =
            request.query.mode ?? (/wxwork\//i.test(request.headers['user-agent'] ?? '') ? 'oauth' : 'qr');
          return redirectToProvider(reply, await deps.wecom.start(request.query.corp, mode));
        } catch (err) {
          return failed(request, reply, err, true);
        }
      },
    );

    app.get(
      '/api/v1/auth/wecom/callback',
      {
        config: { permission: 'public' },
        logSerializers: logWithoutQuery,
        schema: {
          tags: ['auth'],
          querystring: z.object({ code: z.string().optional(), state: z.string().max(512).optional() }),
          response: { 200: sessionSchema },
        },
      },
      async (request, reply) => {
        try {
          if (!deps.wecom) throw new AppError(404, 'sso_not_configured', 'WeCom sign-in is not configured');
          const c = callbackContext(request);
          const session = await deps.wecom.finish(request.query, c.browserSecret, c.presentedSession, c.meta);
          return signedIn(request, reply, session);
        } catch (err) {
          return failed(request, reply, err);
        }
      },
    );
  };
}
