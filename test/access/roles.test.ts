import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { OrgRepository } from '../../src/org/org.repository.js';
import type { Corp } from '../../src/org/types.js';
import { CONTENT_PERMISSIONS, ROLE_PERMISSIONS, ROLES, type Role } from '../../src/access/permissions.js';
import { createTestCorp, testPool } from '../support/db.js';
import { PASSWORD, harness, makeUser, signIn, type Client, type Harness } from './harness.js';

// Probe routes that exercise the authorizer's corp and department scoping and its fail-closed rule.
const probes: FastifyPluginAsync = async (app) => {
  app.get(
    '/api/v1/corps/:corp/departments/:department/probe',
    { config: { permission: 'content.read.department' } },
    async (request) => ({ ok: true, principal: request.principal?.username }),
  );
  app.get('/api/v1/corps/:corp/probe', { config: { permission: 'org.read' } }, async () => ({ ok: true }));
  app.get('/api/v1/unknown-probe', { config: { permission: 'made.up' } }, async () => ({ ok: true }));
};

let h: Harness;
let corp: Corp;
let other: Corp;
const clients = new Map<Role, Client>();
const ids = new Map<Role, string>();

beforeAll(async () => {
  h = await harness({}, [probes]);
  corp = await createTestCorp(testPool(), 'roles');
  other = await createTestCorp(testPool(), 'roles-other');
  // 1 ─┬─ 2 ── 3
  //    └─ 4
  await new OrgRepository(testPool()).upsertDepartments(
    [
      { corpId: corp.id, id: 1, parentId: null, name: '总部' },
      { corpId: corp.id, id: 2, parentId: 1, name: '销售部' },
      { corpId: corp.id, id: 3, parentId: 2, name: '华东销售' },
      { corpId: corp.id, id: 4, parentId: 1, name: '财务部' },
      { corpId: other.id, id: 2, parentId: null, name: '销售部' },
    ].map((d) => ({ ...d, sensitivePost: false, categories: [] })),
  );
  for (const role of ROLES) {
    const global = role === 'system_admin' || role === 'auditor';
    const user = await makeUser(
      h,
      [{ role, corpId: global ? null : corp.id, departmentId: role === 'department_manager' ? 2 : null }],
      { totp: role !== 'employee' },
    );
    ids.set(role, user.id);
    clients.set(role, await signIn(h, user));
  }
});

const get = (role: Role, url: string) => clients.get(role)!.request({ url });

describe('role permission matrix', () => {
  it('gives system_admin and auditor no content permission', () => {
    for (const role of ['system_admin', 'auditor'] as const)
      expect(
        ROLE_PERMISSIONS[role].filter((p) => CONTENT_PERMISSIONS.has(p) || p.startsWith('content.')),
      ).toEqual([]);
  });

  it.each([
    ['/api/v1/users', ['system_admin']],
    ['/api/v1/audit/events?limit=1', ['auditor', 'privacy_officer']],
    ['/api/v1/audit/verify?from=1&to=1', ['auditor', 'system_admin']],
  ] as const)('GET %s is allowed for %j only', async (url, allowed) => {
    for (const role of ROLES) {
      const status = (await get(role, url)).statusCode;
      expect([role, status]).toEqual([role, (allowed as readonly string[]).includes(role) ? 200 : 403]);
    }
  });

  it('scopes a department manager to their subtree and corp', async () => {
    const probe = (c: string | number, d: number) =>
      get('department_manager', `/api/v1/corps/${c}/departments/${d}/probe`);
    expect((await probe(corp.slug, 2)).statusCode).toBe(200);
    expect((await probe(corp.id, 3)).statusCode).toBe(200); // child department
    expect((await probe(corp.slug, 4)).statusCode).toBe(403); // sibling department
    expect((await probe(corp.slug, 1)).statusCode).toBe(403); // parent department
    expect((await probe(other.slug, 2)).statusCode).toBe(403); // same id, other corp
    // Compliance reads department content only under a grant (or around findings), never by role.
    for (const role of [
      'system_admin',
      'auditor',
      'employee',
      'compliance_officer',
      'compliance_lead',
    ] as const)
      expect((await get(role, `/api/v1/corps/${corp.slug}/departments/2/probe`)).statusCode).toBe(403);
    const denial = await testPool().query(
      "SELECT details FROM audit_events WHERE actor = $1 AND action = 'access.denied' ORDER BY seq",
      [`user:${ids.get('department_manager')}`],
    );
    expect(denial.rows.map((r) => r.details.reason).filter((r) => r !== 'no_grant')).toEqual([
      'department',
      'department',
      'corp',
    ]);
  });

  it('checks the corp named in the route', async () => {
    expect((await get('compliance_lead', `/api/v1/corps/${corp.slug}/probe`)).statusCode).toBe(200);
    expect((await get('compliance_lead', `/api/v1/corps/${other.slug}/probe`)).statusCode).toBe(403);
    expect((await get('system_admin', `/api/v1/corps/${other.slug}/probe`)).statusCode).toBe(200); // global
  });

  it('fails closed on a permission missing from the catalogue', async () => {
    for (const role of ROLES) expect((await get(role, '/api/v1/unknown-probe')).statusCode).toBe(403);
    expect((await h.app.inject({ url: '/api/v1/unknown-probe' })).statusCode).toBe(401);
  });
});

