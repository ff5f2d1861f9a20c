import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../access/authorizer.js';
import { corpsWith, grantsFor } from '../access/scope.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Pool } from '../platform/db/pool.js';
import { AppError, forbidden } from '../platform/http/errors.js';
import type { JobRepository } from '../platform/jobs/queue.js';
import type { Job } from '../platform/jobs/types.js';
import { REWRAP_JOB, type KeyService } from './keys.service.js';

/** One rotation at a time across every process: pg advisory lock key ("vigil-keys-rotate"). */
const ROTATE_LOCK = 0x7669_6b72;

const rotationSchema = z
  .object({
    jobId: z.string(),
    status: z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']),
    progress: z
      .object({ done: z.number(), total: z.number().optional(), message: z.string().optional() })
      .nullable(),
    lastError: z.string().nullable(),
    createdAt: z.string(),
    finishedAt: z.string().nullable(),
  })
  .nullable();

// Response schemas serialise only the fields named here: metadata and counts, never key material.
const statusSchema = z.object({
  provider: z.string(),
  current: z.number(),
  versions: z.array(
    z.object({
      version: z.number(),
      state: z.string(),
      createdAt: z.string().nullable(),
      current: z.boolean(),
      deks: z.number(),
    }),
  ),
  pendingRewrap: z.number(),
  destroyedScopes: z.number(),
  corps: z.array(
    z.object({
      corpId: z.string(),
      slug: z.string().nullable(),
      name: z.string().nullable(),
      versions: z.array(z.object({ kekVersion: z.number(), deks: z.number() })),
      pending: z.number(),
      destroyed: z.number(),
    }),
  ),
  rotation: rotationSchema,
});

const rotation = (job: Job | undefined): z.infer<typeof rotationSchema> =>
  job
    ? {
        jobId: job.id,
        status: job.status,
        progress: job.progress,
        lastError: job.lastError,
        createdAt: job.createdAt.toISOString(),
        finishedAt: job.finishedAt?.toISOString() ?? null,
      }
    : null;

/**
 * Keyring status and rotation for the administration page (`keys.manage`). Rotation changes the
 * key of every corp, so it needs keys.manage without a corp restriction; the status lists the
 * corps the caller administers.
 */
export function keysRoutes(deps: {
  keys: KeyService;
  jobs: JobRepository;
  audit: AuditLog;
  pool: Pool;
}): FastifyPluginAsync {
  const latestRewrap = async () => (await deps.jobs.list({ name: REWRAP_JOB, limit: 1 }))[0];
  const status = async (request: FastifyRequest) => {
    const [s, coverage, job] = await Promise.all([
      deps.keys.status(),
      deps.keys.coverageByCorp(),
      latestRewrap(),
    ]);
    const visible = corpsWith(principalOf(request), 'keys.manage');
    return {
      provider: s.provider,
      current: s.current,
      versions: s.versions.map((v) => ({
        version: v.version,
        state: v.state,
        createdAt: v.createdAt ?? null,
        current: v.version === s.current,
        deks: v.deks,
      })),
      pendingRewrap: s.pendingRewrap,
      destroyedScopes: s.destroyedScopes,
      corps: coverage
        .filter((c) => visible === 'all' || visible.includes(Number(c.corpId)))
        .map((c) => ({
          ...c,
          pending: c.versions.filter((v) => v.kekVersion !== s.current).reduce((n, v) => n + v.deks, 0),
        })),
      rotation: rotation(job),
    };
  };

  return async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>();
    const tags = ['keys'];

    app.get(
      '/api/v1/keys/status',
      {
        config: { permission: 'keys.manage' },
        schema: {
          tags,
          summary: 'Keyring provider, KEK versions, data keys per version and corp, the last rotation',
          response: { 200: statusSchema },
        },
      },
      async (request) => status(request),
    );

    app.post(
      '/api/v1/keys/rotate',
      {
        config: { permission: 'keys.manage' },
        schema: {
          tags,
          summary: 'Create a new KEK version and start the rewrap job (audited)',
          description:
            'Needs keys.manage for every corp. 409 `rotation_in_progress` while a rewrap job is queued or running.',
          body: z.object({}).strict().optional(),
          response: { 202: z.object({ kekVersion: z.number(), rotation: rotationSchema }) },
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        if (!grantsFor(principal, 'keys.manage').some((g) => g.corpId === null))
          throw forbidden('keys.manage for every corp is required to rotate the keyring');
        const client = await deps.pool.connect();
        try {
          const { rows } = await client.query<{ locked: boolean }>(
            'SELECT pg_try_advisory_lock($1) AS locked',
            [ROTATE_LOCK],
          );
          if (!rows[0]!.locked)
            throw new AppError(409, 'rotation_in_progress', 'a rotation is being started');
          try {
            const pending = await latestRewrap();
            if (pending && (pending.status === 'queued' || pending.status === 'running'))
              throw new AppError(
                409,
                'rotation_in_progress',
                `rewrap job #${pending.id} has not finished: wait for it before rotating again`,
              );
            const kekVersion = await deps.keys.rotate();
            const job = await deps.jobs.enqueue(REWRAP_JOB, { kekVersion });
            await deps.audit.recordStandalone({
              actor: principal.actor,
              actorIp: request.ip,
              action: 'keys.rotate',
              result: 'allowed',
              resourceType: 'kek_version',
              resourceIds: [String(kekVersion)],
              details: { kekVersion, jobId: job.id },
            });
            return reply.status(202).send({ kekVersion, rotation: rotation(job) });
          } finally {
            await client.query('SELECT pg_advisory_unlock($1)', [ROTATE_LOCK]);
          }
        } finally {
          client.release();
        }
      },
    );
  };
}
