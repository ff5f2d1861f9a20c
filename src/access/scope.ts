import { ROLE_PERMISSIONS, SELF_PERMISSIONS, type PermissionName } from './permissions.js';
import type { Principal, SessionStage } from './types.js';

/** Where a permission is held: a corp (null = every corp) and a department subtree (null = whole corp). */
export interface Grant {
  corpId: number | null;
  departmentId: number | null;
}

// What each session stage may do before the role permissions apply.
const STAGE_PERMISSIONS: Record<SessionStage, ReadonlySet<string>> = {
  totp: new Set(['auth.session', 'auth.totp.verify']),
  enrol: new Set(['auth.session', 'auth.totp.enroll']),
  full: new Set(['auth.session', 'auth.totp.enroll', 'tokens.own', 'notifications.own']),
};

/** True when the principal's session stage allows a self permission (tokens never hold them). */
export function holdsSelfPermission(p: Principal, permission: string): boolean {
  if (!SELF_PERMISSIONS.has(permission)) return false;
  if (p.via === 'token') return false;
  return STAGE_PERMISSIONS[p.stage].has(permission);
}

/**
 * The grants under which the principal holds a role permission: none before sign-in is
 * complete, and for API tokens only the token's permissions, narrowed to the token's corp.
 */
export function grantsFor(p: Principal, permission: string): Grant[] {
  if (p.stage !== 'full') return [];
  if (p.tokenScope && !p.tokenScope.permissions.has(permission)) return [];
  const grants: Grant[] = [];
  for (const r of p.roles) {
    if (!(ROLE_PERMISSIONS[r.role] as readonly string[]).includes(permission)) continue;
    const tokenCorp = p.tokenScope?.corpId ?? null;
    if (tokenCorp !== null && r.corpId !== null && r.corpId !== tokenCorp) continue;
    grants.push({ corpId: r.corpId ?? tokenCorp, departmentId: r.departmentId });
  }
  return grants;
}

/** The role permissions a principal holds (in a corp when given). */
export function permissionsOf(p: Principal, corpId?: number): PermissionName[] {
  const out = new Set<PermissionName>();
  for (const r of p.roles)
    for (const perm of ROLE_PERMISSIONS[r.role])
      if (grantsFor(p, perm).some((g) => corpId === undefined || g.corpId === null || g.corpId === corpId))
        out.add(perm);
  return [...out].sort();
}

/**
 * Corps in which the principal holds `permission` for the whole corp: 'all' for a global
 * grant. Services use it to scope queries (department grants need the subtree in SQL).
 */
export function corpsWith(p: Principal, permission: string): 'all' | number[] {
  const grants = grantsFor(p, permission);
  if (grants.some((g) => g.corpId === null)) return 'all';
  return [...new Set(grants.map((g) => g.corpId!))];
}
