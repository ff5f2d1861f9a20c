/**
 * Keeps Vigil's picture of a WeCom corp current: the department tree and employees (leaders,
 * status, leavers), the archive permit list, external contacts, groups and customer consent.
 */
import { withTransaction, type Pool } from '../../platform/db/pool.js';
import { OrgRepository } from '../../org/org.repository.js';
import type { Department, Employee } from '../../org/types.js';
import { WecomApiError, type WecomApiClient, type WecomUser } from '../api/client.js';
import { WecomSecretMissingError } from '../api/secrets.js';
import {
  ConsentRepository,
  consentFromMessage,
  consentStatusOf,
  type ConsentRecord,
  type StoredConsent,
} from './consent.js';
import {
  ContactsRepository,
  type ExternalContactRow,
  type GroupMember,
  type WecomGroup,
} from './contacts.repository.js';

export interface OrganisationSyncResult {
  departments: number;
  employees: number;
  /** userids newly marked as left because WeCom no longer returns them. */
  left: string[];
}

export interface SyncAllResult {
  steps: Record<string, { ok: true; result: unknown } | { ok: false; skipped?: boolean; error: string }>;
}

/** WeCom errors that mean "this id is not (or no longer) there", not "try again". */
const NOT_FOUND_CODES = new Set([84061, 40096, 60111, 301027, 701008, 40058, 60123]);

const isExternalId = (id: string): boolean => /^w[om]/.test(id);
const fromUnix = (s: number | undefined): Date | null => (s && s > 0 ? new Date(s * 1000) : null);

/** Contacts and consent sync of one Vigil corp against its WeCom API client. */
export class ContactsSyncService {
  private readonly repo: ContactsRepository;
  private readonly consents: ConsentRepository;

  constructor(
    private readonly pool: Pool,
    private readonly client: WecomApiClient,
    private readonly corpId: number,
  ) {
    this.repo = new ContactsRepository(pool);
    this.consents = new ConsentRepository(pool);
  }

  /**
   * Departments and employees from WeCom. Employees WeCom no longer returns are marked left
   * (status 5), never deleted: their archived conversations still need an owner.
   */
  async syncOrganisation(): Promise<OrganisationSyncResult> {
    const depts = await this.client.departmentList();
    if (depts.length === 0) throw new Error('WeCom returned no departments; refusing to sync an empty tree');
    const users = new Map<string, WecomUser>();
    // Per department (user/list without fetch_child works for every secret and app age).
    for (const d of depts) for (const u of await this.client.userList(d.id)) users.set(u.userid, u);
    if (users.size === 0) throw new Error('WeCom returned no employees; refusing to mark everyone as left');

    const departments: Department[] = depts.map((d) => ({
      corpId: this.corpId,
      id: d.id,
      parentId: d.parentid > 0 ? d.parentid : null,
      name: d.name,
      nameEn: d.name_en || null,
      sortOrder: d.order ?? 0,
    }));
    return withTransaction(this.pool, async (tx) => {
      const org = new OrgRepository(tx);
      const repo = new ContactsRepository(tx);
      await org.upsertDepartments(departments);
      const sensitive = await repo.sensitiveDepartments(this.corpId);
      const employees: Employee[] = [...users.values()].map((u) => {
        const deptIds = u.department ?? [];
        return {
          corpId: this.corpId,
          userid: u.userid,
          name: u.name || u.userid,
          departmentIds: deptIds,
          mainDepartment: u.main_department ?? deptIds[0] ?? null,
          // is_leader_in_dept is parallel to department.
          leaderOf: deptIds.filter((_, i) => u.is_leader_in_dept?.[i] === 1),
          position: u.position || null,
          status: u.status ?? 1,
          // Only applies to new rows: an existing employee keeps the flag an admin set.
          sensitivePost: deptIds.some((d) => sensitive.has(d)),
        };
      });
      await org.upsertEmployees(employees);
      const left = await repo.markMissingAsLeft(this.corpId, [...users.keys()]);
      return { departments: departments.length, employees: employees.length, left };
    });
  }

