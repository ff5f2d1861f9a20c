import { randomBytes } from 'node:crypto';
import { prng } from '../../../test/support/prng.js';
import { OrgRepository } from '../../org/org.repository.js';
import type { Employee } from '../../org/types.js';
import type { Pool } from '../../platform/db/pool.js';
import { AlertsRepository } from '../alerts/alerts.repository.js';
import type { ReviewConfig } from '../config.js';
import type { AlertSource, ReviewQueue } from '../types.js';

/** March 2025 in Asia/Shanghai (UTC+8, no daylight saving), the generated month. */
export const MONTH = {
  label: '2025-03',
  start: new Date('2025-02-28T16:00:00Z'),
  end: new Date('2025-03-31T16:00:00Z'),
};

/** The ISO weeks touching March 2025 with their instants in Asia/Shanghai. */
export const WEEKS = ['2025-W09', '2025-W10', '2025-W11', '2025-W12', '2025-W13', '2025-W14'].map(
  (label, i) => ({
    label,
    start: new Date(Date.UTC(2025, 1, 23 + 7 * i, 16)),
    end: new Date(Date.UTC(2025, 1, 30 + 7 * i, 16)),
  }),
);

export const samplingConfig = (sampling: Partial<ReviewConfig['sampling']> = {}): ReviewConfig => ({
  sampling: { monthlyRate: 0.05, recheckRate: 0.1, lowScoreBelow: 1, humanReviewTarget: 0.3, ...sampling },
});

// [id, parent, name, sensitive, employees]: Treasury is sensitive through its parent Finance.
const DEPARTMENTS: Array<[number, number | null, string, boolean, number]> = [
  [1, null, 'Head office', false, 0],
  [2, 1, 'Sales', false, 20],
  [3, 2, 'Sales team 1', false, 40],
  [4, 1, 'Customer service', false, 40],
  [5, 1, 'Finance', true, 15],
  [6, 5, 'Treasury', false, 10],
  [7, 1, 'Human resources', false, 25],
];
/** Employees flagged one by one although their department is not. */
const FLAGGED = new Set(['hr-0', 'hr-1', 'hr-2']);

export interface GeneratedConversation {
  id: string;
  employees: string[];
  times: Date[];
}

export interface GeneratedMonth {
  conversations: GeneratedConversation[];
  sensitive: Set<string>;
}

/** A department tree (one sensitive subtree) and 150 employees, 28 of them on sensitive posts. */
export async function organisation(pool: Pool, corpId: number): Promise<Set<string>> {
  const org = new OrgRepository(pool);
  await org.upsertDepartments(
    DEPARTMENTS.map(([id, parentId, name, sensitivePost]) => ({ corpId, id, parentId, name, sensitivePost })),
  );
  const employees: Employee[] = [];
  const sensitive = new Set<string>();
  for (const [id, , name, , count] of DEPARTMENTS)
    for (let i = 0; i < count; i++) {
      const userid = `${name === 'Human resources' ? 'hr' : `d${id}`}-${i}`;
      if (id === 5 || id === 6 || FLAGGED.has(userid)) sensitive.add(userid);
      employees.push({
        corpId,
        userid,
        name: userid,
        departmentIds: [id],
        mainDepartment: id,
        leaderOf: [],
        position: null,
        status: 1,
        sensitivePost: FLAGGED.has(userid),
      });
    }
  await org.upsertEmployees(employees);
  return sensitive;
}

const KINDS = ['external', 'internal', 'group'] as const;

/**
 * A generated month: `count` conversations (1:1 with customers, between colleagues, groups) with
 * one to four messages each, spread uniformly over March; about one in twelve talks only in the
 * weeks around it, and four sit one second either side of the month's local bounds.
 */
