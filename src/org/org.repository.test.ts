import { afterAll, describe, expect, it } from 'vitest';
import { closeTestPool, createTestCorp, testPool } from '../../test/support/db.js';
import { testOrganisation } from '../../test/support/org-fixture.js';
import { OrgRepository } from './org.repository.js';

afterAll(closeTestPool);

describe('organisation', () => {
  it('creates a corp once and says so', async () => {
    const repo = new OrgRepository(testPool());
    const slug = `once-${Date.now()}`;
    const first = await repo.ensureCorpCreated(slug, '一次', null);
    const second = await repo.ensureCorpCreated(slug, '一次', null);
    expect([first.created, second.created]).toEqual([true, false]);
    expect(second.corp.id).toBe(first.corp.id);
  });

  it('lists the department tree with sensitive posts', async () => {
    const repo = new OrgRepository(testPool());
    const corp = await createTestCorp();
    await repo.upsertDepartments(testOrganisation(corp.id).departments);
    const departments = await repo.listDepartments(corp.id);
    expect(departments.find((d) => d.parentId === null)?.name).toBe('演示科技有限公司');
    expect(
      departments
        .filter((d) => d.sensitivePost)
        .map((d) => d.name)
        .sort(),
    ).toEqual(['财务部', '采购部'].sort());
  });

  it('keeps corps apart and updates employees in place', async () => {
    const repo = new OrgRepository(testPool());
    const a = await createTestCorp();
    const b = await createTestCorp();
    const org = testOrganisation(a.id);
    await repo.upsertDepartments(org.departments);
    await repo.upsertEmployees(org.employees.slice(0, 3));
    await repo.upsertEmployees([{ ...org.employees[0]!, name: '改名后', status: 5 }]);
    expect(await repo.countEmployees(a.id)).toBe(3);
    expect(await repo.countEmployees(b.id)).toBe(0);
    const { rows } = await testPool().query(
      'SELECT name, status FROM employees WHERE corp_id = $1 AND userid = $2',
      [a.id, org.employees[0]!.userid],
    );
    expect(rows[0]).toEqual({ name: '改名后', status: 5 });
    expect((await repo.findCorp(a.slug))?.id).toBe(a.id);
    expect(await repo.findCorp('no-such-corp')).toBeUndefined();
  });
});
