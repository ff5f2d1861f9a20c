import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../emulator/index.js';
import { WecomApiClient, WecomApiError } from './client.js';
import type { WecomSecretKind } from './secrets.js';

const CORP = 'wwapiclient0001';
let emu: Emulator;

function client(overrides: Partial<Record<WecomSecretKind, string>> = {}): WecomApiClient {
  const corp = emu.corp(CORP);
  return new WecomApiClient({
    baseUrl: emu.baseUrl,
    corpId: CORP,
    secrets: async (kind) => overrides[kind] ?? corp.secrets[kind],
    now: emu.clock.now,
  });
}

beforeAll(async () => {
  emu = await createEmulator({ corps: [{ corpId: CORP, messageCount: 10 }] });
});
afterAll(async () => {
  await emu.stop();
});

describe('WecomApiClient', () => {
  it('caches one token per secret kind until shortly before it expires', async () => {
    const c = client();
    await c.departmentList();
    await c.userList(1);
    expect(c.tokenFetches).toBe(1);
    await c.getPermitUserList();
    expect(c.tokenFetches).toBe(2); // the archive secret has a token of its own

    // 100 s before WeCom's expiry the client fetches again (WeCom hands back the same token).
    emu.clock.advance((7200 - 100) * 1000);
    await c.departmentList();
    expect(c.tokenFetches).toBe(3);
    emu.clock.advance(200 * 1000);
    await c.departmentList();
    expect(c.tokenFetches).toBe(4);
  });

  it('refreshes once when WeCom reports the token expired or revoked', async () => {
    const c = client();
    await c.departmentList();
    expect(c.tokenFetches).toBe(1);
    emu.expireTokens(CORP, 'expired'); // 42001
    expect((await c.departmentList()).length).toBeGreaterThan(5);
    expect(c.tokenFetches).toBe(2);
    emu.expireTokens(CORP, 'revoked'); // 40014
    expect((await c.departmentList()).length).toBeGreaterThan(5);
    expect(c.tokenFetches).toBe(3);
  });

  it('concurrent callers share one gettoken', async () => {
    const c = client();
    await Promise.all([c.departmentList(), c.userList(1), c.departmentList(2)]);
    expect(c.tokenFetches).toBe(1);
  });

  it('types WeCom errors and never puts the secret or token into them', async () => {
    const corp = emu.corp(CORP);
    // The app secret cannot call user/list_id: 48002 api forbidden.
    const c = client({ contacts: corp.secrets.app });
    const err = await c.userListId().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WecomApiError);
    expect(err).toMatchObject({ errcode: 48002, path: '/cgi-bin/user/list_id', transport: false });
    expect((err as WecomApiError).retryable).toBe(false);
    const token = await c.token('contacts');
    expect(String((err as Error).message)).not.toContain(token);
    expect(String((err as Error).message)).not.toContain(corp.secrets.app);

    const bad = client({ archive: 'not-the-secret' });
    const e2 = await bad.getPermitUserList().catch((e: unknown) => e);
    expect(e2).toMatchObject({ errcode: 40001, path: '/cgi-bin/gettoken' });
    expect(String((e2 as Error).message)).not.toContain('not-the-secret');

    const e3 = await client()
      .msgauditGroupChat('wrNoSuchRoom')
      .catch((e: unknown) => e);
    expect(e3).toMatchObject({ errcode: 301027, path: '/cgi-bin/msgaudit/groupchat/get' });
  });

  it('times out against a peer that never answers', async () => {
    const sockets: Socket[] = [];
    const server: Server = createServer((s) => void sockets.push(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    const c = new WecomApiClient({
      baseUrl: `http://127.0.0.1:${port}`,
      corpId: CORP,
      secrets: async () => 'secret-value',
      timeoutMs: 200,
    });
    const err = await c.departmentList().catch((e: unknown) => e);
    expect(err).toMatchObject({ errcode: -1, transport: true, path: '/cgi-bin/gettoken' });
    expect((err as WecomApiError).retryable).toBe(true);
    expect((err as Error).message).toContain('timeout');
    sockets.forEach((s) => s.destroy());
    server.close();
  });

  it('covers the msgaudit, contacts, customer and app endpoints', async () => {
    const corp = emu.corp(CORP);
    const gen = corp.gen;
    const c = client();

    expect(new Set(await c.getPermitUserList())).toEqual(
      new Set(gen.employees.filter((e) => e.permitted).map((e) => e.userid)),
    );

    const customer = gen.customers[0]!;
    const agree = await c.checkSingleAgree([
      { userid: customer.owner, externalUserid: customer.external_userid },
    ]);
    expect(agree).toEqual([
      {
        userid: customer.owner,
        exteranalopenid: customer.external_userid,
        agree_status: customer.agree_status,
        status_change_time: customer.status_change_time,
      },
    ]);

    const customerGroup = gen.groups.find((g) => g.kind === 'customer')!;
    const roomAgree = await c.checkRoomAgree(customerGroup.roomid);
    expect(roomAgree.map((a) => a.exteranalopenid).sort()).toEqual(
      customerGroup.members
        .filter((m) => m.type === 2)
        .map((m) => m.id)
        .sort(),
    );

    const internal = gen.groups.find((g) => g.kind === 'internal')!;
    const g = await c.msgauditGroupChat(internal.roomid);
    expect(g.roomname).toBe(internal.name);
    expect(g.members).toHaveLength(internal.members.length);

    const ext = await c.externalGroupChat(customerGroup.roomid);
    expect(ext.owner).toBe(customerGroup.owner);
    expect(ext.member_list.filter((m) => m.type === 2)).toHaveLength(
      customerGroup.members.filter((m) => m.type === 2).length,
    );

    expect(await c.getRobotInfo(gen.robot.robot_id)).toEqual(gen.robot);

    const contact = await c.externalContact(customer.external_userid);
    expect(contact.external_contact).toMatchObject({ name: customer.name, corp_name: customer.corp_name });
    expect(contact.follow_user[0]?.userid).toBe(customer.owner);

    // Paging through user/list_id.
    const seen: string[] = [];
    let cursor = '';
    let pages = 0;
    do {
      const page = await c.userListId(cursor, 7);
      seen.push(...page.deptUser.map((d) => d.userid));
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== '');
    expect(pages).toBeGreaterThan(1);
    expect(new Set(seen)).toEqual(new Set(gen.employees.map((e) => e.userid)));

    const to = gen.employees[0]!.userid;
    const sent = await c.sendAppMessage(corp.agentId, [to, 'nobody-here'], '您有一条待复核告警');
    expect(sent.invalidUsers).toEqual(['nobody-here']);
    expect(emu.sentMessages(CORP).at(-1)).toMatchObject({ touser: [to, 'nobody-here'], msgtype: 'text' });

    const code = emu.mintLoginCode(CORP, to);
    expect(await c.getUserInfoByCode(code)).toEqual({ userid: to, openid: null, userTicket: null });
    await expect(c.getUserInfoByCode(code)).rejects.toMatchObject({ errcode: 40029 });
  });
});
