import type { UsersService } from './access/users.service.js';
import { PolicyService } from './detection/store/policy.service.js';
import type { Pool } from './platform/db/pool.js';

export interface DemoAccount {
  username: string;
  role: string;
  password: string;
}

const DEMO_ROLES = [
  { username: 'demo.lead', displayName: '合规负责人（演示）', role: 'compliance_lead' },
  { username: 'demo.officer', displayName: '合规专员（演示）', role: 'compliance_officer' },
  { username: 'demo.reviewer', displayName: '合规专员二（演示）', role: 'compliance_officer' },
] as const;

/**
 * What the zero-config demo needs beyond archived messages, on the demo corp's first start: the
 * detection templates enabled (so ingest screens and review gets alerts), and reviewer accounts
 * whose one-time passwords the banner prints (two officers and a lead, for dual review and
 * dual control). Never runs outside the demo.
 */
export async function seedDemoSupervision(deps: {
  pool: Pool;
  users: UsersService;
  corpId: number;
}): Promise<DemoAccount[]> {
  const policies = new PolicyService(deps.pool);
  for (const policy of (await policies.installTemplates(deps.corpId)).installed)
    await policies.setEnabled(policy.id, true);
  const accounts: DemoAccount[] = [];
  for (const demo of DEMO_ROLES) {
    const { password } = await deps.users.create(
      { actor: 'system' },
      {
        username: demo.username,
        displayName: demo.displayName,
        roles: [{ role: demo.role, corpId: deps.corpId }],
      },
    );
    accounts.push({ username: demo.username, role: demo.role, password: password! });
  }
  return accounts;
}
