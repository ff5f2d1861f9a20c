import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { OrgRepository } from '../../org/org.repository.js';
import { notFound } from '../../platform/http/errors.js';
import { principalOf } from '../authorizer.js';
import type { GrantsService } from './grants.service.js';
import { GRANT_ACTIONS, type AccessGrant, type CategoryGrant } from './types.js';

const category = z.string().regex(/^[a-z][a-z0-9_-]{0,39}$/, 'expected a category name like hr or legal');

const grantRequest = z
  .object({
    actions: z.array(z.enum(GRANT_ACTIONS)).min(1),
    reason: z.string().trim().min(10, 'give a reason of at least 10 characters').max(2000),
    durationMinutes: z.number().int().min(5),
    departmentIds: z.array(z.number().int()).min(1).optional(),
    employeeUserids: z.array(z.string().min(1)).min(1).optional(),
    conversationIds: z.array(z.string().regex(/^\d+$/)).min(1).optional(),
    periodFrom: z.coerce.date().optional(),
    periodTo: z.coerce.date().optional(),
    categories: z.array(category).default([]),
  })
  .strict()
  .refine(
    (r) => !r.periodFrom || !r.periodTo || r.periodFrom < r.periodTo,
    'periodFrom must be before periodTo',
  );

const grantView = z.object({
  id: z.string(),
  requesterId: z.string(),
  actions: z.array(z.string()),
  reason: z.string(),
  status: z.string(),
  breakGlass: z.boolean(),
  durationMinutes: z.number(),
  departmentIds: z.array(z.number()).nullable(),
  employeeUserids: z.array(z.string()).nullable(),
  conversationIds: z.array(z.string()).nullable(),
  periodFrom: z.date().nullable(),
  periodTo: z.date().nullable(),
  categories: z.array(z.string()),
  requestedAt: z.date(),
  decidedBy: z.string().nullable(),
  decidedAt: z.date().nullable(),
  decisionNote: z.string().nullable(),
  validUntil: z.date().nullable(),
  revokedBy: z.string().nullable(),
  revokedAt: z.date().nullable(),
  reviewedBy: z.string().nullable(),
  reviewOutcome: z.string().nullable(),
});

const categoryGrantView = z.object({
  id: z.string(),
  userId: z.string(),
  category: z.string(),
  grantedBy: z.string(),
  reason: z.string(),
  grantedAt: z.date(),
  expiresAt: z.date().nullable(),
});

const view = (g: AccessGrant): z.infer<typeof grantView> => grantView.parse(g);
const categoryView = (g: CategoryGrant): z.infer<typeof categoryGrantView> => categoryGrantView.parse(g);

const corpParams = z.object({ corp: z.string() });
const grantParams = corpParams.extend({ id: z.string().regex(/^\d+$/) });
const note = z.object({ note: z.string().max(2000).optional() }).strict();

