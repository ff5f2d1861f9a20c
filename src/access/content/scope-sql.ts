import type { SqlCondition, SqlParams } from '../../platform/db/sql-params.js';
import type { GrantAction } from '../grants/types.js';
import type { ContentScope, DepartmentReach, ScopedGrant } from './content-scope.js';

/** What the viewer is doing with content: each is opened by different grant actions. */
export type ContentPurpose = 'search' | 'view' | 'export' | 'reveal';

const GRANT_ACTIONS_FOR: Record<ContentPurpose, readonly GrantAction[]> = {
  search: ['search'],
  view: ['search', 'view'],
  export: ['export'],
  reveal: ['reveal'],
};

// Every condition is over the messages alias `m`.
const memberWhere = (condition: string) =>
  `EXISTS (SELECT 1 FROM conversation_members cm WHERE cm.corp_id = m.corp_id
     AND cm.conversation_id = m.conversation_id AND ${condition})`;

function inDepartments(p: SqlParams, reach: Exclude<DepartmentReach, null>): string {
  if (reach === 'all') return 'TRUE';
  return `EXISTS (SELECT 1 FROM conversation_members cm
     JOIN employees e ON e.corp_id = cm.corp_id AND e.userid = cm.member_id
     WHERE cm.corp_id = m.corp_id AND cm.conversation_id = m.conversation_id
       AND e.department_ids && ${p.add(reach)}::bigint[])`;
}

/** Excludes conversations carrying a sensitive category the viewer may not see. */
function withoutBlockedCategories(p: SqlParams, scope: ContentScope, opened: readonly string[]): string {
  const allowed = new Set(scope.trained ? [...scope.standingCategories, ...opened] : []);
  const blocked = scope.sensitive.filter((c) => !allowed.has(c));
  if (blocked.length === 0) return 'TRUE';
  return `NOT EXISTS (SELECT 1 FROM conversation_data_categories dc WHERE dc.corp_id = m.corp_id
     AND dc.conversation_id = m.conversation_id AND dc.category = ANY(${p.add(blocked)}::text[]))`;
}

function grantCondition(p: SqlParams, scope: ContentScope, grant: ScopedGrant): string {
  const parts: string[] = [];
  if (grant.subtree) parts.push(inDepartments(p, grant.subtree));
  if (grant.employeeUserids)
    parts.push(memberWhere(`cm.member_id = ANY(${p.add(grant.employeeUserids)}::text[])`));
  if (grant.conversationIds) parts.push(`m.conversation_id = ANY(${p.add(grant.conversationIds)}::bigint[])`);
  if (grant.periodFrom) parts.push(`m.msg_time >= ${p.add(grant.periodFrom)}::timestamptz`);
  if (grant.periodTo) parts.push(`m.msg_time < ${p.add(grant.periodTo)}::timestamptz`);
  parts.push(withoutBlockedCategories(p, scope, grant.categories));
  return parts.join(' AND ');
}

/**
 * The SQL condition selecting exactly the messages the viewer may see for `purpose`, or null
 * when nothing is visible. Own conversations are always the viewer's (no category filter: they
 * are the viewer's own data); department and review scopes hide sensitive categories not granted;
 * each access grant adds its own scope. Exports come from grants only.
 */
export function scopeCondition(scope: ContentScope, purpose: ContentPurpose): SqlCondition | null {
  const grants = scope.grants.filter((g) => g.actions.some((a) => GRANT_ACTIONS_FOR[purpose].includes(a)));
  const baseline = purpose === 'search' || purpose === 'view';
  const hasBaseline =
    baseline && (scope.ownUserid !== null || scope.departments !== null || scope.flagged !== null);
  if (!hasBaseline && grants.length === 0) return null;
  return (p) => {
    const branches: string[] = [];
    if (baseline && scope.ownUserid !== null)
      branches.push(memberWhere(`cm.member_id = ${p.add(scope.ownUserid)}`));
    if (baseline && scope.departments !== null)
      branches.push(`${inDepartments(p, scope.departments)} AND ${withoutBlockedCategories(p, scope, [])}`);
    if (baseline && scope.flagged !== null) {
      const hours = p.add(scope.reviewContextHours);
      branches.push(
        `EXISTS (SELECT 1 FROM detection_findings f WHERE f.corp_id = m.corp_id
           AND f.conversation_id = m.conversation_id
           AND m.msg_time BETWEEN f.window_start - make_interval(hours => ${hours}::int)
                              AND f.window_end + make_interval(hours => ${hours}::int))
         AND ${inDepartments(p, scope.flagged)} AND ${withoutBlockedCategories(p, scope, [])}`,
      );
    }
    for (const grant of grants) branches.push(grantCondition(p, scope, grant));
    return `((${branches.join(') OR (')}))`;
  };
}
