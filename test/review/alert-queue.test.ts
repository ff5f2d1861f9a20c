import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContentAccessService } from '../../src/access/content/content-access.service.js';
import type { Principal, RoleAssignment } from '../../src/access/types.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import type { Keyring } from '../../src/crypto/keyring/types.js';
import { OrgRepository } from '../../src/org/org.repository.js';
import type { Corp } from '../../src/org/types.js';
import { configSchema } from '../../src/platform/config/schema.js';
import { Metrics } from '../../src/platform/http/metrics.js';
import { buildHttpServer } from '../../src/platform/http/server.js';
import { AlertsRepository } from '../../src/review/alerts/alerts.repository.js';
import { reviewModule } from '../../src/review/module.js';
import { prng } from '../support/prng.js';
import { closeTestPool, createTestCorp, testPool } from '../support/db.js';

// The queue's keyset pagination over the real API and PostgreSQL: every alert exactly once, in
// the queue's order (unclosed first, priority descending, resolution deadline, id), under every
// filter, with the count of all pages, within the reviewer's scope.

type SlaKind = 'overdue' | 'breached' | 'due_soon' | 'queue_window' | 'on_track';

interface Seeded {
  id: string;
  status: string;
  closed: boolean;
  priority: number;
  /** resolution_due in microseconds since the epoch (JS Dates would lose the microseconds). */
  dueMicros: bigint;
  category: string;
  severity: string;
  queue: 'a' | 'b' | null;
  mine: boolean;
  employee: string;
  sla: SlaKind;
}

const N = 1500;
const HOUR = 3_600_000_000n;
const CATEGORIES = ['bribery', 'private_deal', 'data_leak', 'harassment', 'rare_one'];
const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
const STATUSES = ['open', 'in_review', 'awaiting_second', 'escalated', 'closed'] as const;

let corp: Corp;
let me: string;
let queues: { a: string; b: string };
let seeded: Seeded[] = [];
let app: Awaited<ReturnType<typeof buildHttpServer>>;
let principal: Principal;

const full = (corpId: number, departmentId: number | null = null): RoleAssignment[] => [
  { id: '1', userId: me, role: 'compliance_officer', corpId, departmentId },
];

/** The queue's order, computed here independently of the SQL. */
function byQueueOrder(x: Seeded, y: Seeded): number {
  if (x.closed !== y.closed) return x.closed ? 1 : -1;
  if (x.priority !== y.priority) return y.priority - x.priority;
  if (x.dueMicros !== y.dueMicros) return x.dueMicros < y.dueMicros ? -1 : 1;
  return BigInt(x.id) < BigInt(y.id) ? -1 : 1;
}

interface Page {
  items: Array<{ id: string; slaState: string | null; status: string }>;
  nextCursor: string | null;
  total: number;
  totalExact: boolean;
}

const get = async (query: string) => {
  const response = await app.inject({
    method: 'GET',
    url: `/api/v1/corps/${corp.slug}/review/alerts?${query}`,
  });
  return response;
};