/** Access grants (dual control) and standing category grants. */
export function grantsRoutes(deps: { grants: GrantsService; org: OrgRepository }): FastifyPluginAsync {
  const { grants } = deps;
  const ctx = async (request: FastifyRequest<{ Params: { corp: string } }>) => {
    const corp = await deps.org.findCorp(request.params.corp);
    if (!corp) throw notFound('corp');
    return { principal: principalOf(request), corpId: corp.id, meta: { ip: request.ip } };
  };
  const tags = ['grants'];

  return async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>();

    app.post(
      '/api/v1/corps/:corp/grants',
      {
        config: { permission: 'grants.request' },
        schema: {
          tags,
          summary: 'Request access (a different lead approves)',
          params: corpParams,
          body: grantRequest,
        },
      },
      async (request, reply) => {
        const { principal, corpId, meta } = await ctx(request);
        return reply.status(201).send(view(await grants.request(principal, corpId, request.body, meta)));
      },
    );
    app.post(
      '/api/v1/corps/:corp/grants/break-glass',
      {
        config: { permission: 'grants.break_glass' },
        schema: {
          tags,
          summary: 'Emergency access, active at once; leads are notified and review it',
          params: corpParams,
          body: grantRequest,
        },
      },
      async (request, reply) => {
        const { principal, corpId, meta } = await ctx(request);
        return reply.status(201).send(view(await grants.breakGlass(principal, corpId, request.body, meta)));
      },
    );
    app.get(
      '/api/v1/corps/:corp/grants',
      {
        config: { permission: 'grants.request' },
        schema: {
          tags,
          summary: 'Grants: one’s own, or all of the corp for leads',
          params: corpParams,
          querystring: z.object({
            status: z.enum(['pending', 'active', 'expired', 'rejected', 'revoked', 'cancelled']).optional(),
            requester: z.string().regex(/^\d+$/).optional(),
            unreviewedBreakGlass: z
              .enum(['true', 'false'])
              .transform((v) => v === 'true')
              .optional(),
          }),
        },
      },
      async (request) => {
        const { principal, corpId } = await ctx(request);
        const q = request.query;
        const list = await grants.list(principal, corpId, {
          status: q.status,
          requesterId: q.requester,
          breakGlassUnreviewed: q.unreviewedBreakGlass,
        });
        return { items: list.map(view) };
      },
    );
    app.get(
      '/api/v1/corps/:corp/grants/:id',
      { config: { permission: 'grants.request' }, schema: { tags, params: grantParams } },
      async (request) => {
        const { principal, corpId } = await ctx(request);
        return view(await grants.get(principal, corpId, request.params.id));
      },
    );
    for (const [verb, approve] of [
      ['approve', true],
      ['reject', false],
    ] as const)
      app.post(
        `/api/v1/corps/:corp/grants/:id/${verb}`,
        {
          config: { permission: 'grants.approve' },
          schema: {
            tags,
            summary: `${verb} a pending request (not one’s own)`,
            params: grantParams,
            body: note,
          },
        },
        async (request) => {
          const { principal, corpId, meta } = await ctx(request);
          return view(
            await grants.decide(
              principal,
              corpId,
              request.params.id,
              approve,
              request.body.note ?? null,
              meta,
            ),
          );
        },
      );
    app.post(
      '/api/v1/corps/:corp/grants/:id/revoke',
      {
        config: { permission: 'grants.request' },
        schema: {
          tags,
          summary: 'End a grant: one’s own, or anyone’s for leads',
          params: grantParams,
          body: z.object({ reason: z.string().max(2000).optional() }).strict(),
        },
      },
      async (request) => {
        const { principal, corpId, meta } = await ctx(request);
        return view(
          await grants.revoke(principal, corpId, request.params.id, request.body.reason ?? null, meta),
        );
      },
    );
    app.post(
      '/api/v1/corps/:corp/grants/:id/review',
      {
        config: { permission: 'grants.approve' },
        schema: {
          tags,
          summary: 'Review break-glass access afterwards',
          params: grantParams,
          body: z.object({
            outcome: z.enum(['justified', 'unjustified']),
            note: z.string().max(2000).optional(),
          }),
        },
      },
      async (request) => {
        const { principal, corpId, meta } = await ctx(request);
        const { outcome, note: text } = request.body;
        return view(await grants.review(principal, corpId, request.params.id, outcome, text ?? null, meta));
      },
    );

    app.get(
      '/api/v1/corps/:corp/category-grants',
      {
        config: { permission: 'grants.approve' },
        schema: {
          tags,
          params: corpParams,
          querystring: z.object({ user: z.string().regex(/^\d+$/).optional() }),
        },
      },
      async (request) => {
        const { corpId } = await ctx(request);
        return { items: (await grants.categoryGrants(corpId, request.query.user)).map(categoryView) };
      },
    );
    app.post(
      '/api/v1/corps/:corp/category-grants',
      {
        config: { permission: 'grants.approve' },
        schema: {
          tags,
          summary: 'Let a user see a sensitive category within their scope (needs current training)',
          params: corpParams,
          body: z
            .object({
              userId: z.string().regex(/^\d+$/),
              category,
              reason: z.string().trim().min(10).max(2000),
              expiresAt: z.coerce.date().optional(),
            })
            .strict(),
        },
      },
      async (request, reply) => {
        const { principal, corpId, meta } = await ctx(request);
        const b = request.body;
        const grant = await grants.grantCategory(
          principal,
          corpId,
          { ...b, expiresAt: b.expiresAt ?? null },
          meta,
        );
        return reply.status(201).send(categoryView(grant));
      },
    );
    app.delete(
      '/api/v1/corps/:corp/category-grants/:id',
      { config: { permission: 'grants.approve' }, schema: { tags, params: grantParams } },
      async (request) => {
        const { principal, corpId, meta } = await ctx(request);
        return categoryView(await grants.revokeCategory(principal, corpId, request.params.id, meta));
      },
    );
  };
}