describe('user administration', () => {
  it('creates users, assigns and removes roles, enforcing separation of duties; every change is audited', async () => {
    const admin = clients.get('system_admin')!;
    const username = `new-${randomBytes(4).toString('hex')}`;
    const created = await admin.request({
      method: 'POST',
      url: '/api/v1/users',
      payload: { username, roles: [{ role: 'compliance_officer', corp: corp.slug }] },
    });
    expect(created.statusCode).toBe(201);
    const { user, password } = created.json();
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(JSON.stringify(created.json())).not.toMatch(/argon2|hash|secret/i);
    const ghost = await admin.request({
      method: 'POST',
      url: '/api/v1/users',
      payload: { username: `${username}-x`, corp: corp.slug, employeeUserid: 'nobody-here' },
    });
    expect(ghost.statusCode).toBe(400);
    expect(ghost.json().error.code).toBe('unknown_employee');

    const conflict = await admin.request({
      method: 'POST',
      url: `/api/v1/users/${user.id}/roles`,
      payload: { role: 'auditor' },
    });
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json().error.code).toBe('separation_of_duties');
    const self = await admin.request({
      method: 'POST',
      url: `/api/v1/users/${ids.get('system_admin')}/roles`,
      payload: { role: 'compliance_lead', corp: corp.slug },
    });
    expect(self.statusCode).toBe(403);

    const assigned = await admin.request({
      method: 'POST',
      url: `/api/v1/users/${user.id}/roles`,
      payload: { role: 'department_manager', corp: corp.slug, departmentId: 4 },
    });
    expect(assigned.statusCode).toBe(201);
    const removed = await admin.request({
      method: 'DELETE',
      url: `/api/v1/users/${user.id}/roles/${assigned.json().id}`,
    });
    expect(removed.statusCode).toBe(204);
    const listed = (await admin.request({ url: '/api/v1/users' }))
      .json()
      .items.find((u: { id: string }) => u.id === user.id);
    expect(listed.roles.map((r: { role: string }) => r.role)).toEqual(['compliance_officer']);

    const { rows } = await testPool().query(
      "SELECT action FROM audit_events WHERE actor = $1 AND resource_type = 'user' AND $2 = ANY (resource_ids) ORDER BY seq",
      [`user:${ids.get('system_admin')}`, user.id],
    );
    expect(rows.map((r) => r.action)).toEqual(['user.create', 'role.assign', 'role.assign', 'role.remove']);
    // The generated password works; the role needs TOTP, so the session can only enrol.
    const signedIn = await h.app.inject({
      method: 'POST',
      url: '/api/v1/auth/sign-in',
      payload: { username, password },
    });
    expect(signedIn.json().stage).toBe('enrol');
  });

  it('refuses weak passwords and non-admins', async () => {
    const admin = clients.get('system_admin')!;
    const weak = await admin.request({
      method: 'POST',
      url: '/api/v1/users',
      payload: { username: 'weakling', password: 'short' },
    });
    expect(weak.statusCode).toBe(400);
    expect(
      (
        await clients
          .get('compliance_lead')!
          .request({ method: 'POST', url: '/api/v1/users', payload: { username: 'x1' } })
      ).statusCode,
    ).toBe(403);
  });

  it('bootstraps one system administrator', async () => {
    const first = await h.mod.bootstrapAdmin();
    const second = await h.mod.bootstrapAdmin();
    expect(second).toEqual({ username: first.username });
    if (first.password) {
      const response = await h.app.inject({
        method: 'POST',
        url: '/api/v1/auth/sign-in',
        payload: { username: first.username, password: first.password },
      });
      expect(response.json().stage).toBe('enrol');
    }
  });
});

