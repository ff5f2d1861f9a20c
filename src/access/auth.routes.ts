import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../platform/http/errors.js';
import type { AccessRepository } from './access.repository.js';
import type { AuthService, NewSession, RequestMeta } from './auth.service.js';
import { crossSite, principalOf, sessionToken } from './authorizer.js';
import { clearedCookie, sessionCookie, type CookieMode } from './cookies.js';
import { permissionsOf } from './scope.js';
import type { ApiToken } from './types.js';

const sessionSchema = z.object({
  stage: z.enum(['totp', 'enrol', 'full']),
  csrfToken: z.string(),
  expiresAt: z.date(),
});

const tokenSchema = z.object({
  id: z.string(),
  name: z.string(),
  hint: z.string(),
  permissions: z.array(z.string()),
  corpId: z.number().nullable(),
  expiresAt: z.date(),
  revokedAt: z.date().nullable(),
  lastUsedAt: z.date().nullable(),
  createdAt: z.date(),
});

const presentToken = (t: ApiToken) => ({
  id: t.id,
  name: t.name,
  hint: t.hint,
  permissions: t.permissions,
  corpId: t.corpId,
  expiresAt: t.expiresAt,
  revokedAt: t.revokedAt,
  lastUsedAt: t.lastUsedAt,
  createdAt: t.createdAt,
});

const codeSchema = z.object({ code: z.string().regex(/^\d{6}$/, 'expected a 6-digit code') });

export interface AuthRoutesDeps {
  auth: AuthService;
  repo: AccessRepository;
  cookie: CookieMode;
  allowedOrigins?: string[];
}

/** Sets the cookie of a new session; returns what the client may see of it. */
export function issueSession(reply: FastifyReply, cookie: CookieMode, s: NewSession) {
  reply.header('set-cookie', sessionCookie(cookie, s.token, (s.expiresAt.getTime() - Date.now()) / 1000));
  reply.header('cache-control', 'no-store');
  return { stage: s.stage, csrfToken: s.csrfToken, expiresAt: s.expiresAt };
}

