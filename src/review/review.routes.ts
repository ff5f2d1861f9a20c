import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../access/authorizer.js';
import type { Viewer } from '../access/content/content-access.service.js';
import type { OrgRepository } from '../org/org.repository.js';
import type { Pool } from '../platform/db/pool.js';
import { AppError, notFound } from '../platform/http/errors.js';
import type { AlertsService } from './alerts/alerts.service.js';
import { AlertsRepository } from './alerts/alerts.repository.js';
import { ingestFindings } from './alerts/intake.js';
import type { AppealsService } from './appeals/appeals.service.js';
import type { CasesService } from './cases/cases.service.js';
import { exportCaseEvidence, type EvidenceExportDeps } from './cases/evidence-export.js';
import { reviewMetrics } from './metrics.js';
import { DISPOSITIONS, SEVERITIES } from './types.js';

export interface ReviewRoutesDeps {
  pool: Pool;
  org: OrgRepository;
  alerts: AlertsService;
  cases: CasesService;
  appeals: AppealsService;
  evidence: Omit<EvidenceExportDeps, 'alerts' | 'cases'>;
}

const corpParams = z.object({ corp: z.string() });
const idParams = corpParams.extend({ id: z.string().regex(/^\d+$/) });
const ids = z.array(z.string().regex(/^\d+$/)).min(1).max(500);
const list = <T extends string>(values: readonly [T, ...T[]]) =>
  z
    .string()
    .transform((s) => s.split(',').filter(Boolean))
    .pipe(z.array(z.enum(values)))
    .optional();

