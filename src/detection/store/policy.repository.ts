import type { Queryable } from '../../platform/db/pool.js';

/** A stored policy: its current version's identity, not the document. */
export interface StoredPolicy {
  id: number;
  corpId: number | null;
  key: string;
  name: string;
  enabled: boolean;
  currentVersion: number;
  template: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface PolicyVersion {
  policyId: number;
  version: number;
  document: unknown;
  source: string | null;
  ruleIds: string[];
  author: string;
  comment: string | null;
  createdAt: Date;
}

/** A policy with the document of its current version, as the registry compiles it. */
export interface ActivePolicyDocument {
  policyId: number;
  version: number;
  key: string;
  document: unknown;
}

interface PolicyRow {
  id: number;
  corp_id: number | null;
  policy_key: string;
  name: string;
  enabled: boolean;
  current_version: number;
  template: string | null;
  created_at: Date;
  updated_at: Date;
}

interface VersionRow {
  policy_id: number;
  version: number;
  document: unknown;
  source: string | null;
  rule_ids: string[];
  author: string;
  comment: string | null;
  created_at: Date;
}

const POLICY_COLUMNS =
  'id, corp_id, policy_key, name, enabled, current_version, template, created_at, updated_at';

function toPolicy(r: PolicyRow): StoredPolicy {
  return {
    id: r.id,
    corpId: r.corp_id,
    key: r.policy_key,
    name: r.name,
    enabled: r.enabled,
    currentVersion: r.current_version,
    template: r.template,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function toVersion(r: VersionRow): PolicyVersion {
  return {
    policyId: r.policy_id,
    version: r.version,
    document: r.document,
    source: r.source,
    ruleIds: r.rule_ids,
    author: r.author,
    comment: r.comment,
    createdAt: r.created_at,
  };
}

/** SQL of detection policies and their versions. */
export class PolicyRepository {
  constructor(private readonly db: Queryable) {}

  /** Policies visible to a corp (its own and the all-corps ones); every policy when corpId is undefined. */
  async list(corpId?: number | null): Promise<StoredPolicy[]> {
    const { rows } = await this.db.query<PolicyRow>(
      `SELECT ${POLICY_COLUMNS} FROM detection_policies
       WHERE $1::integer IS NULL OR corp_id IS NULL OR corp_id = $1
       ORDER BY coalesce(corp_id, 0), policy_key`,
      [corpId ?? null],
    );
    return rows.map(toPolicy);
  }

  async get(id: number, forUpdate = false): Promise<StoredPolicy | undefined> {
    const { rows } = await this.db.query<PolicyRow>(
      `SELECT ${POLICY_COLUMNS} FROM detection_policies WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`,
      [id],
    );
    return rows[0] && toPolicy(rows[0]);
  }

  async findByKey(corpId: number | null, key: string): Promise<StoredPolicy | undefined> {
    const { rows } = await this.db.query<PolicyRow>(
      `SELECT ${POLICY_COLUMNS} FROM detection_policies WHERE coalesce(corp_id, 0) = coalesce($1, 0) AND policy_key = $2`,
      [corpId, key],
    );
    return rows[0] && toPolicy(rows[0]);
  }

  async versions(policyId: number): Promise<PolicyVersion[]> {
    const { rows } = await this.db.query<VersionRow>(
      `SELECT policy_id, version, document, source, rule_ids, author, comment, created_at
       FROM detection_policy_versions WHERE policy_id = $1 ORDER BY version DESC`,
      [policyId],
    );
    return rows.map(toVersion);
  }

  async version(policyId: number, version: number): Promise<PolicyVersion | undefined> {
    const { rows } = await this.db.query<VersionRow>(
      `SELECT policy_id, version, document, source, rule_ids, author, comment, created_at
       FROM detection_policy_versions WHERE policy_id = $1 AND version = $2`,
      [policyId, version],
    );
    return rows[0] && toVersion(rows[0]);
  }

  async insertPolicy(p: {
    corpId: number | null;
    key: string;
    name: string;
    enabled: boolean;
    template: string | null;
  }): Promise<StoredPolicy> {
    const { rows } = await this.db.query<PolicyRow>(
      `INSERT INTO detection_policies (corp_id, policy_key, name, enabled, template)
       VALUES ($1, $2, $3, $4, $5) RETURNING ${POLICY_COLUMNS}`,
      [p.corpId, p.key, p.name, p.enabled, p.template],
    );
    return toPolicy(rows[0]!);
  }

  async insertVersion(v: Omit<PolicyVersion, 'createdAt'>): Promise<void> {
    await this.db.query(
      `INSERT INTO detection_policy_versions (policy_id, version, document, source, rule_ids, author, comment)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [v.policyId, v.version, JSON.stringify(v.document), v.source, v.ruleIds, v.author, v.comment],
    );
  }

  /** Points a policy at a new current version (and name); bumps its revision. */
  async setCurrent(id: number, version: number, name: string): Promise<StoredPolicy> {
    const { rows } = await this.db.query<PolicyRow>(
      `UPDATE detection_policies SET current_version = $2, name = $3, updated_at = now(),
         revision = nextval('detection_policy_revision')
       WHERE id = $1 RETURNING ${POLICY_COLUMNS}`,
      [id, version, name],
    );
    return toPolicy(rows[0]!);
  }

  async setEnabled(id: number, enabled: boolean): Promise<StoredPolicy | undefined> {
    const { rows } = await this.db.query<PolicyRow>(
      `UPDATE detection_policies SET enabled = $2, updated_at = now(),
         revision = nextval('detection_policy_revision')
       WHERE id = $1 RETURNING ${POLICY_COLUMNS}`,
      [id, enabled],
    );
    return rows[0] && toPolicy(rows[0]);
  }

  /**
   * Rule ids and keys of the current versions of the policies that would be compiled together
   * with a policy of `corpId` (null: every policy), except `excludeId`.
   */
  async neighbours(
    corpId: number | null,
    excludeId: number | null,
  ): Promise<Array<{ id: number; key: string; corpId: number | null; ruleIds: string[] }>> {
    const { rows } = await this.db.query<{
      id: number;
      policy_key: string;
      corp_id: number | null;
      rule_ids: string[];
    }>(
      `SELECT p.id, p.policy_key, p.corp_id, v.rule_ids FROM detection_policies p
       JOIN detection_policy_versions v ON v.policy_id = p.id AND v.version = p.current_version
       WHERE ($1::integer IS NULL OR p.corp_id IS NULL OR p.corp_id = $1)
         AND ($2::integer IS NULL OR p.id <> $2)`,
      [corpId, excludeId],
    );
    return rows.map((r) => ({ id: r.id, key: r.policy_key, corpId: r.corp_id, ruleIds: r.rule_ids }));
  }

  /**
   * A stamp that changes with every committed change to the policies a corp uses: the sum of
   * their revisions (each change takes a fresh, larger revision) and their count.
   */
  async stamp(corpId: number): Promise<string> {
    const { rows } = await this.db.query<{ stamp: string }>(
      `SELECT coalesce(sum(revision), 0)::text || ':' || count(*) AS stamp FROM detection_policies
       WHERE corp_id IS NULL OR corp_id = $1`,
      [corpId],
    );
    return rows[0]!.stamp;
  }

  /** The enabled policies of a corp with their current documents, and the stamp they were read at. */
  async activeDocuments(corpId: number): Promise<ActivePolicyDocument[]> {
    const { rows } = await this.db.query<{
      id: number;
      current_version: number;
      policy_key: string;
      document: unknown;
    }>(
      `SELECT p.id, p.current_version, p.policy_key, v.document FROM detection_policies p
       JOIN detection_policy_versions v ON v.policy_id = p.id AND v.version = p.current_version
       WHERE p.enabled AND (p.corp_id IS NULL OR p.corp_id = $1)
       ORDER BY coalesce(p.corp_id, 0), p.policy_key`,
      [corpId],
    );
    return rows.map((r) => ({
      policyId: r.id,
      version: r.current_version,
      key: r.policy_key,
      document: r.document,
    }));
  }
}