/** Sign-in, TOTP, sign-out, the caller's own account and API tokens. */
export function authRoutes(deps: AuthRoutesDeps): FastifyPluginAsync {
  const meta = (request: FastifyRequest): RequestMeta => ({
    ip: request.ip,
    userAgent: request.headers['user-agent'],
  });
  const issue = (reply: FastifyReply, s: NewSession) => issueSession(reply, deps.cookie, s);

  return async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>();

    app.post(
      '/api/v1/auth/sign-in',
      {
        config: { permission: 'public' },
        schema: {
          tags: ['auth'],
          body: z.object({ username: z.string().min(1).max(64), password: z.string().min(1).max(1024) }),
          response: { 200: sessionSchema },
        },
      },
      async (request, reply) => {
        // Login CSRF: a cross-site page must not sign a victim into the attacker's account.
        if (crossSite(request, deps.allowedOrigins))
          throw new AppError(403, 'csrf_failed', 'cross-site request refused');
        const session = await deps.auth.signIn(
          { ...request.body, presentedSession: sessionToken(request, deps.cookie) },
          meta(request),
        );
        return issue(reply, session);
      },
    );

    app.post(
      '/api/v1/auth/totp',
      {
        config: { permission: 'auth.totp.verify' },
        schema: { tags: ['auth'], body: codeSchema, response: { 200: sessionSchema } },
      },
      async (request, reply) =>
        issue(reply, await deps.auth.completeTotp(principalOf(request), request.body.code, meta(request))),
    );

    app.post(
      '/api/v1/auth/totp/enroll',
      {
        config: { permission: 'auth.totp.enroll' },
        schema: { tags: ['auth'], response: { 200: z.object({ secret: z.string(), uri: z.string() }) } },
      },
      async (request, reply) => {
        reply.header('cache-control', 'no-store');
        return deps.auth.startEnrolment(principalOf(request));
      },
    );

    app.post(
      '/api/v1/auth/totp/confirm',
      {
        config: { permission: 'auth.totp.enroll' },
        schema: {
          tags: ['auth'],
          body: codeSchema,
          response: { 200: z.object({ enrolled: z.literal(true), session: sessionSchema.optional() }) },
        },
      },
      async (request, reply) => {
        const session = await deps.auth.confirmEnrolment(
          principalOf(request),
          request.body.code,
          meta(request),
        );
        return { enrolled: true as const, ...(session ? { session: issue(reply, session) } : {}) };
      },
    );

    app.post(
      '/api/v1/auth/sign-out',
      { config: { permission: 'auth.session' }, schema: { tags: ['auth'] } },
      async (request, reply) => {
        await deps.auth.signOut(principalOf(request), meta(request));
        reply.header('set-cookie', clearedCookie(deps.cookie));
        return reply.status(204).send();
      },
    );

    app.post(
      '/api/v1/auth/sign-out-everywhere',
      {
        config: { permission: 'auth.session' },
        schema: { tags: ['auth'], response: { 200: z.object({ sessionsEnded: z.number() }) } },
      },
      async (request, reply) => {
        const sessionsEnded = await deps.auth.signOutEverywhere(principalOf(request), meta(request));
        reply.header('set-cookie', clearedCookie(deps.cookie));
        return { sessionsEnded };
      },
    );

    app.get(
      '/api/v1/auth/me',
      {
        config: { permission: 'auth.session' },
        schema: {
          tags: ['auth'],
          response: {
            200: z.object({
              user: z.object({ id: z.string(), username: z.string() }),
              via: z.enum(['session', 'token', 'cli']),
              stage: z.enum(['totp', 'enrol', 'full']),
              totpEnrolled: z.boolean(),
              roles: z.array(
                z.object({
                  id: z.string(),
                  role: z.string(),
                  corpId: z.number().nullable(),
                  departmentId: z.number().nullable(),
                }),
              ),
              permissions: z.array(z.string()),
              corps: z.array(z.object({ id: z.number(), slug: z.string(), name: z.string() })),
              csrfToken: z.string().optional(),
              sessionExpiresAt: z.date().optional(),
            }),
          },
        },
      },
      async (request, reply) => {
        const p = principalOf(request);
        reply.header('cache-control', 'no-store');
        return {
          user: { id: p.userId, username: p.username },
          via: p.via,
          stage: p.stage,
          totpEnrolled: p.totpEnrolled,
          roles: p.roles.map((r) => ({
            id: r.id,
            role: r.role,
            corpId: r.corpId,
            departmentId: r.departmentId,
          })),
          permissions: permissionsOf(p),
          corps: await deps.repo.corpsOfRoles(p.roles.map((r) => r.corpId)),
          csrfToken: p.csrfToken,
          sessionExpiresAt: p.sessionExpiresAt,
        };
      },
    );

    app.get(
      '/api/v1/auth/tokens',
      {
        config: { permission: 'tokens.own' },
        schema: { tags: ['auth'], response: { 200: z.object({ items: z.array(tokenSchema) }) } },
      },
      async (request) => ({ items: (await deps.auth.listTokens(principalOf(request))).map(presentToken) }),
    );

    app.post(
      '/api/v1/auth/tokens',
      {
        config: { permission: 'tokens.own' },
        schema: {
          tags: ['auth'],
          body: z.object({
            name: z.string().min(1).max(100),
            permissions: z.array(z.string()).min(1).max(32),
            corp: z.string().optional(),
            expiresInDays: z.number().int().min(1).default(90),
          }),
          response: { 201: z.object({ token: z.string(), record: tokenSchema }) },
        },
      },
      async (request, reply) => {
        let corpId: number | null = null;
        if (request.body.corp !== undefined) {
          const found = await deps.repo.corpIdOf(request.body.corp);
          if (found === undefined) throw new AppError(404, 'not_found', 'corp not found');
          corpId = found;
        }
        const { token, record } = await deps.auth.createToken(
          principalOf(request),
          {
            name: request.body.name,
            permissions: request.body.permissions,
            corpId,
            expiresInDays: request.body.expiresInDays,
          },
          meta(request),
        );
        reply.header('cache-control', 'no-store');
        return reply.status(201).send({ token, record: presentToken(record) });
      },
    );

    app.delete(
      '/api/v1/auth/tokens/:id',
      {
        config: { permission: 'tokens.own' },
        schema: { tags: ['auth'], params: z.object({ id: z.string().regex(/^\d+$/) }) },
      },
      async (request, reply) => {
        await deps.auth.revokeToken(principalOf(request), request.params.id, meta(request));
        return reply.status(204).send();
      },
    );
  };
}
