import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCorp, testPool } from '../../../test/support/db.js';
import { testArchive } from '../../../test/support/archive.js';
import type { Job, JobContext } from '../../platform/jobs/types.js';
import { WecomApiClient } from '../api/client.js';
import { WECOM_SECRET_KINDS, wecomSecretName } from '../api/secrets.js';
import { createEmulator, type Emulator } from '../emulator/index.js';
import { ConsentRepository, consentFromMessage } from './consent.js';
import { contactsJobs } from './contacts.jobs.js';
import { ContactsRepository } from './contacts.repository.js';
import { ContactsSyncService } from './contacts.service.js';

const pool = testPool();
let emu: Emulator;

async function setup(wecomCorpId: string, opts: { employees?: number } = {}) {
  const corp = await createTestCorp(pool, 'contacts');
  const emulated = emu.addCorp({ corpId: wecomCorpId, messageCount: 800, ...opts });
  const client = new WecomApiClient({
    baseUrl: emu.baseUrl,
    corpId: wecomCorpId,
    secrets: async (kind) => emulated.secrets[kind],
  });
  return { corp, emulated, client, service: new ContactsSyncService(pool, client, corp.id) };
}

async function employees(corpId: number) {
  const { rows } = await pool.query<{
    userid: string;
    name: string;
    department_ids: string[];
    main_department: string | null;
    leader_of: string[];
    position: string | null;
    status: number;
    archived: boolean;
  }>('SELECT * FROM employees WHERE corp_id = $1 ORDER BY userid', [corpId]);
  return new Map(rows.map((r) => [r.userid, r]));
}

beforeAll(async () => {
  emu = await createEmulator();
});
afterAll(async () => {
  await emu.stop();
});

describe('organisation sync', () => {
  it('mirrors the department tree and employees with leaders, positions and status', async () => {
    const { corp, emulated, service } = await setup('wwcontactsorg01');
    const gen = emulated.gen;
    const result = await service.syncOrganisation();
    expect(result).toEqual({
      departments: gen.departments.length,
      employees: gen.employees.length,
      left: [],
    });

    const { rows: depts } = await pool.query<{ id: string; parent_id: string | null; name: string }>(
      'SELECT id, parent_id, name FROM departments WHERE corp_id = $1 ORDER BY id',
      [corp.id],
    );
    expect(depts.map((d) => [Number(d.id), d.parent_id === null ? 0 : Number(d.parent_id), d.name])).toEqual(
      gen.departments.map((d) => [d.id, d.parentid, d.name]),
    );

    const stored = await employees(corp.id);
    expect(stored.size).toBe(gen.employees.length);
    let leaders = 0;
    for (const e of gen.employees) {
      const row = stored.get(e.userid)!;
      expect(row).toMatchObject({ name: e.name, position: e.position, status: e.status });
      expect(row.department_ids.map(Number)).toEqual(e.department);
      expect(Number(row.main_department)).toBe(e.main_department);
      const leads = e.department.filter((_, i) => e.is_leader_in_dept[i] === 1);
      expect(row.leader_of.map(Number)).toEqual(leads);
      leaders += leads.length > 0 ? 1 : 0;
    }
    expect(leaders).toBe(gen.departments.length - 1); // every department below the root has one

    // Idempotent.
    expect((await service.syncOrganisation()).left).toEqual([]);
  });

  it('marks an employee WeCom no longer returns as left instead of deleting them', async () => {
    const { corp, emulated, service } = await setup('wwcontactsorg02');
    await service.syncOrganisation();
    const gen = emulated.gen;
    const index = gen.employees.findIndex((e) => e.status === 1 && e.is_leader_in_dept[0] !== 1);
    const [gone] = gen.employees.splice(index, 1);
    const result = await service.syncOrganisation();
    expect(result.left).toEqual([gone!.userid]);
    expect(result.employees).toBe(gen.employees.length);
    const row = (await employees(corp.id)).get(gone!.userid);
    expect(row).toMatchObject({ status: 5, name: gone!.name });
    expect(await new ContactsRepository(pool).countEmployees(corp.id)).toBe(
      gen.employees.filter((e) => e.status !== 5).length,
    );
    // They come back: WeCom's status wins again.
    gen.employees.push(gone!);
    expect((await service.syncOrganisation()).left).toEqual([]);
    expect((await employees(corp.id)).get(gone!.userid)!.status).toBe(gone!.status);
  });

  it('sets employees.archived from the permit list', async () => {
    const { corp, emulated, service } = await setup('wwcontactsperm1');
    await service.syncOrganisation();
    const r = await service.syncPermitList();
    const permitted = emulated.gen.employees.filter((e) => e.permitted);
    expect(r).toMatchObject({ permitted: permitted.length, changed: permitted.length, unknown: [] });
    expect(permitted.length).toBeLessThan(emulated.gen.employees.length); // HR and inactive are outside
    for (const [userid, row] of await employees(corp.id)) {
      expect(row.archived).toBe(emulated.gen.employee(userid)!.permitted);
    }
    expect((await service.syncPermitList()).changed).toBe(0);
  });
});