  /** employees.archived = on WeCom's archive permit list. */
  async syncPermitList(): Promise<{ permitted: number; changed: number; unknown: string[] }> {
    const ids = await this.client.getPermitUserList();
    const { changed, unknown } = await this.repo.setPermitList(this.corpId, ids);
    return { permitted: ids.length, changed, unknown };
  }

  /** Looks up external contacts (and robots, wb…) and upserts name, corp name and kind. */
  async syncExternalContacts(ids: string[]): Promise<{ synced: number; missing: string[] }> {
    const rows: ExternalContactRow[] = [];
    const missing: string[] = [];
    for (const id of new Set(ids)) {
      try {
        if (id.startsWith('wb')) {
          const robot = await this.client.getRobotInfo(id);
          rows.push({ externalUserid: id, name: robot.name, corpName: null, kind: 3 });
        } else {
          const { external_contact: c } = await this.client.externalContact(id);
          rows.push({
            externalUserid: id,
            name: c.name ?? null,
            corpName: c.corp_name ?? null,
            kind: c.type === 1 || c.type === 2 ? c.type : null,
          });
        }
      } catch (err) {
        if (err instanceof WecomApiError && NOT_FOUND_CODES.has(err.errcode)) missing.push(id);
        else throw err;
      }
    }
    await this.repo.upsertExternalContacts(this.corpId, rows);
    return { synced: rows.length, missing };
  }

  /**
   * Fetches one group: internal groups from msgaudit/groupchat/get, customer groups from
   * externalcontact/groupchat/get (the kind already known is tried first). Null when WeCom has
   * neither (e.g. a group started from WeChat).
   */
  async syncGroup(roomid: string): Promise<WecomGroup | null> {
    const known = await this.repo.findGroup(this.corpId, roomid);
    const order: Array<'internal' | 'customer'> =
      known?.kind === 'customer' ? ['customer', 'internal'] : ['internal', 'customer'];
    for (const kind of order) {
      let group: WecomGroup;
      try {
        group =
          kind === 'internal' ? await this.fetchInternalGroup(roomid) : await this.fetchCustomerGroup(roomid);
      } catch (err) {
        if (err instanceof WecomSecretMissingError) continue;
        if (err instanceof WecomApiError && !err.transport && !err.tokenInvalid) continue;
        throw err;
      }
      await this.repo.upsertGroup(group);
      return group;
    }
    return null;
  }

  /** Syncs the given groups, or every group seen in the archive or already known. */
  async syncGroups(roomids?: string[]): Promise<{ synced: number; unavailable: string[] }> {
    const ids = roomids ?? (await this.repo.knownRoomIds(this.corpId));
    const unavailable: string[] = [];
    let synced = 0;
    for (const id of ids) {
      if (await this.syncGroup(id)) synced++;
      else unavailable.push(id);
    }
    return { synced, unavailable };
  }

  /** Asks check_single_agree about (employee, customer) pairs and appends what changed. */
  async refreshConsents(
    pairs: Array<{ userid: string; externalUserid: string }>,
  ): Promise<{ checked: number; recorded: number; unknown: number }> {
    if (pairs.length === 0) return { checked: 0, recorded: 0, unknown: 0 };
    const info = await this.client.checkSingleAgree(pairs);
    const records: ConsentRecord[] = [];
    let unknown = 0;
    for (const i of info) {
      const status = consentStatusOf(i.agree_status);
      const changedAt = fromUnix(i.status_change_time);
      // No change time = the customer never decided: nothing to record.
      if (!status || !changedAt || !i.exteranalopenid) {
        unknown++;
        continue;
      }
      records.push({
        corpId: this.corpId,
        externalUserid: i.exteranalopenid,
        userid: i.userid ?? null,
        roomId: null,
        status,
        changedAt,
        source: 'check_single_agree',
      });
    }
    return { checked: info.length, recorded: await this.consents.record(records), unknown };
  }

