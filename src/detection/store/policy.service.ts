import { parse as parseYaml } from 'yaml';
import type { AuditEventInput } from '../../audit/types.js';
import { withTransaction, type Pool, type Queryable } from '../../platform/db/pool.js';
import { AppError, notFound } from '../../platform/http/errors.js';
import { PolicyError, type PolicyIssue } from '../rules/errors.js';
import { compilePolicySet, type CompiledPolicySet } from '../rules/policy-set.js';
import { listTemplates, templateDocument } from '../scan.js';
import { PolicyRepository, type PolicyVersion, type StoredPolicy } from './policy.repository.js';

/** Appends audit events in the caller's transaction (the audit module's AuditLog fits). */
export interface PolicyAudit {
  record(client: Queryable, input: AuditEventInput): Promise<unknown>;
}

/** Who changes a policy: a name for version history and an audit actor. */
export interface Author {
  /** Shown in version history, e.g. the username. */
  name: string;
  /** Audit actor: 'user:<id>', 'token:<id>' or 'system'. */
  actor: string;
}

export const SYSTEM_AUTHOR: Author = { name: 'system', actor: 'system' };

/** A policy document that compiled: its identity and the compiled set. */
export interface ValidatedPolicy {
  document: Record<string, unknown>;
  key: string;
  name: string;
  ruleIds: string[];
  compiled: CompiledPolicySet;
}

/** 422 with every problem named by rule (or lexicon) and path. */
export function invalidPolicy(issues: PolicyIssue[]): AppError {
  return new AppError(
    422,
    'invalid_policy',
    new PolicyError(issues).message,
    issues.map((i) => ({ where: i.where, path: i.path, message: i.message })),
  );
}

/** Parses YAML (or JSON, which YAML accepts) policy source; 422 on a syntax error. */
export function parsePolicySource(source: string): unknown {
  try {
    return parseYaml(source);
  } catch (e) {
    throw invalidPolicy([{ where: 'policy', path: '', message: `not valid YAML: ${(e as Error).message}` }]);
  }
}

/**
 * Validates one policy document by compiling it; throws a 422 AppError whose details are the
 * PolicyError issues (each naming the rule or lexicon and the path).
 */
export function validatePolicyDocument(document: unknown): ValidatedPolicy {
  if (document === null || typeof document !== 'object' || Array.isArray(document))
    throw invalidPolicy([{ where: 'policy', path: '', message: 'a policy is one document (an object)' }]);
  let compiled: CompiledPolicySet;
  try {
    compiled = compilePolicySet([document]);
  } catch (e) {
    if (e instanceof PolicyError) throw invalidPolicy(e.issues);
    throw e;
  }
  const doc = document as { id: string; name: string; rules?: Array<{ id: string }> };
  return {
    document: document as Record<string, unknown>,
    key: doc.id,
    name: doc.name,
    ruleIds: (doc.rules ?? []).map((r) => r.id),
    compiled,
  };
}

export interface PolicyWithVersions extends StoredPolicy {
  versions: PolicyVersion[];
}

export interface SaveInput {
  document: unknown;
  /** The YAML the document came from, kept with its comments. */
  source?: string | null;
  comment?: string | null;
  author?: Author;
}

/**
 * Detection policies in the database: every save is a new version, validated by compiling it,
 * and checked against the other policies it would be compiled with (policy ids and rule ids
 * must be unique across a corp's policies). `onChange` tells this process's registry at once;
 * other processes notice through the registry's stamp.
 */
export class PolicyService {
  constructor(
    private readonly pool: Pool,
    private readonly options: { audit?: PolicyAudit; onChange?: (corpId: number | null) => void } = {},
  ) {}

  /** Policies visible to a corp (its own and all-corps ones), or every policy. */
  list(corpId?: number | null): Promise<StoredPolicy[]> {
    return new PolicyRepository(this.pool).list(corpId);
  }

  async get(id: number): Promise<PolicyWithVersions> {
    const repo = new PolicyRepository(this.pool);
    const policy = await repo.get(id);
    if (!policy) throw notFound('policy');
    return { ...policy, versions: await repo.versions(id) };
  }

  async version(id: number, version?: number): Promise<PolicyVersion> {
    const repo = new PolicyRepository(this.pool);
    const policy = await repo.get(id);
    if (!policy) throw notFound('policy');
    const v = await repo.version(id, version ?? policy.currentVersion);
    if (!v) throw notFound(`version ${version} of policy ${id}`);
    return v;
  }

  /** Creates a policy (version 1), disabled unless `enabled`. */
  async create(
    corpId: number | null,
    input: SaveInput & { enabled?: boolean; template?: string | null },
  ): Promise<PolicyWithVersions> {
    const valid = validatePolicyDocument(input.document);
    const author = input.author ?? SYSTEM_AUTHOR;
    const policy = await withTransaction(this.pool, async (client) => {
      const repo = new PolicyRepository(client);
      await lockPolicies(client);
      await this.checkConflicts(repo, corpId, null, valid);
      const policy = await repo.insertPolicy({
        corpId,
        key: valid.key,
        name: valid.name,
        enabled: input.enabled ?? false,
        template: input.template ?? null,
      });
      await repo.insertVersion({
        policyId: policy.id,
        version: 1,
        document: valid.document,
        source: input.source ?? null,
        ruleIds: valid.ruleIds,
        author: author.name,
        comment: input.comment ?? null,
      });
      await this.audit(client, author, corpId, 'detection.policy.create', policy.id, {
        key: valid.key,
        version: 1,
        enabled: policy.enabled,
      });
      return policy;
    });
    this.options.onChange?.(corpId);
    return this.get(policy.id);
  }

