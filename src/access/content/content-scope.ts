import type { Queryable } from '../../platform/db/pool.js';
import { holdsValidTraining } from '../../training/training-sql.js';
import { GrantsRepository } from '../grants/grants.repository.js';
import type { AccessGrant } from '../grants/types.js';
import { grantsFor } from '../scope.js';
import type { Principal } from '../types.js';

/** An access grant in force, its departments expanded to their subtrees. */
export interface ScopedGrant extends AccessGrant {
  subtree: number[] | null;
}

/** Department roots ('all' for the whole corp) under which a scope permission is held. */
export type DepartmentReach = 'all' | number[] | null;

/** Everything that decides which messages of one corp a viewer may see, resolved once per call. */
export interface ContentScope {
  corpId: number;
  /** The viewer's own WeCom userid in this corp (content.read.own), if linked. */
  ownUserid: string | null;
  /** Department subtrees (expanded) the viewer reads (content.read.department). */
  departments: DepartmentReach;
  /** Where the viewer reads the context of detection findings (content.read.flagged). */
  flagged: DepartmentReach;
  /** Hours of context around a finding's window that content.read.flagged opens. */
  reviewContextHours: number;
  /** Access grants in force (never for API tokens: dual control is for people). */
  grants: ScopedGrant[];
  /** Categories that need an explicit grant even within scope. */
  sensitive: readonly string[];
  /** Sensitive categories granted to the viewer standing (before training). */
  standingCategories: string[];
  /** Compliance training current: without it no sensitive category opens. */
  trained: boolean;
  unmask: boolean;
}

export interface ScopeSettings {
  sensitiveCategories: readonly string[];
  reviewContextHours: number;
  /** Course whose valid completion sensitive categories require; null: no training gate. */
  trainingCourse: string | null;
}

/** Resolves the viewer's content scope in a corp, in the caller's transaction. */
export async function resolveContentScope(
  db: Queryable,
  principal: Principal,
  corpId: number,
  settings: ScopeSettings,
): Promise<ContentScope> {
  const inCorp = (permission: string) =>
    grantsFor(principal, permission).filter((g) => g.corpId === null || g.corpId === corpId);
  const reach = async (permission: string): Promise<DepartmentReach> => {
    const held = inCorp(permission);
    if (held.length === 0) return null;
    if (held.some((g) => g.departmentId === null)) return 'all';
    return subtreeOf(
      db,
      corpId,
      held.map((g) => g.departmentId!),
    );
  };
  const { rows } = await db.query<{ employee_userid: string | null }>(
    'SELECT employee_userid FROM users WHERE id = $1 AND corp_id = $2',
    [principal.userId, corpId],
  );
  const grants = new GrantsRepository(db);
  const active = principal.via === 'token' ? [] : await grants.active(corpId, principal.userId);
  return {
    corpId,
    ownUserid: inCorp('content.read.own').length ? (rows[0]?.employee_userid ?? null) : null,
    departments: await reach('content.read.department'),
    flagged: await reach('content.read.flagged'),
    reviewContextHours: settings.reviewContextHours,
    grants: await Promise.all(
      active.map(async (g) => ({
        ...g,
        subtree: g.departmentIds ? await subtreeOf(db, corpId, g.departmentIds) : null,
      })),
    ),
    sensitive: settings.sensitiveCategories,
    standingCategories: (await grants.categoryGrants(corpId, principal.userId)).map((g) => g.category),
    trained:
      settings.trainingCourse === null ||
      (await holdsValidTraining(db, corpId, principal.userId, settings.trainingCourse)),
    unmask: inCorp('content.unmask').length > 0,
  };
}

/** Every department at or below the roots. */
export async function subtreeOf(db: Queryable, corpId: number, roots: number[]): Promise<number[]> {
  const { rows } = await db.query<{ id: string }>(
    `WITH RECURSIVE down AS (
       SELECT id, 0 AS depth FROM departments WHERE corp_id = $1 AND id = ANY($2::bigint[])
       UNION
       SELECT d.id, down.depth + 1 FROM departments d JOIN down ON d.corp_id = $1 AND d.parent_id = down.id
       WHERE down.depth < 64
     )
     SELECT DISTINCT id::text FROM down`,
    [corpId, roots],
  );
  return rows.map((r) => Number(r.id));
}
