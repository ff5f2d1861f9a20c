import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { grantsFor } from '../../access/scope.js';
import type { OrgRepository } from '../../org/org.repository.js';
import type { Corp } from '../../org/types.js';
import { AppError, forbidden, notFound } from '../../platform/http/errors.js';
import type { JobRepository } from '../../platform/jobs/queue.js';
import { Engine } from '../engine.js';
import { PolicyError } from '../rules/errors.js';
import { compilePolicySet, type CompiledPolicySet } from '../rules/policy-set.js';
import { loadTemplate, toCanonical } from '../scan.js';
import { SEVERITIES, type CanonicalMessage, type Severity } from '../types.js';
import { RESCAN_JOB, type BacktestService } from './backtest.service.js';
import type { DetectionService } from './detection.service.js';
import type { StoredFinding } from './findings.repository.js';
import type { StoredPolicy } from './policy.repository.js';
import {
  invalidPolicy,
  parsePolicySource,
  type Author,
  type PolicyService,
  type PolicyWithVersions,
} from './policy.service.js';

export interface DetectionRoutesDeps {
  org: OrgRepository;
  policies: PolicyService;
  detection: DetectionService;
  backtests: BacktestService;
  jobs: JobRepository;
}

const idParam = z.coerce.number().int().positive();
const documentInput = {
  /** The policy as JSON. */
  document: z.unknown().optional(),
  /** Or as YAML text (kept with its comments). */
  yaml: z.string().max(2_000_000).optional(),
};

function authorOf(request: FastifyRequest): Author {
  const p = request.principal;
  return p ? { name: p.username, actor: p.actor } : { name: 'api', actor: 'anonymous' };
}

/** The document of a request body: `document` (JSON) or `yaml`, exactly one. */
function documentOf(body: { document?: unknown; yaml?: string }): {
  document: unknown;
  source: string | null;
} {
  if ((body.document === undefined) === (body.yaml === undefined))
    throw new AppError(400, 'bad_request', 'give exactly one of document (JSON) or yaml');
  return body.yaml !== undefined
    ? { document: parsePolicySource(body.yaml), source: body.yaml }
    : { document: body.document, source: null };
}

/**
 * All-corps policies apply to every corp: changing them needs config.manage without a corp
 * restriction (a corp's compliance lead manages that corp's policies only).
 */
function requireGlobal(request: FastifyRequest, permission: string): void {
  const p = request.principal;
  if (p && !grantsFor(p, permission).some((g) => g.corpId === null))
    throw forbidden(`${permission} for every corp is required to change all-corps policies`);
}

/** Findings are not yet scoped to department subtrees: a whole-corp grant is required. */
function requireWholeCorp(request: FastifyRequest, permission: string, corpId: number): void {
  const p = request.principal;
  if (
    p &&
    !grantsFor(p, permission).some(
      (g) => (g.corpId === null || g.corpId === corpId) && g.departmentId === null,
    )
  )
    throw forbidden(`${permission} for the whole corp is required to list findings`);
}

function presentPolicy(p: StoredPolicy) {
  return {
    id: p.id,
    corpId: p.corpId,
    key: p.key,
    name: p.name,
    enabled: p.enabled,
    currentVersion: p.currentVersion,
    template: p.template,
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
  };
}

function presentPolicyWithVersions(p: PolicyWithVersions) {
  return {
    ...presentPolicy(p),
    versions: p.versions.map((v) => ({
      version: v.version,
      document: v.document,
      source: v.source,
      ruleIds: v.ruleIds,
      author: v.author,
      comment: v.comment,
      createdAt: v.createdAt.toISOString(),
    })),
  };
}

function presentFinding(f: StoredFinding) {
  return {
    id: f.id,
    conversationId: f.conversationId,
    category: f.category,
    severity: f.severity,
    windowStart: f.windowStart.toISOString(),
    windowEnd: f.windowEnd.toISOString(),
    ruleIds: f.ruleIds,
    hitCount: f.hitCount,
    msgids: f.msgids,
    status: f.status,
    createdAt: f.createdAt.toISOString(),
    updatedAt: f.updatedAt.toISOString(),
  };
}

