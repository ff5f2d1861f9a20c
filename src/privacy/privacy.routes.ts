import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../access/authorizer.js';
import type { OrgRepository } from '../org/org.repository.js';
import { notFound } from '../platform/http/errors.js';
import type { PrivacyService } from './privacy.service.js';

const notice = z.object({
  version: z.number(),
  title: z.string(),
  body: z.string(),
  titleEn: z.string().nullable(),
  bodyEn: z.string().nullable(),
  effectiveOn: z.string(),
  digest: z.string(),
  publishedBy: z.string(),
  publishedAt: z.date(),
});

const acknowledgement = z.object({
  id: z.string(),
  version: z.number(),
  employeeUserid: z.string(),
  userId: z.string(),
  acknowledgedAt: z.date(),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
});

const text = (max: number) =>
  z
    .string()
    .max(max)
    .refine((s) => s.trim().length > 0, 'must not be blank');

const corpParams = z.object({ corp: z.string().min(1) });
const versionParams = corpParams.extend({ version: z.coerce.number().int().min(1).max(1_000_000) });
const tags = ['privacy'];

/**
 * The monitoring notice (PIPL 告知同意): employees read the corp's current notice and acknowledge
 * it for their own employee record ('review.own', the self-service permission); the privacy
 * officer and the compliance leads publish versions and follow who has acknowledged
 * ('privacy.manage').
 * Notice text is data (JSON strings); the console renders it as text.
 */
export function privacyRoutes(deps: { service: PrivacyService; org: OrgRepository }): FastifyPluginAsync {
  const corpOf = async (request: { params: { corp: string } }): Promise<number> => {
    const corp = await deps.org.findCorp(request.params.corp);
    if (!corp) throw notFound(`corp ${request.params.corp}`);
    return corp.id;
  };

  return async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>();
    // The employee self-service permission (notices about oneself, appeals, this notice).
    const own = { permission: 'review.own' } as const;
    const manage = { permission: 'privacy.manage' } as const;

    app.get(
      '/api/v1/corps/:corp/me/privacy-notice',
      {
        config: own,
        schema: {
          tags,
          summary: 'The monitoring notice in force and my acknowledgement of it',
          params: corpParams,
          response: {
            200: z.object({
              notice: notice.nullable(),
              acknowledgement: acknowledgement.nullable(),
              employeeUserid: z.string().nullable(),
            }),
          },
        },
      },
      async (request) => deps.service.mine(principalOf(request), await corpOf(request)),
    );

    app.post(
      '/api/v1/corps/:corp/me/privacy-notice/acknowledge',
      {
        config: own,
        schema: {
          tags,
          summary: 'Acknowledge the current monitoring notice (a consent record, once per version)',
          params: corpParams,
          body: z.object({ version: z.number().int().min(1) }).strict(),
          response: {
            200: z.object({ acknowledgement, created: z.boolean() }),
            201: z.object({ acknowledgement, created: z.boolean() }),
          },
        },
      },
      async (request, reply) => {
        const result = await deps.service.acknowledge(
          principalOf(request),
          await corpOf(request),
          request.body.version,
          { ip: request.ip, userAgent: request.headers['user-agent'] ?? null },
        );
        return reply.status(result.created ? 201 : 200).send(result);
      },
    );

    app.get(
      '/api/v1/corps/:corp/privacy/notices',
      {
        config: manage,
        schema: {
          tags,
          summary: 'Every published version, newest first',
          params: corpParams,
          response: {
            200: z.object({
              items: z.array(notice.extend({ acknowledgements: z.number() })),
              current: z.number().nullable(),
            }),
          },
        },
      },
      async (request) => {
        const corpId = await corpOf(request);
        const [items, current] = await Promise.all([deps.service.list(corpId), deps.service.current(corpId)]);
        return { items, current: current?.version ?? null };
      },
    );

    app.post(
      '/api/v1/corps/:corp/privacy/notices',
      {
        config: manage,
        schema: {
          tags,
          summary: 'Publish a new version (published versions never change)',
          params: corpParams,
          body: z
            .object({
              title: text(200),
              body: text(50_000),
              titleEn: text(200).nullish(),
              bodyEn: text(50_000).nullish(),
              effectiveOn: z
                .string()
                .regex(/^\d{4}-\d{2}-\d{2}$/)
                .optional(),
            })
            .strict(),
          response: { 201: notice },
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        const published = await deps.service.publish(await corpOf(request), request.body, {
          actor: principal.actor,
          ip: request.ip,
        });
        return reply.status(201).send(published);
      },
    );

    app.get(
      '/api/v1/corps/:corp/privacy/coverage',
      {
        config: manage,
        schema: {
          tags,
          summary: 'Who among the active employees has not acknowledged the current version',
          params: corpParams,
          querystring: z.object({ limit: z.coerce.number().int().min(1).max(5000).default(500) }),
          response: {
            200: z.object({
              version: z.number().nullable(),
              effectiveOn: z.string().nullable(),
              employees: z.number(),
              acknowledged: z.number(),
              pending: z.number(),
              missing: z.array(
                z.object({
                  userid: z.string(),
                  name: z.string(),
                  department: z.string().nullable(),
                  hasAccount: z.boolean(),
                }),
              ),
              truncated: z.boolean(),
            }),
          },
        },
      },
      async (request) => deps.service.coverage(await corpOf(request), request.query.limit),
    );

    app.get(
      '/api/v1/corps/:corp/privacy/notices/:version/acknowledgements',
      {
        config: manage,
        schema: {
          tags,
          summary: 'The consent records of one version, newest first',
          params: versionParams,
          querystring: z.object({
            before: z.string().regex(/^\d+$/).optional(),
            limit: z.coerce.number().int().min(1).max(1000).default(200),
          }),
          response: {
            200: z.object({ items: z.array(acknowledgement), nextBefore: z.string().nullable() }),
          },
        },
      },
      async (request) => {
        const items = await deps.service.acknowledgements(await corpOf(request), request.params.version, {
          before: request.query.before,
          limit: request.query.limit,
        });
        return { items, nextBefore: items.length === request.query.limit ? items.at(-1)!.id : null };
      },
    );
  };
}