describe('API tokens', () => {
  it('are scoped to listed permissions held by the owner, expire and can be revoked', async () => {
    const auditor = clients.get('auditor')!;
    const create = (payload: Record<string, unknown>) =>
      auditor.request({ method: 'POST', url: '/api/v1/auth/tokens', payload });
    expect((await create({ name: 'too much', permissions: ['users.manage'] })).statusCode).toBe(403);
    expect((await create({ name: 'self', permissions: ['tokens.own'] })).statusCode).toBe(400);
    expect(
      (await create({ name: 'long', permissions: ['audit.read'], expiresInDays: 4000 })).statusCode,
    ).toBe(400);
    const created = await create({ name: 'siem export', permissions: ['audit.read'], expiresInDays: 30 });
    expect(created.statusCode).toBe(201);
    const { token, record } = created.json();
    expect(token).toMatch(/^vgl_[A-Za-z0-9_-]{43}$/);
    expect(record).toMatchObject({
      name: 'siem export',
      permissions: ['audit.read'],
      hint: `${token.slice(0, 8)}…`,
    });
    const stored = await testPool().query('SELECT token_hash FROM api_tokens WHERE id = $1', [record.id]);
    expect(stored.rows[0].token_hash.toString('utf8')).not.toContain(token.slice(4, 20));

    const bearer = (url: string, t = token) =>
      h.app.inject({ url, headers: { authorization: `Bearer ${t}` } });
    expect((await bearer('/api/v1/audit/events?limit=1')).statusCode).toBe(200);
    expect((await bearer('/api/v1/audit/verify?from=1&to=1')).statusCode).toBe(403); // held by the role, not the token
    expect((await bearer('/api/v1/auth/tokens')).statusCode).toBe(403); // tokens cannot mint tokens
    expect((await bearer('/api/v1/audit/events', 'vgl_nonsense')).statusCode).toBe(401);
    // A bearer request needs no CSRF token.
    const listed = await auditor.request({ url: '/api/v1/auth/tokens' });
    expect(listed.json().items.map((t: { id: string }) => t.id)).toContain(record.id);

    await testPool().query("UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = $1", [
      record.id,
    ]);
    expect((await bearer('/api/v1/audit/events?limit=1')).statusCode).toBe(401);

    const second = (await create({ name: 'second', permissions: ['audit.read', 'audit.verify'] })).json();
    expect((await bearer('/api/v1/audit/verify?from=1&to=1', second.token)).statusCode).toBe(200);
    expect(
      (await auditor.request({ method: 'DELETE', url: `/api/v1/auth/tokens/${second.record.id}` }))
        .statusCode,
    ).toBe(204);
    expect((await bearer('/api/v1/audit/verify?from=1&to=1', second.token)).statusCode).toBe(401);
    // Someone else's token is not found for a non-admin.
    expect(
      (
        await clients
          .get('privacy_officer')!
          .request({ method: 'DELETE', url: `/api/v1/auth/tokens/${record.id}` })
      ).statusCode,
    ).toBe(404);

    const { rows } = await testPool().query(
      "SELECT action FROM audit_events WHERE actor = $1 AND action LIKE 'token.%' ORDER BY seq",
      [`user:${ids.get('auditor')}`],
    );
    expect(rows.map((r) => r.action)).toEqual(['token.create', 'token.create', 'token.revoke']);
    const denied = await testPool().query(
      "SELECT details FROM audit_events WHERE action = 'access.denied' AND actor = $1",
      [`token:${record.id}`],
    );
    expect(denied.rows.length).toBeGreaterThan(0);
  });

  it('narrows a token to one corp', async () => {
    const lead = await makeUser(
      h,
      [
        { role: 'compliance_lead', corpId: corp.id },
        { role: 'compliance_lead', corpId: other.id },
      ],
      { totp: true },
    );
    const client = await signIn(h, lead);
    const { token } = (
      await client.request({
        method: 'POST',
        url: '/api/v1/auth/tokens',
        payload: { name: 'one corp', permissions: ['org.read'], corp: corp.slug },
      })
    ).json();
    const bearer = (url: string) => h.app.inject({ url, headers: { authorization: `Bearer ${token}` } });
    expect((await bearer(`/api/v1/corps/${corp.slug}/probe`)).statusCode).toBe(200);
    expect((await bearer(`/api/v1/corps/${other.slug}/probe`)).statusCode).toBe(403);
  });
});

describe('audit routes', () => {
  it('lists events, verifies and proves inclusion', async () => {
    const auditor = clients.get('auditor')!;
    const list = await auditor.request({ url: '/api/v1/audit/events?action=auth&limit=5' });
    expect(list.statusCode).toBe(200);
    expect(list.json().items.length).toBe(5);
    expect(list.json().items[0].action).toMatch(/^auth\./);
    const verify = await auditor.request({ url: '/api/v1/audit/verify' });
    expect(verify.json()).toMatchObject({ ok: true });
    const checkpoint = await h.mod.audit.checkpoint();
    const proof = await auditor.request({
      url: `/api/v1/audit/proofs/inclusion?seq=1&checkpoint=${checkpoint.checkpoint.id}`,
    });
    expect(proof.statusCode).toBe(200);
    expect(proof.json().proof.treeSize).toBe(checkpoint.checkpoint.treeSize);
    expect((await auditor.request({ url: '/api/v1/audit/checkpoints/latest' })).json().verifierKey).toMatch(
      /^vigil-audit\+[0-9a-f]{8}\+/,
    );
    const reads = await testPool().query(
      "SELECT count(*)::int AS n FROM audit_events WHERE actor = $1 AND action = 'audit.read'",
      [`user:${ids.get('auditor')}`],
    );
    expect(reads.rows[0].n).toBeGreaterThan(0);
    expect(PASSWORD).toBeTruthy();
  });
});
