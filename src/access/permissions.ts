/**
 * The permission catalogue and the roles that grant permissions. Every route names one of these
 * permissions (or 'public'); a permission not listed here is denied, whoever asks.
 *
 * Separation of duties: system_admin runs the system (users, keys, configuration) and auditor
 * reads the audit trail; neither gets any content permission, and no user may hold either of
 * them together with a role that reads other people's content.
 */

export const ROLES = [
  'employee',
  'department_manager',
  'compliance_officer',
  'compliance_lead',
  'auditor',
  'privacy_officer',
  'system_admin',
] as const;
export type Role = (typeof ROLES)[number];

/** What each permission allows; the catalogue the authorizer checks against. */
export const PERMISSIONS = {
  'org.read': 'read corps, departments and employees',
  'jobs.read': 'read background job status',
  'jobs.manage': 'retry or cancel background jobs',
  'users.manage': 'create, disable and assign roles to users',
  'audit.read': 'read the audit log',
  'audit.verify': 'verify the audit log and obtain proofs',
  'content.read': 'open the content reader; what it shows depends on the scopes below and grants',
  'content.read.own': "scope: one's own archived conversations",
  'content.read.department': 'scope: conversations of the assigned department subtree',
  'content.read.flagged': 'scope: messages around detection findings in the assigned scope (review context)',
  'content.unmask': 'see personal data (phone, ID, bank card…) unmasked',
  'grants.request': 'request access to content beyond one’s scope (search, view, export, reveal)',
  'grants.approve': 'approve, reject, revoke and review access requests (never one’s own)',
  'grants.break_glass': 'open emergency access at once; the leads are notified and review it afterwards',
  'review.read': 'read alerts and cases in scope',
  'review.own':
    'self-service: review notices about oneself and appeals (申诉); read and acknowledge the monitoring notice',
  'review.decide': 'decide alerts and cases in scope',
  'reports.read': 'read compliance reports',
  'privacy.manage': 'handle personal-information requests and notices (PIPL)',
  'keys.manage': 'rotate and shred keys',
  'capture.read': 'read WeCom capture health and quarantine reasons (no message content)',
  'capture.manage': 'retry quarantined or held WeCom messages',
  'config.manage': 'change configuration, lexicons and rules',
  // Held by any signed-in session for its own account, never granted by a role.
  'auth.session': 'see and end one’s own session',
  'auth.totp.verify': 'complete sign-in with a TOTP code',
  'auth.totp.enroll': 'enrol a TOTP authenticator',
  'tokens.own': 'create, list and revoke one’s own API tokens',
  'notifications.own': 'read and mark one’s own notifications',
} as const;
export type PermissionName = keyof typeof PERMISSIONS;

/** Permissions about one's own account; held through the session, not a role. */
export const SELF_PERMISSIONS: ReadonlySet<string> = new Set([
  'auth.session',
  'auth.totp.verify',
  'auth.totp.enroll',
  'tokens.own',
  'notifications.own',
]);

export const ROLE_PERMISSIONS: Record<Role, readonly PermissionName[]> = {
  employee: ['content.read', 'content.read.own', 'review.own'],
  department_manager: [
    'org.read',
    'content.read',
    'content.read.own',
    'review.own',
    'content.read.department',
    'review.read',
    'grants.request',
  ],
  compliance_officer: [
    'org.read',
    'content.read',
    'content.read.own',
    'review.own',
    'content.read.flagged',
    'review.read',
    'review.decide',
    'grants.request',
    'grants.break_glass',
    'reports.read',
  ],
  compliance_lead: [
    'org.read',
    'content.read',
    'content.read.own',
    'review.own',
    'content.read.flagged',
    'content.unmask',
    'review.read',
    'review.decide',
    'grants.request',
    'grants.approve',
    'grants.break_glass',
    'reports.read',
    'config.manage',
    'capture.read',
    'privacy.manage',
  ],
  auditor: ['org.read', 'jobs.read', 'audit.read', 'audit.verify', 'reports.read', 'capture.read'],
  privacy_officer: [
    'org.read',
    'content.read',
    'content.read.own',
    'review.own',
    'privacy.manage',
    'audit.read',
    'grants.request',
    'reports.read',
  ],
  system_admin: [
    'org.read',
    'jobs.read',
    'jobs.manage',
    'users.manage',
    'audit.verify',
    'keys.manage',
    'config.manage',
    'capture.read',
    'capture.manage',
  ],
};

/** Permissions that read someone else's message content. */
export const CONTENT_PERMISSIONS: ReadonlySet<string> = new Set([
  'content.read.department',
  'content.read.flagged',
  'content.unmask',
  'grants.break_glass',
  'grants.request',
  'grants.approve',
  'review.decide',
]);

/**
 * Roles whose holders must use TOTP: every role except employee. Roles that read others'
 * content (managers, compliance, privacy via grants) and the admin and audit interfaces
 * (ASVS 4.3.1) need a second factor; an employee sees only their own conversations.
 * A user holding such a role without TOTP gets a session that can only enrol it.
 */
export const TOTP_REQUIRED_ROLES: ReadonlySet<Role> = new Set([
  'department_manager',
  'compliance_officer',
  'compliance_lead',
  'auditor',
  'privacy_officer',
  'system_admin',
]);

/** Roles that may not be combined on one user (separation of duties). */
const OVERSIGHT_ROLES: ReadonlySet<Role> = new Set(['system_admin', 'auditor']);
const CONTENT_ROLES: ReadonlySet<Role> = new Set([
  'department_manager',
  'compliance_officer',
  'compliance_lead',
  'privacy_officer',
]);

/** The reason two roles conflict, or undefined when they may be combined. */
export function roleConflict(a: Role, b: Role): string | undefined {
  if (a === b) return undefined;
  if ((OVERSIGHT_ROLES.has(a) && CONTENT_ROLES.has(b)) || (OVERSIGHT_ROLES.has(b) && CONTENT_ROLES.has(a)))
    return `${a} and ${b} may not be held by one user (separation of duties)`;
  if (OVERSIGHT_ROLES.has(a) && OVERSIGHT_ROLES.has(b))
    return 'system_admin and auditor may not be held by one user: the auditor reviews the administrators';
  return undefined;
}

export const isRole = (r: string): r is Role => (ROLES as readonly string[]).includes(r);
export const isKnownPermission = (p: string): p is PermissionName => Object.hasOwn(PERMISSIONS, p);

/** Roles that scope to a department subtree when assigned with a department. */
export const DEPARTMENT_SCOPED_ROLES: ReadonlySet<Role> = new Set([
  'employee',
  'department_manager',
  'compliance_officer',
]);