/** A test-bench message from plain text: an employee writing to a customer, now. */
function textMessage(text: string, index: number): CanonicalMessage {
  return {
    msgid: `test-${index + 1}`,
    corpId: '',
    conversationId: 'test',
    conversationKind: 'external',
    direction: 'outbound',
    senderId: 'test-employee',
    senderKind: 'employee',
    senderDepartmentIds: [],
    senderSensitivePost: false,
    msgtype: 'text',
    action: 'send',
    time: Date.now() + index,
    text,
    recipientIds: ['wmTestCustomer'],
    recipientsExternal: true,
  };
}

/**
 * Detection API: policies (versioned, validated on save: 422 names each bad rule), templates,
 * the test bench, back-tests, rescans and findings. Policy reads and changes need config.manage;
 * findings need review.read. Routes with `:corp` are checked in that corp by the authorizer.
 */
export function detectionRoutes(deps: DetectionRoutesDeps): FastifyPluginAsync {
  const { org, policies, detection, backtests } = deps;

  const corpOf = async (slug: string): Promise<Corp> => {
    const corp = await org.findCorp(slug);
    if (!corp) throw notFound('corp');
    return corp;
  };
  /** A policy of this corp (or, when `allowGlobal`, an all-corps one). */
  const policyOf = async (
    corp: Corp | null,
    id: number,
    allowGlobal: boolean,
  ): Promise<PolicyWithVersions> => {
    const p = await policies.get(id);
    const visible =
      corp === null ? p.corpId === null : p.corpId === corp.id || (allowGlobal && p.corpId === null);
    if (!visible) throw notFound('policy');
    return p;
  };

  return async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>();
    const tags = ['detection'];

    // ---- policies of one corp (own and, read-only, all-corps ones) ----
    app.get(
      '/api/v1/corps/:corp/detection/policies',
      { config: { permission: 'config.manage' }, schema: { tags, params: z.object({ corp: z.string() }) } },
      async (request) => {
        const corp = await corpOf(request.params.corp);
        return { items: (await policies.list(corp.id)).map(presentPolicy) };
      },
    );
    app.post(
      '/api/v1/corps/:corp/detection/policies',
      {
        config: { permission: 'config.manage' },
        schema: {
          tags,
          params: z.object({ corp: z.string() }),
          body: z.object({
            ...documentInput,
            comment: z.string().max(2000).optional(),
            enabled: z.boolean().optional(),
          }),
        },
      },
      async (request, reply) => {
        const corp = await corpOf(request.params.corp);
        const { document, source } = documentOf(request.body);
        const created = await policies.create(corp.id, {
          document,
          source,
          comment: request.body.comment,
          enabled: request.body.enabled,
          author: authorOf(request),
        });
        return reply.status(201).send(presentPolicyWithVersions(created));
      },
    );
    app.get(
      '/api/v1/corps/:corp/detection/policies/:id',
      {
        config: { permission: 'config.manage' },
        schema: { tags, params: z.object({ corp: z.string(), id: idParam }) },
      },
      async (request) =>
        presentPolicyWithVersions(await policyOf(await corpOf(request.params.corp), request.params.id, true)),
    );
    app.put(
      '/api/v1/corps/:corp/detection/policies/:id',
      {
        config: { permission: 'config.manage' },
        schema: {
          tags,
          params: z.object({ corp: z.string(), id: idParam }),
          body: z.object({
            ...documentInput,
            comment: z.string().max(2000).optional(),
            expectedVersion: z.number().int().positive().optional(),
          }),
        },
      },
      async (request) => {
        await policyOf(await corpOf(request.params.corp), request.params.id, false);
        const { document, source } = documentOf(request.body);
        return presentPolicyWithVersions(
          await policies.update(request.params.id, {
            document,
            source,
            comment: request.body.comment,
            expectedVersion: request.body.expectedVersion,
            author: authorOf(request),
          }),
        );
      },
    );
    for (const action of ['enable', 'disable'] as const)
      app.post(
        `/api/v1/corps/:corp/detection/policies/:id/${action}`,
        {
          config: { permission: 'config.manage' },
          schema: { tags, params: z.object({ corp: z.string(), id: idParam }) },
        },
        async (request) => {
          await policyOf(await corpOf(request.params.corp), request.params.id, false);
          return presentPolicy(
            await policies.setEnabled(request.params.id, action === 'enable', authorOf(request)),
          );
        },
      );
    app.post(
      '/api/v1/corps/:corp/detection/templates/install',
      { config: { permission: 'config.manage' }, schema: { tags, params: z.object({ corp: z.string() }) } },
      async (request) => {
        const corp = await corpOf(request.params.corp);
        const r = await policies.installTemplates(corp.id, authorOf(request));
        return { installed: r.installed.map(presentPolicy), skipped: r.skipped };
      },
    );

    // ---- all-corps policies ----
    app.get(
      '/api/v1/detection/policies',
      { config: { permission: 'config.manage' }, schema: { tags } },
      async () => ({
        items: (await policies.list(null)).filter((p) => p.corpId === null).map(presentPolicy),
      }),
    );
    app.post(
      '/api/v1/detection/policies',
      {
        config: { permission: 'config.manage' },
        schema: {
          tags,
          body: z.object({
            ...documentInput,
            comment: z.string().max(2000).optional(),
            enabled: z.boolean().optional(),
          }),
        },
      },
      async (request, reply) => {
        requireGlobal(request, 'config.manage');
        const { document, source } = documentOf(request.body);
        const created = await policies.create(null, {
          document,
          source,
          comment: request.body.comment,
          enabled: request.body.enabled,
          author: authorOf(request),
        });
        return reply.status(201).send(presentPolicyWithVersions(created));
      },
    );
    app.get(
      '/api/v1/detection/policies/:id',
      { config: { permission: 'config.manage' }, schema: { tags, params: z.object({ id: idParam }) } },
      async (request) => presentPolicyWithVersions(await policyOf(null, request.params.id, true)),
    );
    app.put(
      '/api/v1/detection/policies/:id',
      {
        config: { permission: 'config.manage' },
        schema: {
          tags,
          params: z.object({ id: idParam }),
          body: z.object({
            ...documentInput,
            comment: z.string().max(2000).optional(),
            expectedVersion: z.number().int().positive().optional(),
          }),
        },
      },
      async (request) => {
        requireGlobal(request, 'config.manage');
        await policyOf(null, request.params.id, true);
        const { document, source } = documentOf(request.body);
        return presentPolicyWithVersions(
          await policies.update(request.params.id, {
            document,
            source,
            comment: request.body.comment,
            expectedVersion: request.body.expectedVersion,
            author: authorOf(request),
          }),
        );
      },
    );
    for (const action of ['enable', 'disable'] as const)
      app.post(
        `/api/v1/detection/policies/:id/${action}`,
        { config: { permission: 'config.manage' }, schema: { tags, params: z.object({ id: idParam }) } },
        async (request) => {
          requireGlobal(request, 'config.manage');
          await policyOf(null, request.params.id, true);
          return presentPolicy(
            await policies.setEnabled(request.params.id, action === 'enable', authorOf(request)),
          );
        },
      );
    app.post(
      '/api/v1/detection/templates/install',
      { config: { permission: 'config.manage' }, schema: { tags } },
      async (request) => {
        requireGlobal(request, 'config.manage');
        const r = await policies.installTemplates(null, authorOf(request));
        return { installed: r.installed.map(presentPolicy), skipped: r.skipped };
      },
    );

    // ---- test bench: the author's own sample input, so matched text is returned ----
    app.post(
      '/api/v1/detection/test',
      {
        config: { permission: 'config.manage' },
        schema: {
          tags,
          body: z.object({
            ...documentInput,
            /** A bundled template (or "all") instead of a document. */
            template: z.string().optional(),
            text: z.union([z.string().max(100_000), z.array(z.string().max(100_000)).max(1000)]).optional(),
            /** WeCom archive JSON objects (or canonical messages), each conversation in time order. */
            messages: z.array(z.unknown()).max(1000).optional(),
          }),
        },
      },
      async (request) => {
        const body = request.body;
        let policy: CompiledPolicySet;
        try {
          if (body.template !== undefined) {
            if (body.document !== undefined || body.yaml !== undefined)
              throw new AppError(400, 'bad_request', 'give one of document, yaml or template');
            try {
              policy = loadTemplate(body.template);
            } catch (e) {
              if (e instanceof PolicyError) throw e;
              throw new AppError(400, 'unknown_template', (e as Error).message);
            }
          } else {
            const { document } = documentOf(body);
            policy = compilePolicySet(Array.isArray(document) ? document : [document]);
          }
        } catch (e) {
          if (e instanceof PolicyError) throw invalidPolicy(e.issues);
          throw e;
        }
        const inputs: CanonicalMessage[] = [];
        const errors: Array<{ index: number; error: string }> = [];
        const texts = body.text === undefined ? [] : Array.isArray(body.text) ? body.text : [body.text];
        texts.forEach((t, i) => inputs.push(textMessage(t, i)));
        (body.messages ?? []).forEach((m, i) => {
          try {
            inputs.push(toCanonical(m));
          } catch (e) {
            errors.push({ index: i, error: (e as Error).message });
          }
        });
        if (inputs.length === 0 && errors.length === 0)
          throw new AppError(400, 'bad_request', 'give text or messages to test');
        const engine = new Engine(policy);
        const hits = inputs.flatMap((m) =>
          engine.process(m).map((h) => ({
            msgid: h.msgid,
            ruleId: h.ruleId,
            ruleName: h.ruleName,
            category: h.category,
            severity: h.severity,
            term: h.term,
            start: h.start,
            end: h.end,
            matched: h.matched,
            method: h.method,
            methods: h.methods,
            related: h.relatedMsgids ?? [],
          })),
        );
        return { messages: inputs.length, hits, errors };
      },
    );

    // ---- back-tests and rescans ----
    app.post(
      '/api/v1/corps/:corp/detection/backtests',
      {
        config: { permission: 'config.manage' },
        schema: {
          tags,
          params: z.object({ corp: z.string() }),
          body: z.object({
            ...documentInput,
            policyId: z.number().int().positive().optional(),
            version: z.number().int().positive().optional(),
            scope: z
              .object({
                from: z.string().optional(),
                to: z.string().optional(),
                sample: z.number().int().positive().max(1_000_000).optional(),
                all: z.boolean().optional(),
              })
              .strict()
              .optional(),
          }),
        },
      },
      async (request, reply) => {
        const corp = await corpOf(request.params.corp);
        const body = request.body;
        let document: unknown;
        if (body.policyId !== undefined) {
          if (body.document !== undefined || body.yaml !== undefined)
            throw new AppError(400, 'bad_request', 'give a document or a policyId, not both');
          await policyOf(corp, body.policyId, true);
        } else document = documentOf(body).document;
        const backtest = await backtests.start({
          corpId: corp.id,
          document,
          policyId: body.policyId,
          version: body.version,
          scope: body.scope,
          requestedBy: authorOf(request).name,
        });
        return reply.status(202).send({ id: backtest.id, jobId: backtest.jobId, status: backtest.status });
      },
    );
    app.get(
      '/api/v1/corps/:corp/detection/backtests',
      { config: { permission: 'config.manage' }, schema: { tags, params: z.object({ corp: z.string() }) } },
      async (request) => {
        const corp = await corpOf(request.params.corp);
        return {
          items: (await backtests.list(corp.id)).map((b) => ({
            id: b.id,
            status: b.status,
            policyId: b.policyId,
            policyVersion: b.policyVersion,
            scope: b.scope,
            progress: b.progress,
            requestedBy: b.requestedBy,
            createdAt: b.createdAt.toISOString(),
            finishedAt: b.finishedAt?.toISOString() ?? null,
          })),
        };
      },
    );
    app.get(
      '/api/v1/corps/:corp/detection/backtests/:id',
      {
        config: { permission: 'config.manage' },
        schema: { tags, params: z.object({ corp: z.string(), id: z.string().regex(/^\d+$/) }) },
      },
      async (request) => {
        const corp = await corpOf(request.params.corp);
        const b = await backtests.get(request.params.id);
        if (!b || b.corpId !== corp.id) throw notFound('backtest');
        return {
          ...b,
          createdAt: b.createdAt.toISOString(),
          startedAt: b.startedAt?.toISOString() ?? null,
          finishedAt: b.finishedAt?.toISOString() ?? null,
        };
      },
    );
    app.post(
      '/api/v1/corps/:corp/detection/rescan',
      {
        config: { permission: 'config.manage' },
        schema: {
          tags,
          params: z.object({ corp: z.string() }),
          body: z.object({ from: z.coerce.date().optional(), to: z.coerce.date().optional() }),
        },
      },
      async (request, reply) => {
        const corp = await corpOf(request.params.corp);
        const job = await deps.jobs.enqueue(
          RESCAN_JOB,
          { corpId: corp.id, from: request.body.from?.toISOString(), to: request.body.to?.toISOString() },
          { maxAttempts: 3 },
        );
        return reply.status(202).send({ jobId: job.id });
      },
    );

    // ---- findings ----
    app.get(
      '/api/v1/corps/:corp/detection/findings',
      {
        config: { permission: 'review.read' },
        schema: {
          tags,
          params: z.object({ corp: z.string() }),
          querystring: z.object({
            status: z.string().max(40).optional(),
            category: z.string().max(100).optional(),
            severity: z
              .string()
              .transform((s) => s.split(',').filter(Boolean))
              .pipe(z.array(z.enum(SEVERITIES as [Severity, ...Severity[]])))
              .optional(),
            conversation: z.string().regex(/^\d+$/).optional(),
            rule: z.string().max(100).optional(),
            from: z.coerce.date().optional(),
            to: z.coerce.date().optional(),
            cursor: z.string().optional(),
            limit: z.coerce.number().int().min(1).max(200).default(50),
          }),
        },
      },
      async (request) => {
        const corp = await corpOf(request.params.corp);
        requireWholeCorp(request, 'review.read', corp.id);
        const q = request.query;
        try {
          const page = await detection.listFindings(
            corp.id,
            {
              status: q.status,
              category: q.category,
              severities: q.severity,
              conversationId: q.conversation,
              ruleId: q.rule,
              from: q.from,
              to: q.to,
            },
            { cursor: q.cursor, limit: q.limit },
          );
          return { items: page.items.map(presentFinding), next: page.next };
        } catch (e) {
          if (e instanceof RangeError) throw new AppError(400, 'invalid_cursor', e.message);
          throw e;
        }
      },
    );
    app.get(
      '/api/v1/corps/:corp/detection/findings/:id',
      {
        config: { permission: 'review.read' },
        schema: { tags, params: z.object({ corp: z.string(), id: z.string().regex(/^\d+$/) }) },
      },
      async (request) => {
        const corp = await corpOf(request.params.corp);
        requireWholeCorp(request, 'review.read', corp.id);
        const f = await detection.getFinding(corp.id, request.params.id);
        if (!f) throw notFound('finding');
        return {
          ...presentFinding(f),
          // Offsets into the message's canonical text; the snippet is derived after decryption
          // through the access path, never stored.
          hits: f.hits.map((h) => ({
            msgid: h.msgid,
            msgTime: h.msgTime.toISOString(),
            ruleId: h.ruleId,
            policyId: h.policyId,
            policyVersion: h.policyVersion,
            category: h.category,
            severity: h.severity,
            term: h.term,
            start: h.start,
            end: h.end,
            method: h.method,
            related: h.relatedMsgids,
          })),
        };
      },
    );
  };
}
