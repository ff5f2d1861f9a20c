import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../../access/authorizer.js';
import type { OrgRepository } from '../../org/org.repository.js';
import { notFound } from '../../platform/http/errors.js';
import type { SamplingService } from './sampling.service.js';
import { SAMPLING_KINDS } from './types.js';

const corpParams = z.object({ corp: z.string() });
const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a day YYYY-MM-DD');

const share = z.number().min(0).max(1).nullable();
const settingsRequest = z
  .object({
    /** null: the configuration file's value (review.sampling.*). */
    monthlyRate: share,
    recheckRate: share,
    lowScoreBelow: z.number().min(0).max(1000).nullable(),
    humanReviewTarget: share,
    weeklySensitive: z.boolean(),
  })
  .strict();

const runRequest = z
  .object({
    kind: z.enum(SAMPLING_KINDS),
    /** `YYYY-MM` (monthly_random), `YYYY-Www` (weekly_sensitive) or `YYYY-MM-DD` (recheck). */
    period: z.string().min(1).max(10),
  })
  .strict();

/** The sampling report and runs triggered by hand. */
export function samplingRoutes(deps: { service: SamplingService; org: OrgRepository }): FastifyPluginAsync {
  const corpOf = async (request: FastifyRequest<{ Params: { corp: string } }>) => {
    const corp = await deps.org.findCorp(request.params.corp);
    if (!corp) throw notFound('corp');
    return corp.id;
  };
  const tags = ['review'];

  return async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>();

    app.get(
      '/api/v1/corps/:corp/review/sampling/report',
      {
        config: { permission: 'reports.read' },
        schema: {
          tags,
          summary: 'Sampling against configured rates, sensitive-post coverage and the human-review ratio',
          description: 'Over the local days [from, to) of the corp: `to` is exclusive.',
          params: corpParams,
          querystring: z.object({ from: day, to: day }),
        },
      },
      async (request) => {
        const corpId = await corpOf(request);
        return deps.service.samplingReport(corpId, request.query.from, request.query.to);
      },
    );
    app.get(
      '/api/v1/corps/:corp/review/sampling/settings',
      {
        config: { permission: 'config.manage' },
        schema: {
          tags,
          summary:
            "The corp's sampling settings: its own values, the configuration file's and the effective ones",
          params: corpParams,
        },
      },
      async (request) => deps.service.settings(await corpOf(request)),
    );
    app.put(
      '/api/v1/corps/:corp/review/sampling/settings',
      {
        config: { permission: 'config.manage' },
        schema: {
          tags,
          summary:
            "Replace the corp's sampling settings (null falls back to the configuration file); audited",
          params: corpParams,
          body: settingsRequest,
        },
      },
      async (request) =>
        deps.service.saveSettings(await corpOf(request), request.body, principalOf(request).actor),
    );
    app.post(
      '/api/v1/corps/:corp/review/sampling/runs',
      {
        config: { permission: 'config.manage' },
        schema: {
          tags,
          summary: 'Run a sampling kind for an ended period now (once per period)',
          params: corpParams,
          body: runRequest,
        },
      },
      async (request, reply) => {
        const corpId = await corpOf(request);
        const { kind, period } = request.body;
        const result = await deps.service.run(corpId, kind, period, principalOf(request).actor);
        return reply.status(result.created ? 201 : 200).send(result);
      },
    );
  };
}
