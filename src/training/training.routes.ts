import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../access/authorizer.js';
import type { OrgRepository } from '../org/org.repository.js';
import { AppError, notFound } from '../platform/http/errors.js';
import { CsvEncodingError } from './csv.js';
import type { TrainingService } from './training.service.js';
import { TrainingImportError } from './types.js';

const importResult = z.object({
  importId: z.string(),
  rows: z.number(),
  accepted: z.number(),
  inserted: z.number(),
  updated: z.number(),
  unchanged: z.number(),
  rejected: z.number(),
  rejects: z.array(z.object({ line: z.number(), reason: z.string() })),
  ignoredColumns: z.array(z.string()),
});

const state = z.enum(['valid', 'expired', 'missing']);

const completion = z.object({
  id: z.string(),
  userId: z.string().nullable(),
  username: z.string().nullable(),
  employeeUserid: z.string().nullable(),
  course: z.string(),
  completedAt: z.date(),
  expiresAt: z.date().nullable(),
  source: z.enum(['csv', 'api']),
  importedBy: z.string(),
  importedAt: z.date(),
});

const corpParams = z.object({ corp: z.string().min(1) });

/**
 * Training records of a corp. Managed by system administrators ('users.manage'): the records
 * decide who may be granted sensitive categories, so they sit with account administration.
 */
export function trainingRoutes(deps: { service: TrainingService; org: OrgRepository }): FastifyPluginAsync {
  const corpOf = async (slug: string) => {
    const corp = await deps.org.findCorp(slug);
    if (!corp) throw notFound(`corp ${slug}`);
    return corp;
  };

  return async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>();
    // The training system's export as is: `Content-Type: text/csv`.
    app.addContentTypeParser('text/csv', { parseAs: 'string' }, (_request, body, done) => done(null, body));

    app.post(
      '/api/v1/corps/:corp/training/import',
      {
        config: { permission: 'users.manage' },
        schema: {
          tags: ['training'],
          params: corpParams,
          querystring: z.object({ fileName: z.string().max(200).optional() }),
          body: z.union([
            z.string().min(1),
            z.object({ csv: z.string().min(1), fileName: z.string().max(200).optional() }),
          ]),
          response: { 200: importResult },
        },
      },
      async (request) => {
        const corp = await corpOf(request.params.corp);
        const principal = principalOf(request);
        const body = request.body;
        const csv = typeof body === 'string' ? body : body.csv;
        const fileName = (typeof body === 'string' ? undefined : body.fileName) ?? request.query.fileName;
        try {
          return await deps.service.importCsv(
            corp.id,
            csv,
            { actor: principal.actor, ip: request.ip },
            { fileName: fileName ?? null, source: 'api' },
          );
        } catch (err) {
          if (err instanceof TrainingImportError || err instanceof CsvEncodingError)
            throw new AppError(422, 'invalid_csv', err.message);
          throw err;
        }
      },
    );

    app.get(
      '/api/v1/corps/:corp/training',
      {
        config: { permission: 'users.manage' },
        schema: {
          tags: ['training'],
          params: corpParams,
          querystring: z.object({
            user: z.string().max(64).optional(),
            course: z.string().max(200).optional(),
            before: z.string().regex(/^\d+$/).optional(),
            limit: z.coerce.number().int().min(1).max(500).default(100),
          }),
          response: {
            200: z.object({
              items: z.array(completion),
              nextBefore: z.string().nullable(),
              status: z
                .array(z.object({ course: z.string(), state, expiresAt: z.date().nullable() }))
                .optional(),
            }),
          },
        },
      },
      async (request) => {
        const corp = await corpOf(request.params.corp);
        const q = request.query;
        const account = q.user !== undefined ? await deps.service.findAccount(q.user) : undefined;
        if (q.user !== undefined && !account) throw notFound(`user ${q.user}`);
        const items = await deps.service.list({
          corpId: corp.id,
          userId: account?.id,
          course: q.course,
          before: q.before,
          limit: q.limit,
        });
        return {
          items,
          nextBefore: items.length === q.limit ? items.at(-1)!.id : null,
          ...(account ? { status: await deps.service.statuses(corp.id, account.id, q.course) } : {}),
        };
      },
    );
  };
}