describe('external contacts and groups', () => {
  it('upserts external contacts and robots, and reports ids WeCom does not know', async () => {
    const { corp, emulated, service } = await setup('wwcontactsext01');
    const gen = emulated.gen;
    const ids = [
      ...gen.customers.slice(0, 5).map((c) => c.external_userid),
      gen.robot.robot_id,
      'wmNoSuchCustomer',
    ];
    const r = await service.syncExternalContacts(ids);
    expect(r).toEqual({ synced: 6, missing: ['wmNoSuchCustomer'] });
    const { rows } = await pool.query<{
      external_userid: string;
      name: string;
      corp_name: string;
      kind: number;
    }>('SELECT external_userid, name, corp_name, kind FROM external_contacts WHERE corp_id = $1', [corp.id]);
    const byId = new Map(rows.map((x) => [x.external_userid, x]));
    for (const c of gen.customers.slice(0, 5)) {
      expect(byId.get(c.external_userid)).toMatchObject({
        name: c.name,
        corp_name: c.corp_name,
        kind: c.type,
      });
    }
    expect(byId.get(gen.robot.robot_id)).toMatchObject({ name: gen.robot.name, kind: 3 });
  });

  it('stores internal and customer groups with their members', async () => {
    const { corp, emulated, service } = await setup('wwcontactsgrp01');
    const gen = emulated.gen;
    const r = await service.syncGroups([...gen.groups.map((g) => g.roomid), 'wrGoneFromWeCom']);
    expect(r).toEqual({ synced: gen.groups.length, unavailable: ['wrGoneFromWeCom'] });
    const repo = new ContactsRepository(pool);
    for (const g of gen.groups) {
      const stored = (await repo.findGroup(corp.id, g.roomid))!;
      expect(stored).toMatchObject({ name: g.name, owner: g.owner, kind: g.kind });
      expect(stored.members.map((m) => [m.id, m.type])).toEqual(g.members.map((m) => [m.id, m.type]));
    }
    // Re-sync tries the known kind first and keeps one row per group.
    expect((await service.syncGroups()).synced).toBe(gen.groups.length);
    const { rows } = await pool.query('SELECT 1 FROM wecom_groups WHERE corp_id = $1', [corp.id]);
    expect(rows).toHaveLength(gen.groups.length);
  });
});

describe('consent history', () => {
  it('records check_single_agree answers once and reports the latest', async () => {
    const { corp, emulated, service } = await setup('wwcontactscon01');
    const customers = emulated.gen.customers.slice(0, 20);
    const pairs = customers.map((c) => ({ userid: c.owner, externalUserid: c.external_userid }));
    const r = await service.refreshConsents(pairs);
    expect(r).toEqual({ checked: 20, recorded: 20, unknown: 0 });
    expect((await service.refreshConsents(pairs)).recorded).toBe(0); // identical statements: stored once
    for (const c of customers) {
      const current = await service.currentConsent(c.external_userid, c.owner);
      expect(current).toMatchObject({
        status: c.agree_status === 'Agree' ? 'agree' : 'disagree',
        source: 'check_single_agree',
        userid: c.owner,
        changedAt: new Date(c.status_change_time * 1000),
      });
    }
    // A customer WeCom does not know has no change time: nothing is recorded.
    expect(
      await service.refreshConsents([{ userid: customers[0]!.owner, externalUserid: 'wmUnknown' }]),
    ).toEqual({
      checked: 1,
      recorded: 0,
      unknown: 1,
    });
    expect(await new ConsentRepository(pool).current(corp.id, 'wmUnknown')).toBeUndefined();
  });

  it('records agree and disagree messages; the latest statement wins', async () => {
    const { corp, emulated, service } = await setup('wwcontactscon02');
    const consentMessages = [...emulated.groundTruth()].filter(
      (m) => m.msgtype === 'agree' || m.msgtype === 'disagree',
    );
    expect(consentMessages.length).toBeGreaterThan(0);
    const m = consentMessages[0]!.message as Record<string, unknown>;
    const customer = (m[m.msgtype as string] as { userid: string }).userid;
    const owner = emulated.gen.customer(customer)!.owner;

    const record = consentFromMessage(corp.id, m)!;
    expect(record).toMatchObject({ externalUserid: customer, userid: owner, roomId: null, msgid: m.msgid });
    expect(await service.recordConsentFromMessage(m)).toBe(true);
    expect(await service.recordConsentFromMessage(m)).toBe(false); // the same message again
    expect(await service.recordConsentFromMessage({ msgtype: 'text', text: { content: 'hi' } })).toBe(false);

    // The customer changes their mind an hour later, then agrees again.
    const t0 = record.changedAt.getTime();
    const disagree = {
      msgid: 'consent-disagree-1',
      action: 'send',
      from: customer,
      tolist: [owner],
      roomid: '',
      msgtime: t0 + 3_600_000,
      msgtype: 'disagree',
      disagree: { userid: customer, disagree_time: t0 + 3_600_000 },
    };
    await service.recordConsentFromMessage(disagree);
    expect(await service.currentConsent(customer, owner)).toMatchObject({
      status: 'disagree',
      source: 'disagree_message',
      msgid: 'consent-disagree-1',
    });
    const agree = {
      ...disagree,
      msgid: 'consent-agree-2',
      msgtime: t0 + 7_200_000,
      msgtype: 'agree',
      agree: { userid: customer, agree_time: t0 + 7_200_000 },
    };
    await service.recordConsentFromMessage(agree);
    expect(await service.currentConsent(customer, owner)).toMatchObject({
      status: 'agree',
      source: 'agree_message',
    });
    const history = await new ConsentRepository(pool).history(corp.id, customer);
    expect(history.map((h) => h.source)).toEqual([record.source, 'disagree_message', 'agree_message']);
    // Append-only.
    await expect(
      pool.query('UPDATE external_consents SET status = $1 WHERE corp_id = $2', ['agree', corp.id]),
    ).rejects.toThrow(/append-only/);
  });

  it('records room consents from check_room_agree', async () => {
    const { corp, emulated, service } = await setup('wwcontactscon03');
    const g = emulated.gen.groups.find((x) => x.kind === 'customer')!;
    const externals = g.members.filter((m) => m.type === 2);
    const r = await service.refreshRoomConsents(g.roomid);
    expect(r).toEqual({ checked: externals.length, recorded: externals.length });
    const current = await new ConsentRepository(pool).current(corp.id, externals[0]!.id, null, g.roomid);
    expect(current).toMatchObject({ roomId: g.roomid, userid: null, source: 'check_room_agree' });
  });
});