export async function generatedMonth(
  pool: Pool,
  corpId: number,
  count = 2800,
  seed = 7,
): Promise<GeneratedMonth> {
  const sensitive = await organisation(pool, corpId);
  const userids = (
    await pool.query<{ userid: string }>('SELECT userid FROM employees WHERE corp_id = $1', [corpId])
  ).rows
    .map((r) => r.userid)
    .sort();
  const random = prng(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const between = (from: Date, to: Date) =>
    new Date(from.getTime() + random() * (to.getTime() - from.getTime()));
  const around = { start: new Date('2025-02-17T16:00:00Z'), end: new Date('2025-04-14T16:00:00Z') };

  const drafts: Array<{
    key: string;
    kind: string;
    employees: string[];
    externals: string[];
    times: Date[];
  }> = [];
  for (let i = 0; i < count; i++) {
    const kind = i % 20 < 14 ? KINDS[0] : i % 20 < 17 ? KINDS[1] : KINDS[2];
    const employees = new Set([pick(userids)]);
    const size = kind === 'internal' ? 2 : kind === 'group' ? 3 + Math.floor(random() * 3) : 1;
    while (employees.size < size) employees.add(pick(userids));
    const externals = kind === 'internal' ? [] : [`wm-${i}`];
    const outside = i % 12 === 11;
    const times = Array.from({ length: 1 + Math.floor(random() * 4) }, () =>
      outside
        ? random() < 0.5
          ? between(around.start, MONTH.start)
          : between(MONTH.end, around.end)
        : between(MONTH.start, MONTH.end),
    );
    drafts.push({ key: `c-${i}`, kind, employees: [...employees].sort(), externals, times });
  }
  const edges = [
    -1000,
    0,
    MONTH.end.getTime() - MONTH.start.getTime() - 1000,
    MONTH.end.getTime() - MONTH.start.getTime(),
  ];
  edges.forEach((offset, i) =>
    drafts.push({
      key: `edge-${i}`,
      kind: 'external',
      employees: [userids[i]!],
      externals: [`wm-edge-${i}`],
      times: [new Date(MONTH.start.getTime() + offset)],
    }),
  );
  const conversations = await insertConversations(pool, corpId, drafts);
  return { conversations, sensitive };
}

async function insertConversations(
  pool: Pool,
  corpId: number,
  drafts: Array<{ key: string; kind: string; employees: string[]; externals: string[]; times: Date[] }>,
): Promise<GeneratedConversation[]> {
  for (const month of ['2025-02-01', '2025-03-01', '2025-04-01'])
    await pool.query('SELECT vigil_ensure_message_partition($1::timestamptz)', [month]);
  const { rows } = await pool.query<{ id: string; conversation_key: string }>(
    `INSERT INTO conversations (corp_id, kind, conversation_key)
     SELECT $1, kind, key FROM unnest($2::text[], $3::text[]) AS t(kind, key)
     RETURNING id::text, conversation_key`,
    [corpId, drafts.map((d) => d.kind), drafts.map((d) => d.key)],
  );
  const idOf = new Map(rows.map((r) => [r.conversation_key, r.id]));
  const members: Array<[string, string, string]> = [];
  const messages: Array<[string, Date, string]> = [];
  for (const d of drafts) {
    const id = idOf.get(d.key)!;
    for (const e of d.employees) members.push([id, e, 'employee']);
    for (const x of d.externals) members.push([id, x, 'external']);
    d.times.forEach((t) => messages.push([id, t, d.employees[0]!]));
  }
  await pool.query(
    `INSERT INTO conversation_members (corp_id, conversation_id, member_id, member_kind)
     SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::text[])`,
    [corpId, ...columns(members)],
  );
  const suffix = randomBytes(4).toString('hex');
  await pool.query(
    `INSERT INTO messages (corp_id, conversation_id, msg_time, sender_id, msgid, msgtype, sender_kind)
     SELECT $1, c, t, s, $5 || '-' || n, 'text', 'employee'
     FROM unnest($2::bigint[], $3::timestamptz[], $4::text[]) WITH ORDINALITY AS m(c, t, s, n)`,
    [corpId, ...columns(messages), suffix],
  );
  return drafts.map((d) => ({ id: idOf.get(d.key)!, employees: d.employees, times: d.times }));
}

function columns<T extends unknown[]>(rows: T[]): unknown[][] {
  return rows[0]!.map((_, i) => rows.map((r) => r[i]));
}

/** Conversations with a message in [start, end), as the population queries must find them. */
export function activeIn(month: GeneratedMonth, start: Date, end: Date): GeneratedConversation[] {
  return month.conversations.filter((c) => c.times.some((t) => t >= start && t < end));
}

/** A queue for these sources with a recognisable SLA (48 h to first action, 120 h to resolve). */
export async function queueFor(
  pool: Pool,
  corpId: number,
  sources: AlertSource[],
  extra: Partial<ReviewQueue> = {},
): Promise<ReviewQueue> {
  return new AlertsRepository(pool).upsertQueue(corpId, {
    name: sources.join('+'),
    position: 10,
    policyIds: null,
    categories: null,
    departmentIds: null,
    severities: null,
    sources,
    firstActionHours: 48,
    resolutionHours: 120,
    remindBeforeHours: 4,
    confirmNeedsSecond: true,
    dualReviewSeverities: ['high', 'critical'],
    ...extra,
  });
}
