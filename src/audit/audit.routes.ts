import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError, forbidden } from '../platform/http/errors.js';
import type { Pool } from '../platform/db/pool.js';
import { principalOf } from '../access/authorizer.js';
import { corpsWith } from '../access/scope.js';
import { AuditRepository } from './audit.repository.js';
import type { AuditService } from './audit.service.js';
import type { AuditEvent } from './types.js';

const eventSchema = z.object({
  seq: z.string(),
  kind: z.enum(['event', 'anchor']),
  corpId: z.number().nullable(),
  occurredAt: z.date(),
  actor: z.string(),
  actorIp: z.string().nullable(),
  action: z.string(),
  resourceType: z.string().nullable(),
  resourceIds: z.array(z.string()),
  reason: z.string().nullable(),
  result: z.enum(['allowed', 'denied', 'failed']),
  details: z.record(z.string(), z.unknown()),
  prevHash: z.string(),
  hash: z.string(),
});

const present = (e: AuditEvent) => ({
  ...e,
  prevHash: e.prevHash.toString('hex'),
  hash: e.hash.toString('hex'),
});

const problemSchema = z.object({ seq: z.string(), kind: z.string(), message: z.string() });

/** The audit log API: events ('audit.read'), verification and proofs ('audit.verify'). */
export function auditRoutes(deps: { pool: Pool; service: AuditService }): FastifyPluginAsync {
  const repo = new AuditRepository(deps.pool);
  const corpOf = async (corp: string): Promise<number> => {
    const { rows } = await deps.pool.query<{ id: number }>(
      'SELECT id FROM corps WHERE slug = $1::text OR id::text = $1::text',
      [corp],
    );
    if (!rows[0]) throw new AppError(404, 'not_found', 'corp not found');
    return rows[0].id;
  };
  return async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>();

    app.get(
      '/api/v1/audit/events',
      {
        config: { permission: 'audit.read' },
        schema: {
          tags: ['audit'],
          querystring: z.object({
            corp: z.string().optional(),
            actor: z.string().max(100).optional(),
            action: z.string().max(100).optional(),
            result: z.enum(['allowed', 'denied', 'failed']).optional(),
            since: z.coerce.date().optional(),
            until: z.coerce.date().optional(),
            before: z.string().regex(/^\d+$/).optional(),
            limit: z.coerce.number().int().min(1).max(500).default(100),
          }),
          response: { 200: z.object({ items: z.array(eventSchema), nextBefore: z.string().nullable() }) },
        },
      },
      async (request) => {
        const principal = principalOf(request);
        const q = request.query;
        const corpId = q.corp !== undefined ? await corpOf(q.corp) : undefined;
        // Auditors scoped to corps see those corps' events; system events need a global grant.
        const corps = corpsWith(principal, 'audit.read');
        if (corps !== 'all' && corpId !== undefined && !corps.includes(corpId))
          throw forbidden('not your corp');
        const items = await repo.list({
          corpId,
          corpIds: corps === 'all' ? undefined : corps,
          actor: q.actor,
          action: q.action,
          result: q.result,
          since: q.since,
          until: q.until,
          beforeSeq: q.before,
          limit: q.limit,
        });
        // Reading the trail is itself an access worth a trace.
        await deps.service.log.recordStandalone({
          actor: principal.actor,
          actorIp: request.ip,
          corpId: corpId ?? null,
          action: 'audit.read',
          result: 'allowed',
          details: {
            filter: { ...q, since: q.since?.toISOString(), until: q.until?.toISOString() },
            returned: items.length,
          },
        });
        return {
          items: items.map(present),
          nextBefore: items.length === q.limit ? items.at(-1)!.seq : null,
        };
      },
    );

    app.get(
      '/api/v1/audit/verify',
      {
        config: { permission: 'audit.verify' },
        schema: {
          tags: ['audit'],
          querystring: z.object({
            from: z.string().regex(/^\d+$/).optional(),
            to: z.string().regex(/^\d+$/).optional(),
          }),
          response: {
            200: z.object({
              ok: z.boolean(),
              checked: z.number(),
              first: z.string().nullable(),
              last: z.string().nullable(),
              treeSize: z.number().nullable(),
              rootHash: z.string().nullable(),
              checkpointsChecked: z.number(),
              checkpointsSkipped: z.number(),
              firstProblem: problemSchema.optional(),
              problems: z.array(problemSchema),
            }),
          },
        },
      },
      async (request) => {
        const principal = principalOf(request);
        const report = await deps.service.verify({ from: request.query.from, to: request.query.to });
        await deps.service.log.recordStandalone({
          actor: principal.actor,
          actorIp: request.ip,
          action: 'audit.verify',
          result: report.ok ? 'allowed' : 'failed',
          details: { checked: report.checked, firstProblem: report.firstProblem?.seq ?? null },
        });
        return report;
      },
    );

    app.get(
      '/api/v1/audit/checkpoints/latest',
      {
        config: { permission: 'audit.verify' },
        schema: {
          tags: ['audit'],
          response: {
            200: z.object({
              id: z.string(),
              treeSize: z.number(),
              note: z.string(),
              createdAt: z.date(),
              /** The algorithm that signed this checkpoint: ed25519 or sm2 (GB/T 32918.2, SM3). */
              signatureAlg: z.enum(['ed25519', 'sm2']),
              verifierKey: z.string(),
              /** Keys of earlier algorithms (after switching `audit.signature`), still trusted. */
              previousVerifierKeys: z.array(z.string()),
            }),
          },
        },
      },
      async () => {
        const cp = await repo.latestCheckpoint();
        if (!cp) throw new AppError(404, 'not_found', 'no checkpoint yet');
        return {
          id: cp.id,
          treeSize: cp.treeSize,
          note: cp.note,
          createdAt: cp.createdAt,
          signatureAlg: cp.signatureAlg,
          verifierKey: await deps.service.verifierKey(),
          previousVerifierKeys: (await deps.service.trustedVerifierKeys()).slice(1),
        };
      },
    );

    app.get(
      '/api/v1/audit/proofs/inclusion',
      {
        config: { permission: 'audit.verify' },
        schema: {
          tags: ['audit'],
          querystring: z.object({
            seq: z.coerce.number().int().min(1),
            checkpoint: z.string().regex(/^\d+$/).optional(),
          }),
        },
      },
      async (request) => {
        try {
          return await deps.service.proveInclusion(request.query.seq, request.query.checkpoint);
        } catch (err) {
          if (err instanceof RangeError) throw new AppError(404, 'not_found', err.message);
          throw err;
        }
      },
    );

    app.get(
      '/api/v1/audit/proofs/consistency',
      {
        config: { permission: 'audit.verify' },
        schema: {
          tags: ['audit'],
          querystring: z.object({
            from: z.string().regex(/^\d+$/),
            to: z.string().regex(/^\d+$/).optional(),
          }),
        },
      },
      async (request) => {
        try {
          return await deps.service.proveConsistency(request.query.from, request.query.to);
        } catch (err) {
          if (err instanceof RangeError) throw new AppError(404, 'not_found', err.message);
          throw err;
        }
      },
    );
  };
}