describe('contacts jobs', () => {
  it('syncs every enabled connector with secrets from the keyring', async () => {
    const { corp, emulated, service } = await setup('wwcontactsjob01');
    // A customer group already known (its members are external contacts to look up).
    await service.syncGroups([emulated.gen.groups.find((g) => g.kind === 'customer')!.roomid]);
    const { keyring } = await testArchive(pool);
    for (const kind of WECOM_SECRET_KINDS) {
      if (kind === 'externalcontact') continue; // not configured: that step is skipped, not failed
      await keyring.putSecret(wecomSecretName(corp.id, kind), Buffer.from(emulated.secrets[kind]));
    }
    await pool.query(
      `INSERT INTO wecom_connectors (corp_id, wecom_corp_id, sdk_mode, api_base_url) VALUES ($1, $2, 'emulator', $3)`,
      [corp.id, emulated.corpId, emu.baseUrl],
    );
    const { jobs, schedules } = contactsJobs({ pool, keyring });
    expect(schedules).toEqual([
      { name: 'wecom.contacts-sync', cron: '0 17 * * * *', job: 'wecom.contacts-sync-all' },
    ]);
    const sync = jobs.find((j) => j.name === 'wecom.contacts-sync')!;
    const result = (await sync.handler(ctx({ corpId: corp.id }))) as {
      steps: Record<string, { ok: boolean; skipped?: boolean; result?: Record<string, number> }>;
    };
    expect(result.steps.organisation).toMatchObject({
      ok: true,
      result: { employees: emulated.gen.employees.length },
    });
    expect(result.steps.permitList?.ok).toBe(true);
    expect(result.steps.externalContacts).toMatchObject({ ok: false, skipped: true });
    expect(result.steps.consents).toMatchObject({ ok: true, result: { roomRecorded: expect.any(Number) } });
    expect((await employees(corp.id)).size).toBe(emulated.gen.employees.length);

    // The fan-out job enqueues one sync per enabled connector, once.
    const all = jobs.find((j) => j.name === 'wecom.contacts-sync-all')!;
    const first = (await all.handler(ctx({}))) as { enqueued: number[] };
    expect(first.enqueued).toContain(corp.id);
    const second = (await all.handler(ctx({}))) as { enqueued: number[] };
    expect(second.enqueued).not.toContain(corp.id);
    // Leave nothing queued for other suites sharing the database.
    await pool.query(
      "UPDATE jobs SET status = 'cancelled' WHERE name = 'wecom.contacts-sync' AND status = 'queued' AND (payload->>'corpId')::int = ANY($1::int[])",
      [first.enqueued],
    );
  });
});

function ctx(payload: Record<string, unknown>): JobContext {
  return {
    job: { id: '0', name: 'test', payload } as Job,
    logger: pino({ level: 'silent' }),
    reportProgress: async () => undefined,
    signal: new AbortController().signal,
  };
}