/** Pages through the whole list with the cursor; every page reports the same total. */
async function pageAll(filters: string, limit: number, between?: (page: number) => Promise<void>) {
  const ids: string[] = [];
  const states = new Map<string, string | null>();
  const totals = new Set<number>();
  let cursor: string | null = null;
  let pages = 0;
  do {
    const response = await get(
      `${filters}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    expect(response.statusCode, response.body).toBe(200);
    const page = response.json<Page>();
    expect(page.items.length).toBeLessThanOrEqual(limit);
    if (page.nextCursor) expect(page.items.length).toBe(limit);
    for (const a of page.items) {
      ids.push(a.id);
      states.set(a.id, a.slaState);
    }
    totals.add(page.total);
    expect(page.totalExact).toBe(true);
    cursor = page.nextCursor;
    pages++;
    await between?.(pages);
  } while (cursor);
  return { ids, states, totals: [...totals], pages };
}

beforeAll(async () => {
  const pool = testPool();
  corp = await createTestCorp(pool, 'queue');
  const org = new OrgRepository(pool);
  await org.upsertDepartments([
    { corpId: corp.id, id: 1, parentId: null, name: '总部' },
    { corpId: corp.id, id: 2, parentId: 1, name: '华东销售部' },
    { corpId: corp.id, id: 3, parentId: 1, name: '采购部' },
  ]);
  await org.upsertEmployees(
    [
      ['east', 2],
      ['buyer', 3],
    ].map(([userid, dept]) => ({
      corpId: corp.id,
      userid: userid as string,
      name: userid as string,
      departmentIds: [dept as number],
      mainDepartment: dept as number,
      leaderOf: [],
      position: null,
      status: 1,
      sensitivePost: false,
    })),
  );
  me = (
    await pool.query<{ id: string }>(`INSERT INTO users (username) VALUES ($1) RETURNING id::text`, [
      `queue-reviewer-${corp.id}`,
    ])
  ).rows[0]!.id;
  const repo = new AlertsRepository(pool);
  const queue = (name: string, remindBeforeHours: number) =>
    repo.upsertQueue(corp.id, {
      name,
      position: 10,
      policyIds: null,
      categories: null,
      departmentIds: null,
      severities: null,
      sources: null,
      firstActionHours: 24,
      resolutionHours: 24,
      remindBeforeHours,
      confirmNeedsSecond: true,
      dualReviewSeverities: ['high', 'critical'],
    });
  queues = { a: (await queue('a', 4)).id, b: (await queue('b', 10)).id };
  const conversation = (
    await pool.query<{ id: string }>(
      `INSERT INTO conversations (corp_id, kind, conversation_key) VALUES ($1, 'external', 'east|wm1') RETURNING id::text`,
      [corp.id],
    )
  ).rows[0]!.id;

  // Few distinct priorities and deadlines on whole hours: many ties, which only the id breaks.
  // Some deadlines differ by a microsecond alone, which a millisecond cursor would lose.
  const now = BigInt(Date.now()) * 1000n;
  const random = prng(8);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const rows: Array<Omit<Seeded, 'id'>> = [];
  for (let i = 0; i < N; i++) {
    const status = pick(STATUSES);
    const sla: SlaKind = pick(['overdue', 'breached', 'due_soon', 'queue_window', 'on_track']);
    const queueOf: Seeded['queue'] = sla === 'queue_window' ? 'b' : pick(['a', 'b', null] as const);
    const hours = {
      overdue: -BigInt(1 + Math.floor(random() * 3)) * 24n,
      breached: 48n, // the SLA job marked it: its first-action deadline passed
      due_soon: 2n,
      queue_window: 6n, // inside queue b's 10 h reminder window, outside the default 4 h
      on_track: BigInt(3 + Math.floor(random() * 3)) * 24n,
    }[sla];
    rows.push({
      status,
      closed: status === 'closed',
      priority: pick([0.5, 1, 1.5, 2.25, 3]),
      dueMicros: now + hours * HOUR + BigInt(i % 7 === 0 ? i % 2 : 0),
      category: i % 97 === 0 ? 'rare_one' : pick(CATEGORIES.slice(0, 4)),
      severity: pick(SEVERITIES),
      queue: queueOf,
      mine: random() < 0.2,
      employee: random() < 0.5 ? 'east' : 'buyer',
      sla,
    });
  }
  const inserted = await pool.query<{ id: string }>(
    `INSERT INTO review_alerts (corp_id, source, conversation_id, window_start, window_end, category, severity,
       employee_userids, priority, queue_id, status, assignee_id, first_action_due, first_action_at,
       resolution_due, breached, closed_at, disposition)
     SELECT $1, 'detection', $2, now(), now(), category, severity, ARRAY[employee], priority,
       CASE q WHEN 'a' THEN $3::bigint WHEN 'b' THEN $4::bigint END, status,
       CASE WHEN mine THEN $5::bigint END,
       now() - interval '1 day', now() - interval '20 hours',
       'epoch'::timestamptz + make_interval(secs => due / 1000000) + (due % 1000000) * interval '1 microsecond',
       breached, CASE WHEN status = 'closed' THEN now() END,
       CASE WHEN status = 'closed' THEN 'false_positive' END
     FROM unnest($6::text[], $7::text[], $8::text[], $9::float8[], $10::text[], $11::bool[], $12::bigint[],
       $13::bool[], $14::text[]) WITH ORDINALITY AS t(category, severity, employee, priority, q, mine, due,
       breached, status, n)
     ORDER BY n
     RETURNING id::text`,
    [
      corp.id,
      conversation,
      queues.a,
      queues.b,
      me,
      rows.map((r) => r.category),
      rows.map((r) => r.severity),
      rows.map((r) => r.employee),
      rows.map((r) => r.priority),
      rows.map((r) => r.queue ?? ''),
      rows.map((r) => r.mine),
      rows.map((r) => String(r.dueMicros)),
      rows.map((r) => r.sla === 'breached'),
      rows.map((r) => r.status),
    ],
  );
  seeded = rows.map((r, i) => ({ ...r, id: inserted.rows[i]!.id }));
  // The deadlines as stored, to the microsecond.
  const stored = await pool.query<{ id: string; due: string }>(
    `SELECT id::text, ((extract(epoch FROM resolution_due) * 1000000)::bigint)::text AS due
     FROM review_alerts WHERE corp_id = $1`,
    [corp.id],
  );
  const due = new Map(stored.rows.map((r) => [r.id, BigInt(r.due)]));
  for (const s of seeded) expect(due.get(s.id)).toBe(s.dueMicros);
  expect(new Set(seeded.map((s) => s.dueMicros)).size).toBeLessThan(N / 4); // ties, on purpose

  principal = {
    userId: me,
    username: 'reviewer',
    actor: `user:${me}`,
    via: 'session',
    stage: 'full',
    totpEnrolled: true,
    roles: full(corp.id),
  };
  const config = configSchema.parse({ server: { rateLimitPerMinute: 100_000 } });
  const review = reviewModule({
    pool,
    audit: new AuditLog(pool),
    content: {} as ContentAccessService,
    org,
    keyring: {} as Keyring,
    config: config.review,
    baseUrl: 'http://localhost',
  });
  app = await buildHttpServer({
    config,
    logger: pino({ level: 'silent' }),
    metrics: new Metrics(),
    authorize: async (request) => {
      request.principal = principal;
    },
    routes: review.routes,
  });
}, 120_000);

afterAll(async () => {
  await app?.close();
  await closeTestPool();
});

const expected = (keep: (s: Seeded) => boolean) => seeded.filter(keep).sort(byQueueOrder);
const OVERDUE: SlaKind[] = ['overdue', 'breached'];

describe('the alert queue’s keyset pagination', () => {
  it('returns every alert exactly once, in the queue’s order, with the total on every page', async () => {
    const all = expected(() => true);
    const { ids, totals, pages } = await pageAll('', 97);
    expect(pages).toBe(Math.ceil(N / 97));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(all.map((s) => s.id));
    expect(totals).toEqual([N]);
  });

  it.each([
    ['status=open,in_review', (s: Seeded) => ['open', 'in_review'].includes(s.status)],
    ['status=closed', (s: Seeded) => s.closed],
    ['severity=high,critical', (s: Seeded) => ['high', 'critical'].includes(s.severity)],
    ['category=rare_one', (s: Seeded) => s.category === 'rare_one'],
    ['category=bribery,data_leak', (s: Seeded) => ['bribery', 'data_leak'].includes(s.category)],
    ['assignee=me', (s: Seeded) => s.mine],
    ['assignee=none&status=open', (s: Seeded) => !s.mine && s.status === 'open'],
    ['queue=B', (s: Seeded) => s.queue === 'b'],
    ['sla=overdue', (s: Seeded) => !s.closed && OVERDUE.includes(s.sla)],
    ['sla=due_soon', (s: Seeded) => !s.closed && ['due_soon', 'queue_window'].includes(s.sla)],
    [
      'sla=overdue&severity=critical&status=open,escalated&assignee=me',
      (s: Seeded) =>
        !s.closed &&
        OVERDUE.includes(s.sla) &&
        s.severity === 'critical' &&
        ['open', 'escalated'].includes(s.status) &&
        s.mine,
    ],
  ])('under %s', async (query, keep) => {
    const want = expected(keep);
    expect(want.length).toBeGreaterThan(0);
    const { ids, totals } = await pageAll(query.replace('queue=B', `queue=${queues.b}`), 40);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(want.map((s) => s.id));
    expect(totals).toEqual([want.length]);
  });

  it('states each alert’s SLA: overdue, due soon (the queue’s reminder window) or on track', async () => {
    const { states } = await pageAll('', 500);
    const want = (s: Seeded) =>
      s.closed
        ? null
        : OVERDUE.includes(s.sla)
          ? 'overdue'
          : s.sla === 'due_soon' || s.sla === 'queue_window'
            ? 'due_soon'
            : 'on_track';
    for (const s of seeded) expect([s.id, states.get(s.id)]).toEqual([s.id, want(s)]);
    // Queue b's 10 h window holds the alerts due in 6 h; without it (4 h) they would be on track.
    expect(seeded.filter((s) => s.sla === 'queue_window' && !s.closed).length).toBeGreaterThan(0);
  });

  it('neither repeats nor skips alerts when new ones arrive while paging', async () => {
    const pool = testPool();
    const before = expected((s) => s.status === 'open');
    let added: string[] = [];
    const { ids } = await pageAll('status=open', 50, async (page) => {
      if (page !== 2) return;
      // Ahead of the reader (top priority) and behind it (lowest): offsets would shift by two.
      const { rows } = await pool.query<{ id: string }>(
        `INSERT INTO review_alerts (corp_id, source, conversation_id, window_start, window_end, category, severity,
           employee_userids, priority, first_action_due, resolution_due)
         SELECT corp_id, 'detection', conversation_id, now(), now(), 'late_arrival', 'high', '{east}', p,
           now() + interval '1 day', now() + interval '2 days'
         FROM review_alerts, unnest(ARRAY[99, 0.01]::float8[]) AS p WHERE corp_id = $1 AND id = $2
         ORDER BY p DESC
         RETURNING id::text, priority`,
        [corp.id, seeded[0]!.id],
      );
      added = rows.map((r) => r.id);
    });
    expect(added).toHaveLength(2);
    expect(new Set(ids).size).toBe(ids.length);
    // Every alert there at the start, in order; of the new ones only the one behind the reader.
    expect(ids.filter((id) => !added.includes(id))).toEqual(before.map((s) => s.id));
    expect(ids.filter((id) => added.includes(id))).toEqual([added[1]]);
    expect(ids.at(-1)).toBe(added[1]);
    await pool.query(`DELETE FROM review_alerts WHERE corp_id = $1 AND id = ANY($2::bigint[])`, [
      corp.id,
      added,
    ]);
  });

  it('pages only the alerts of a department-scoped reviewer’s subtree, and counts only those', async () => {
    principal = { ...principal, roles: full(corp.id, 2) };
    try {
      const want = expected((s) => s.employee === 'east' && !s.closed);
      const { ids, totals } = await pageAll('status=open,in_review,awaiting_second,escalated', 64);
      expect(ids).toEqual(want.map((s) => s.id));
      expect(totals).toEqual([want.length]);
    } finally {
      principal = { ...principal, roles: full(corp.id) };
    }
  });

  it('lists the categories in the reviewer’s scope with their open counts', async () => {
    const openCounts = (subset: Seeded[]) => {
      const counts = new Map<string, number>();
      for (const a of subset) counts.set(a.category, (counts.get(a.category) ?? 0) + (a.closed ? 0 : 1));
      return [...counts].sort(([x], [y]) => (x < y ? -1 : 1)).map(([category, open]) => ({ category, open }));
    };
    const categories = async () =>
      (await app.inject({ url: `/api/v1/corps/${corp.slug}/review/categories` })).json().items;
    expect(await categories()).toEqual(openCounts(seeded));
    principal = { ...principal, roles: full(corp.id, 2) };
    try {
      expect(await categories()).toEqual(openCounts(seeded.filter((a) => a.employee === 'east')));
    } finally {
      principal = { ...principal, roles: full(corp.id) };
    }
  });

  it('documents the cursor and the new filters in the OpenAPI description', async () => {
    const openapi = (await app.inject({ url: '/api/openapi.json' })).json();
    const list = openapi.paths['/api/v1/corps/{corp}/review/alerts'].get;
    const names = (list.parameters as Array<{ name: string }>).map((p) => p.name);
    expect(names).toEqual(
      expect.arrayContaining(['cursor', 'limit', 'sla', 'category', 'queue', 'assignee']),
    );
  });

  it('still serves offset pages, and refuses a forged cursor or a cursor with an offset', async () => {
    const all = expected(() => true);
    const page = await get('offset=120&limit=30');
    expect(page.statusCode).toBe(200);
    expect(page.json<Page>().items.map((a) => a.id)).toEqual(all.slice(120, 150).map((s) => s.id));
    expect(page.json<Page>().total).toBe(N);

    const first = (await get('limit=5')).json<Page>();
    expect(first.nextCursor).toBeTruthy();
    const both = await get(`limit=5&offset=5&cursor=${encodeURIComponent(first.nextCursor!)}`);
    expect(both.statusCode).toBe(400);
    for (const forged of [
      'garbage',
      Buffer.from(JSON.stringify([0, 1, "2026-01-01T00:00:00.000000Z'; --", '1'])).toString('base64url'),
      Buffer.from(JSON.stringify([0, 1, '2026-01-01T00:00:00.000000Z', '1 OR 1=1'])).toString('base64url'),
      Buffer.from(JSON.stringify({ id: 1 })).toString('base64url'),
    ]) {
      const response = await get(`limit=5&cursor=${forged}`);
      expect(response.statusCode, forged).toBe(400);
      expect(response.json().error.code).toBe('invalid_cursor');
    }
  });
});