/** Review workflow API: queues, alerts, decisions, cases, evidence, notices, appeals, metrics. */
export function reviewRoutes(deps: ReviewRoutesDeps): FastifyPluginAsync {
  const { alerts, cases, appeals } = deps;
  const ctx = async (request: FastifyRequest<{ Params: { corp: string } }>) => {
    const corp = await deps.org.findCorp(request.params.corp);
    if (!corp) throw notFound('corp');
    const viewer: Viewer = { principal: principalOf(request), ip: request.ip };
    return { corp, corpId: corp.id, principal: viewer.principal, viewer, ip: request.ip };
  };
  const tags = ['review'];
  const decide = { permission: 'review.decide' } as const;

  return async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>();

    app.get(
      '/api/v1/corps/:corp/review/categories',
      {
        config: { permission: 'review.read' },
        schema: {
          tags,
          summary: 'Alert categories in my review scope, with open counts',
          params: corpParams,
        },
      },
      async (request) => {
        const { principal, corpId } = await ctx(request);
        return { items: await alerts.categories(principal, corpId) };
      },
    );
    app.get(
      '/api/v1/corps/:corp/review/queues',
      { config: { permission: 'review.read' }, schema: { tags, params: corpParams } },
      async (request) => {
        const { corpId } = await ctx(request);
        return { items: await new AlertsRepository(deps.pool).queues(corpId) };
      },
    );
    app.put(
      '/api/v1/corps/:corp/review/queues/:name',
      {
        config: { permission: 'config.manage' },
        schema: {
          tags,
          summary: 'Create or change a queue: routing filters, SLA and dual-review rules',
          params: corpParams.extend({ name: z.string().min(1).max(100) }),
          body: z
            .object({
              position: z.number().int().default(100),
              policyIds: z.array(z.number().int()).nullable().default(null),
              categories: z.array(z.string()).nullable().default(null),
              departmentIds: z.array(z.number().int()).nullable().default(null),
              severities: z.array(z.enum(SEVERITIES)).nullable().default(null),
              sources: z
                .array(z.enum(['detection', 'sampling', 'recheck']))
                .nullable()
                .default(null),
              firstActionHours: z.number().int().min(1).max(720).default(24),
              resolutionHours: z.number().int().min(1).max(2160).default(24),
              remindBeforeHours: z.number().int().min(0).max(720).default(4),
              confirmNeedsSecond: z.boolean().default(true),
              dualReviewSeverities: z.array(z.enum(SEVERITIES)).default(['high', 'critical']),
            })
            .strict(),
        },
      },
      async (request) => {
        const { corpId } = await ctx(request);
        return new AlertsRepository(deps.pool).upsertQueue(corpId, {
          name: request.params.name,
          ...request.body,
        });
      },
    );
    app.post(
      '/api/v1/corps/:corp/review/intake',
      {
        config: { permission: 'config.manage' },
        schema: { tags, summary: 'Turn new findings into alerts now', params: corpParams },
      },
      async (request) => ingestFindings(deps.pool, (await ctx(request)).corpId),
    );

    app.get(
      '/api/v1/corps/:corp/review/alerts',
      {
        config: { permission: 'review.read' },
        schema: {
          tags,
          summary:
            'Alerts in your review scope, unclosed first, highest priority first; pages by `cursor` (the previous page’s `nextCursor`)',
          params: corpParams,
          querystring: z.object({
            queue: z.string().regex(/^\d+$/).optional(),
            status: list(['open', 'in_review', 'awaiting_second', 'escalated', 'closed'] as const),
            severity: list(SEVERITIES),
            category: z
              .string()
              .transform((s) => s.split(',').filter(Boolean))
              .pipe(z.array(z.string().max(100)).max(50))
              .optional(),
            source: z.enum(['detection', 'sampling', 'recheck']).optional(),
            assignee: z.union([z.enum(['me', 'none']), z.string().regex(/^\d+$/)]).optional(),
            sla: z.enum(['overdue', 'due_soon']).optional(),
            limit: z.coerce.number().int().min(1).max(500).default(50),
            cursor: z.string().max(400).optional(),
            offset: z.coerce.number().int().min(0).default(0),
          }),
        },
      },
      async (request) => {
        const { principal, corpId } = await ctx(request);
        const { limit, offset, cursor, queue, ...filters } = request.query;
        if (cursor && offset)
          throw new AppError(400, 'invalid_page', 'use either cursor or offset, not both');
        return alerts.list(principal, corpId, { ...filters, queueId: queue }, { limit, offset, cursor });
      },
    );
    app.get(
      '/api/v1/corps/:corp/review/alerts/:id',
      { config: { permission: 'review.read' }, schema: { tags, params: idParams } },
      async (request) => {
        const { viewer, corpId } = await ctx(request);
        const detail = await alerts.get(viewer, corpId, request.params.id);
        return {
          ...detail,
          context: detail.context.map((m) => ({ ...m, msgTime: m.msgTime.toISOString() })),
        };
      },
    );
    app.post(
      '/api/v1/corps/:corp/review/alerts/:id/comments',
      {
        config: decide,
        schema: {
          tags,
          summary: 'Add a note to the alert’s review trail (no decision)',
          params: idParams,
          body: z.object({ text: z.string().trim().min(1).max(4000) }).strict(),
        },
      },
      async (request, reply) => {
        const { principal, corpId, ip } = await ctx(request);
        await alerts.comment(principal, corpId, request.params.id, request.body.text, ip);
        return reply
          .status(201)
          .send({ decisions: await alerts.decisions(deps.pool, corpId, request.params.id) });
      },
    );
    app.post(
      '/api/v1/corps/:corp/review/alerts/claim',
      { config: decide, schema: { tags, params: corpParams, body: z.object({ ids }).strict() } },
      async (request) => {
        const { principal, corpId, ip } = await ctx(request);
        return { items: await alerts.claim(principal, corpId, request.body.ids, ip) };
      },
    );
    app.post(
      '/api/v1/corps/:corp/review/alerts/assign',
      {
        config: decide,
        schema: {
          tags,
          params: corpParams,
          body: z.object({ ids, assignee: z.string().regex(/^\d+$/) }).strict(),
        },
      },
      async (request) => {
        const { principal, corpId, ip } = await ctx(request);
        return { items: await alerts.assign(principal, corpId, request.body.ids, request.body.assignee, ip) };
      },
    );
    app.post(
      '/api/v1/corps/:corp/review/alerts/decide',
      {
        config: decide,
        schema: {
          tags,
          summary:
            'Decide alerts; confirmations and high-severity closures await a second reviewer (双人复核)',
          params: corpParams,
          body: z
            .object({
              ids,
              disposition: z.enum(DISPOSITIONS),
              comment: z.string().max(4000).optional(),
              tags: z.array(z.string().max(50)).max(20).optional(),
            })
            .strict(),
        },
      },
      async (request) => {
        const { principal, corpId, ip } = await ctx(request);
        const { ids: which, ...input } = request.body;
        return { items: await alerts.decideMany(principal, corpId, which, input, ip) };
      },
    );

    app.get(
      '/api/v1/corps/:corp/review/cases',
      {
        config: { permission: 'review.read' },
        schema: {
          tags,
          params: corpParams,
          querystring: z.object({ status: z.enum(['open', 'closed']).optional() }),
        },
      },
      async (request) => ({ items: await cases.list((await ctx(request)).corpId, request.query.status) }),
    );
    app.get(
      '/api/v1/corps/:corp/review/cases/:id',
      { config: { permission: 'review.read' }, schema: { tags, params: idParams } },
      async (request) => cases.get((await ctx(request)).corpId, request.params.id),
    );
    app.post(
      '/api/v1/corps/:corp/review/cases',
      {
        config: decide,
        schema: {
          tags,
          params: corpParams,
          body: z
            .object({
              title: z.string().min(1).max(200),
              alertIds: z.array(z.string().regex(/^\d+$/)).default([]),
            })
            .strict(),
        },
      },
      async (request, reply) => {
        const { principal, corpId, ip } = await ctx(request);
        return reply
          .status(201)
          .send(await cases.create(principal, corpId, request.body.title, request.body.alertIds, ip));
      },
    );
    app.post(
      '/api/v1/corps/:corp/review/cases/:id/alerts',
      { config: decide, schema: { tags, params: idParams, body: z.object({ ids }).strict() } },
      async (request) => {
        const { principal, corpId, ip } = await ctx(request);
        return cases.addAlerts(principal, corpId, request.params.id, request.body.ids, ip);
      },
    );
    app.post(
      '/api/v1/corps/:corp/review/cases/:id/notes',
      {
        config: decide,
        schema: { tags, params: idParams, body: z.object({ text: z.string().min(1).max(10000) }).strict() },
      },
      async (request) => {
        const { principal, corpId, ip } = await ctx(request);
        return cases.addNote(principal, corpId, request.params.id, request.body.text, ip);
      },
    );
    app.post(
      '/api/v1/corps/:corp/review/cases/:id/participants',
      {
        config: decide,
        schema: {
          tags,
          params: idParams,
          body: z
            .object({
              userId: z.string().regex(/^\d+$/),
              role: z.string().min(1).max(50).default('investigator'),
            })
            .strict(),
        },
      },
      async (request) => {
        const { principal, corpId, ip } = await ctx(request);
        return cases.addParticipant(
          principal,
          corpId,
          request.params.id,
          request.body.userId,
          request.body.role,
          ip,
        );
      },
    );
    app.post(
      '/api/v1/corps/:corp/review/cases/:id/hold',
      {
        config: decide,
        schema: {
          tags,
          summary: 'Set or release the legal hold (法律保全)',
          params: idParams,
          body: z.object({ hold: z.boolean(), reason: z.string().min(5).max(2000) }).strict(),
        },
      },
      async (request) => {
        const { principal, corpId, ip } = await ctx(request);
        return cases.setLegalHold(
          principal,
          corpId,
          request.params.id,
          request.body.hold,
          request.body.reason,
          ip,
        );
      },
    );
    app.post(
      '/api/v1/corps/:corp/review/cases/:id/close',
      {
        config: decide,
        schema: {
          tags,
          params: idParams,
          body: z.object({ summary: z.string().min(1).max(10000) }).strict(),
        },
      },
      async (request) => {
        const { principal, corpId, ip } = await ctx(request);
        return cases.close(principal, corpId, request.params.id, request.body.summary, ip);
      },
    );
    app.post(
      '/api/v1/corps/:corp/review/cases/:id/evidence',
      {
        config: decide,
        schema: {
          tags,
          summary: 'Signed evidence package (ZIP) under your export grant',
          params: idParams,
          body: z.object({ grant: z.string().regex(/^\d+$/) }).strict(),
        },
      },
      async (request, reply) => {
        const { viewer, corp } = await ctx(request);
        const { zip, fileName } = await exportCaseEvidence(
          { ...deps.evidence, alerts, cases },
          viewer,
          corp,
          request.params.id,
          request.body.grant,
        );
        return reply
          .header('content-type', 'application/zip')
          .header('content-disposition', `attachment; filename="${fileName}"`)
          .send(zip);
      },
    );

    app.get(
      '/api/v1/corps/:corp/me/notices',
      {
        config: { permission: 'review.own' },
        schema: { tags, summary: 'Review notices about me', params: corpParams },
      },
      async (request) => {
        const { principal, corpId } = await ctx(request);
        return { items: await appeals.myNotices(principal, corpId) };
      },
    );
    app.post(
      '/api/v1/corps/:corp/me/notices/:id/appeal',
      {
        config: { permission: 'review.own' },
        schema: {
          tags,
          summary: 'Appeal (申诉) a confirmed finding about me',
          params: idParams,
          body: z.object({ statement: z.string().trim().min(1).max(10000) }).strict(),
        },
      },
      async (request, reply) => {
        const { principal, corpId, ip } = await ctx(request);
        return reply
          .status(201)
          .send(await appeals.appeal(principal, corpId, request.params.id, request.body.statement, ip));
      },
    );
    app.get(
      '/api/v1/corps/:corp/review/appeals',
      {
        config: decide,
        schema: {
          tags,
          params: corpParams,
          querystring: z.object({ status: z.enum(['pending', 'granted', 'dismissed']).optional() }),
        },
      },
      async (request) => ({ items: await appeals.list((await ctx(request)).corpId, request.query.status) }),
    );
    app.post(
      '/api/v1/corps/:corp/review/appeals/:id/decide',
      {
        config: decide,
        schema: {
          tags,
          summary: 'Decide an appeal (not by anyone who reviewed the alert)',
          params: idParams,
          body: z
            .object({ outcome: z.enum(['granted', 'dismissed']), note: z.string().min(1).max(10000) })
            .strict(),
        },
      },
      async (request) => {
        const { principal, corpId, ip } = await ctx(request);
        return appeals.decide(
          principal,
          corpId,
          request.params.id,
          request.body.outcome,
          request.body.note,
          ip,
        );
      },
    );

    app.get(
      '/api/v1/corps/:corp/review/metrics',
      {
        config: { permission: 'reports.read' },
        schema: {
          tags,
          summary: 'Review KPIs for dashboards',
          params: corpParams,
          querystring: z.object({ from: z.coerce.date(), to: z.coerce.date() }),
        },
      },
      async (request) =>
        reviewMetrics(deps.pool, (await ctx(request)).corpId, request.query.from, request.query.to),
    );
  };
}
