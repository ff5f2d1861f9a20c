import type { Queryable } from '../../platform/db/pool.js';
import type { Alert, AlertDraft } from '../types.js';
import { AlertsRepository } from './alerts.repository.js';
import { DEFAULT_SLA, priorityOf, routeAlert } from './routing.js';

/**
 * Creates alerts in the caller's transaction: each is routed to its queue (whose SLA sets the
 * deadlines) and given a priority from its severity and its rules' measured precision.
 * Used by finding intake, sampling and rechecks alike.
 */
export async function createAlerts(db: Queryable, corpId: number, drafts: AlertDraft[]): Promise<Alert[]> {
  const repo = new AlertsRepository(db);
  const queues = await repo.queues(corpId);
  const created: Alert[] = [];
  for (const draft of drafts) {
    const departments = await repo.departmentsWithAncestors(corpId, draft.employeeUserids);
    const queue = routeAlert(queues, draft, departments);
    const precisions = await repo.rulePrecisions(corpId, draft.ruleIds ?? []);
    const priority = draft.priority ?? priorityOf(draft, [...precisions.values()]);
    created.push(await repo.insert(corpId, { ...draft, priority }, queue, queue ?? DEFAULT_SLA));
  }
  return created;
}
