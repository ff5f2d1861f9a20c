import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { notFound } from '../http/errors.js';
import type { JobRepository } from './queue.js';
import type { Job } from './types.js';

const jobSchema = z.object({
  id: z.string(),
  name: z.string(),
  status: z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']),
  attempts: z.number(),
  maxAttempts: z.number(),
  runAt: z.string(),
  schedule: z.string().nullable(),
  progress: z
    .object({ done: z.number(), total: z.number().optional(), message: z.string().optional() })
    .nullable(),
  lastError: z.string().nullable(),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
});

/** Job payloads and results stay out of the API: they may name records an operator may not see. */
function present(job: Job): z.infer<typeof jobSchema> {
  return {
    id: job.id,
    name: job.name,
    status: job.status,
    attempts: job.attempts,
    maxAttempts: job.maxAttempts,
    runAt: job.runAt.toISOString(),
    schedule: job.schedule,
    progress: job.progress,
    lastError: job.lastError,
    createdAt: job.createdAt.toISOString(),
    finishedAt: job.finishedAt?.toISOString() ?? null,
  };
}

export function jobRoutes(repo: JobRepository): FastifyPluginAsync {
  return async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>();
    app.get(
      '/api/v1/jobs',
      {
        config: { permission: 'jobs.read' },
        schema: {
          tags: ['jobs'],
          querystring: z.object({
            status: z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']).optional(),
            name: z.string().optional(),
            limit: z.coerce.number().int().min(1).max(500).default(50),
          }),
          response: { 200: z.object({ items: z.array(jobSchema) }) },
        },
      },
      async (request) => ({ items: (await repo.list(request.query)).map(present) }),
    );
    app.get(
      '/api/v1/jobs/:id',
      {
        config: { permission: 'jobs.read' },
        schema: {
          tags: ['jobs'],
          params: z.object({ id: z.string().regex(/^\d+$/) }),
          response: { 200: jobSchema },
        },
      },
      async (request) => {
        const job = await repo.get(request.params.id);
        if (!job) throw notFound('job');
        return present(job);
      },
    );
  };
}