  /** Asks check_room_agree about the external members of a group. */
  async refreshRoomConsents(roomid: string): Promise<{ checked: number; recorded: number }> {
    const info = await this.client.checkRoomAgree(roomid);
    const records: ConsentRecord[] = [];
    for (const i of info) {
      const status = consentStatusOf(i.agree_status);
      const changedAt = fromUnix(i.status_change_time);
      if (!status || !changedAt || !i.exteranalopenid) continue;
      records.push({
        corpId: this.corpId,
        externalUserid: i.exteranalopenid,
        userid: null,
        roomId: roomid,
        status,
        changedAt,
        source: 'check_room_agree',
      });
    }
    return { checked: info.length, recorded: await this.consents.record(records) };
  }

  /** Records the consent carried by an archived agree/disagree message (no-op for others). */
  async recordConsentFromMessage(msg: Record<string, unknown>): Promise<boolean> {
    const record = consentFromMessage(this.corpId, msg);
    return record ? (await this.consents.record([record])) > 0 : false;
  }

  /** The latest consent statement of a customer towards an employee. */
  async currentConsent(externalUserid: string, userid: string | null): Promise<StoredConsent | undefined> {
    return this.consents.current(this.corpId, externalUserid, userid);
  }

  /**
   * Everything, each step on its own: a step whose secret is not configured is skipped, a failing
   * step does not stop the others. The scheduled job runs this.
   */
  async syncAll(opts: { externalLimit?: number; consentPairLimit?: number } = {}): Promise<SyncAllResult> {
    const steps: SyncAllResult['steps'] = {};
    const step = async (name: string, run: () => Promise<unknown>): Promise<void> => {
      try {
        steps[name] = { ok: true, result: await run() };
      } catch (err) {
        steps[name] =
          err instanceof WecomSecretMissingError
            ? { ok: false, skipped: true, error: err.message }
            : { ok: false, error: (err as Error).message };
      }
    };
    await step('organisation', async () => {
      const r = await this.syncOrganisation();
      return { departments: r.departments, employees: r.employees, left: r.left.length };
    });
    await step('permitList', async () => {
      const r = await this.syncPermitList();
      return { permitted: r.permitted, changed: r.changed, unknown: r.unknown.length };
    });
    await step('groups', async () => {
      const r = await this.syncGroups();
      return { synced: r.synced, unavailable: r.unavailable.length };
    });
    await step('externalContacts', async () => {
      const r = await this.syncExternalContacts(
        await this.repo.externalIdsToSync(this.corpId, opts.externalLimit ?? 2000),
      );
      return { synced: r.synced, missing: r.missing.length };
    });
    await step('consents', async () => {
      const single = await this.refreshConsents(
        await this.repo.recentConsentPairs(this.corpId, opts.consentPairLimit ?? 5000),
      );
      let room = 0;
      for (const id of await this.repo.customerGroupIds(this.corpId)) {
        room += (await this.refreshRoomConsents(id)).recorded;
      }
      return { ...single, roomRecorded: room };
    });
    return { steps };
  }

  private async fetchInternalGroup(roomid: string): Promise<WecomGroup> {
    const g = await this.client.msgauditGroupChat(roomid);
    return {
      corpId: this.corpId,
      roomId: roomid,
      name: g.roomname || null,
      owner: g.creator || null,
      kind: 'internal',
      notice: g.notice || null,
      createdAtWecom: fromUnix(g.room_create_time),
      members: g.members.map((m): GroupMember => ({
        id: m.memberid,
        type: isExternalId(m.memberid) ? 2 : 1,
        joinedAt: m.jointime ?? null,
      })),
    };
  }

  private async fetchCustomerGroup(roomid: string): Promise<WecomGroup> {
    const g = await this.client.externalGroupChat(roomid);
    return {
      corpId: this.corpId,
      roomId: roomid,
      name: g.name || null,
      owner: g.owner || null,
      kind: 'customer',
      notice: g.notice || null,
      createdAtWecom: fromUnix(g.create_time),
      members: g.member_list.map((m): GroupMember => ({
        id: m.userid,
        type: m.type === 2 ? 2 : 1,
        joinedAt: m.join_time ?? null,
        ...(m.name ? { name: m.name } : {}),
      })),
    };
  }
}