  /**
   * Saves a new version of a policy. The document keeps its id; `expectedVersion`, when given,
   * must be the current version (409 otherwise), so two editors do not overwrite each other.
   */
  async update(id: number, input: SaveInput & { expectedVersion?: number }): Promise<PolicyWithVersions> {
    const valid = validatePolicyDocument(input.document);
    const author = input.author ?? SYSTEM_AUTHOR;
    const policy = await withTransaction(this.pool, async (client) => {
      const repo = new PolicyRepository(client);
      await lockPolicies(client);
      const current = await repo.get(id, true);
      if (!current) throw notFound('policy');
      if (valid.key !== current.key)
        throw invalidPolicy([
          {
            where: `policy set ${valid.key}`,
            path: 'id',
            message: `a new version keeps the policy id "${current.key}"`,
          },
        ]);
      if (input.expectedVersion !== undefined && input.expectedVersion !== current.currentVersion)
        throw new AppError(
          409,
          'version_conflict',
          `policy ${id} is at version ${current.currentVersion}, not ${input.expectedVersion}`,
        );
      await this.checkConflicts(repo, current.corpId, id, valid);
      const version = current.currentVersion + 1;
      await repo.insertVersion({
        policyId: id,
        version,
        document: valid.document,
        source: input.source ?? null,
        ruleIds: valid.ruleIds,
        author: author.name,
        comment: input.comment ?? null,
      });
      const updated = await repo.setCurrent(id, version, valid.name);
      await this.audit(client, author, current.corpId, 'detection.policy.update', id, {
        key: current.key,
        version,
      });
      return updated;
    });
    this.options.onChange?.(policy.corpId);
    return this.get(id);
  }

  /** Enables or disables a policy; its versions are untouched. */
  async setEnabled(id: number, enabled: boolean, author: Author = SYSTEM_AUTHOR): Promise<StoredPolicy> {
    const policy = await withTransaction(this.pool, async (client) => {
      const policy = await new PolicyRepository(client).setEnabled(id, enabled);
      if (!policy) throw notFound('policy');
      await this.audit(
        client,
        author,
        policy.corpId,
        enabled ? 'detection.policy.enable' : 'detection.policy.disable',
        id,
        { key: policy.key, version: policy.currentVersion },
      );
      return policy;
    });
    this.options.onChange?.(policy.corpId);
    return policy;
  }

  /**
   * Installs the bundled Chinese templates as policies of a corp (null: all corps), disabled.
   * A template whose policy id is already in use there is skipped, so this is safe to repeat.
   */
  async installTemplates(
    corpId: number | null,
    author: Author = SYSTEM_AUTHOR,
  ): Promise<{ installed: StoredPolicy[]; skipped: Array<{ template: string; reason: string }> }> {
    const installed: StoredPolicy[] = [];
    const skipped: Array<{ template: string; reason: string }> = [];
    for (const template of listTemplates()) {
      try {
        installed.push(
          await this.create(corpId, {
            document: templateDocument(template),
            template,
            enabled: false,
            comment: `installed from template ${template}`,
            author,
          }),
        );
      } catch (e) {
        if (e instanceof AppError && e.statusCode === 409) skipped.push({ template, reason: e.message });
        else throw e;
      }
    }
    return { installed, skipped };
  }

  /** Policy ids and rule ids must be unique among the policies compiled together with this one. */
  private async checkConflicts(
    repo: PolicyRepository,
    corpId: number | null,
    selfId: number | null,
    valid: ValidatedPolicy,
  ): Promise<void> {
    const problems: string[] = [];
    const rules = new Set(valid.ruleIds);
    for (const other of await repo.neighbours(corpId, selfId)) {
      const where = `policy ${other.id} (${other.corpId === null ? 'all corps' : `corp ${other.corpId}`})`;
      if (other.key === valid.key) problems.push(`policy id "${valid.key}" is already used by ${where}`);
      const shared = other.ruleIds.filter((r) => rules.has(r));
      if (shared.length > 0) problems.push(`rule id(s) ${shared.join(', ')} already used by ${where}`);
    }
    if (problems.length > 0) throw new AppError(409, 'policy_conflict', problems.join('; '), problems);
  }

  private async audit(
    client: Queryable,
    author: Author,
    corpId: number | null,
    action: string,
    policyId: number,
    details: Record<string, unknown>,
  ): Promise<void> {
    await this.options.audit?.record(client, {
      corpId,
      actor: author.actor,
      action,
      resourceType: 'detection_policy',
      resourceIds: [String(policyId)],
      result: 'allowed',
      details,
    });
  }
}

/** Serialises policy writes so two saves cannot both pass the conflict check. */
async function lockPolicies(client: Queryable): Promise<void> {
  await client.query(`SELECT pg_advisory_xact_lock(hashtext('vigil_detection_policies'))`);
}
