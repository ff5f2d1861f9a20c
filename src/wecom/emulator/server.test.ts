import { createHash, generateKeyPairSync } from 'node:crypto';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateEncodingAesKey, WXBizMsgCrypt, xmlField } from '../callback-crypto.js';
import { downloadMedia, parseChatData } from '../sdk/chatdata.js';
import { HttpEmulatorFinanceSdk } from '../sdk/http-emulator-sdk.js';
import { FinanceSdkCrashedError, FinanceSdkError } from '../sdk/types.js';
import { decryptChatMsg, decryptRandomKey } from './emulator-crypto.js';
import { createEmulator, type Emulator } from './server.js';

let emu: Emulator;
const CORP = 'wwserver0001';

async function get(path: string, query: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const u = new URL(path, emu.baseUrl);
  for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
  return (await (await fetch(u)).json()) as Record<string, unknown>;
}

async function post(
  path: string,
  body: unknown,
  query: Record<string, string> = {},
): Promise<Record<string, unknown>> {
  const u = new URL(path, emu.baseUrl);
  for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
  const res = await fetch(u, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return (await res.json()) as Record<string, unknown>;
}

async function token(
  kind: 'archive' | 'contacts' | 'app' | 'externalcontact',
  corpId = CORP,
): Promise<string> {
  const r = await get('/cgi-bin/gettoken', { corpid: corpId, corpsecret: emu.corp(corpId).secrets[kind] });
  expect(r.errcode).toBe(0);
  return r.access_token as string;
}

async function chatdata(
  corpId: string,
  seq: string,
  limit: number,
): Promise<{ ret: string | null; text: string }> {
  const res = await fetch(new URL('/emulator/finance/chatdata', emu.baseUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ corpid: corpId, secret: emu.corp(corpId).secrets.archive, seq, limit }),
  });
  return { ret: res.headers.get('x-sdk-ret'), text: await res.text() };
}

beforeAll(async () => {
  emu = await createEmulator({
    corps: [
      { corpId: CORP, messageCount: 3000, seed: 'server-test' },
      { corpId: 'wwbigseq', messageCount: 50, seqStart: 2n ** 64n - 60n },
    ],
  });
});
afterAll(async () => emu.stop());

describe('gettoken and token errors', () => {
  it('issues tokens per secret and reports WeCom errors', async () => {
    expect((await get('/cgi-bin/gettoken', { corpid: 'nope', corpsecret: 'x' })).errcode).toBe(40013);
    expect((await get('/cgi-bin/gettoken', { corpid: CORP, corpsecret: 'wrong' })).errcode).toBe(40001);
    const r = await get('/cgi-bin/gettoken', { corpid: CORP, corpsecret: emu.corp(CORP).secrets.archive });
    expect(r).toMatchObject({ errcode: 0, errmsg: 'ok', expires_in: 7200 });
    // Same token while valid.
    expect(await token('archive')).toBe(r.access_token);
    expect((await post('/cgi-bin/msgaudit/get_permit_user_list', {})).errcode).toBe(41001);
    expect(
      (await post('/cgi-bin/msgaudit/get_permit_user_list', {}, { access_token: 'bogus' })).errcode,
    ).toBe(40014);
    // An app token cannot call msgaudit APIs.
    const app = await token('app');
    expect((await post('/cgi-bin/msgaudit/get_permit_user_list', {}, { access_token: app })).errcode).toBe(
      48002,
    );
  });

  it('expires tokens on the emulator clock', async () => {
    const e = await createEmulator({ corps: [{ corpId: 'wwclock', messageCount: 10 }], tokenTtlSeconds: 60 });
    try {
      const t = (await (
        await fetch(
          `${e.baseUrl}/cgi-bin/gettoken?corpid=wwclock&corpsecret=${e.corp('wwclock').secrets.archive}`,
        )
      ).json()) as { access_token: string };
      const call = async () =>
        (
          (await (
            await fetch(`${e.baseUrl}/cgi-bin/msgaudit/get_permit_user_list?access_token=${t.access_token}`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: '{}',
            })
          ).json()) as { errcode: number }
        ).errcode;
      expect(await call()).toBe(0);
      e.clock.advance(61_000);
      expect(await call()).toBe(42001);
      e.expireTokens('wwclock', 'revoked');
      expect(await call()).toBe(40014);
    } finally {
      await e.stop();
    }
  });
});

describe('msgaudit and contact APIs', () => {
  it('lists permitted users, agree status, groups and the robot', async () => {
    const t = await token('archive');
    const c = emu.corp(CORP).gen;
    const permit = await post('/cgi-bin/msgaudit/get_permit_user_list', { type: 1 }, { access_token: t });
    expect(permit.ids).toEqual(c.employees.filter((e) => e.permitted).map((e) => e.userid));
    const cust = c.customers[0]!;
    const agree = await post(
      '/cgi-bin/msgaudit/check_single_agree',
      { info: [{ userid: cust.owner, exteranalopenid: cust.external_userid }] },
      { access_token: t },
    );
    expect(agree.agreeinfo).toEqual([
      {
        status_change_time: cust.status_change_time,
        userid: cust.owner,
        exteranalopenid: cust.external_userid,
        agree_status: cust.agree_status,
      },
    ]);
    const internal = c.groups.find((g) => g.kind === 'internal')!;
    const customerGroup = c.groups.find((g) => g.kind === 'customer')!;
    const g = await post('/cgi-bin/msgaudit/groupchat/get', { roomid: internal.roomid }, { access_token: t });
    expect(g).toMatchObject({ errcode: 0, roomname: internal.name, creator: internal.owner });
    expect(
      (await post('/cgi-bin/msgaudit/groupchat/get', { roomid: customerGroup.roomid }, { access_token: t }))
        .errcode,
    ).not.toBe(0);
    const room = await post(
      '/cgi-bin/msgaudit/check_room_agree',
      { roomid: customerGroup.roomid },
      { access_token: t },
    );
    expect((room.agreeinfo as unknown[]).length).toBeGreaterThan(0);
    const robot = await get('/cgi-bin/msgaudit/get_robot_info', {
      access_token: t,
      robot_id: c.robot.robot_id,
    });
    expect(robot.data).toEqual(c.robot);
  });

  it('serves departments, users with cursor paging and external contacts', async () => {
    const t = await token('contacts');
    const c = emu.corp(CORP).gen;
    const depts = await get('/cgi-bin/department/list', { access_token: t });
    expect((depts.department as unknown[]).length).toBe(c.departments.length);
    const sales = await get('/cgi-bin/department/list', { access_token: t, id: '3' });
    expect((sales.department as Array<{ name: string }>).map((d) => d.name)).toEqual([
      '销售中心',
      '销售一部',
      '销售二部',
      '大客户部',
    ]);
    const users = await get('/cgi-bin/user/list', { access_token: t, department_id: '1', fetch_child: '1' });
    expect((users.userlist as unknown[]).length).toBe(c.employees.length);
    expect((users.userlist as Array<Record<string, unknown>>)[0]).not.toHaveProperty('sensitive');
    const ids: string[] = [];
    let cursor = '';
    for (let pages = 0; pages < 100; pages++) {
      const r = await post('/cgi-bin/user/list_id', { cursor, limit: 7 }, { access_token: t });
      expect(r.errcode).toBe(0);
      ids.push(...(r.dept_user as Array<{ userid: string }>).map((u) => u.userid));
      cursor = r.next_cursor as string;
      if (!cursor) break;
    }
    expect(ids).toEqual(c.employees.map((e) => e.userid));
    expect((await post('/cgi-bin/user/list_id', { limit: 10001 }, { access_token: t })).errcode).toBe(40058);
    // list_id is only for the contacts secret.
    expect((await post('/cgi-bin/user/list_id', {}, { access_token: await token('app') })).errcode).toBe(
      48002,
    );
    const ec = await token('externalcontact');
    const cust = c.customers[3]!;
    const ext = await get('/cgi-bin/externalcontact/get', {
      access_token: ec,
      external_userid: cust.external_userid,
    });
    expect(ext).toMatchObject({
      errcode: 0,
      external_contact: { name: cust.name, corp_name: cust.corp_name },
      follow_user: [{ userid: cust.owner }],
    });
    expect(
      (await get('/cgi-bin/externalcontact/get', { access_token: ec, external_userid: 'wmnone' })).errcode,
    ).toBe(84061);
    const cg = c.groups.find((g) => g.kind === 'customer')!;
    const grp = await post(
      '/cgi-bin/externalcontact/groupchat/get',
      { chat_id: cg.roomid, need_name: 1 },
      { access_token: ec },
    );
    expect(grp).toMatchObject({ errcode: 0, group_chat: { chat_id: cg.roomid, owner: cg.owner } });
  });

  it('records message/send and exchanges single-use login codes', async () => {
    const t = await token('app');
    const corp = emu.corp(CORP);
    const user = corp.gen.employees[0]!.userid;
    const sent = await post(
      '/cgi-bin/message/send',
      {
        touser: `${user}|ghost`,
        msgtype: 'text',
        agentid: corp.agentId,
        text: { content: '告警：发现风险会话' },
      },
      { access_token: t },
    );
    expect(sent).toMatchObject({ errcode: 0, invaliduser: 'ghost' });
    expect(emu.sentMessages(CORP).at(-1)).toMatchObject({
      touser: [user, 'ghost'],
      msgtype: 'text',
      body: { text: { content: '告警：发现风险会话' } },
    });
    const code = emu.mintLoginCode(CORP, user);
    expect(await get('/cgi-bin/auth/getuserinfo', { access_token: t, code })).toMatchObject({
      errcode: 0,
      userid: user,
    });
    expect((await get('/cgi-bin/auth/getuserinfo', { access_token: t, code })).errcode).toBe(40029);
    const old = emu.mintLoginCode(CORP, user);
    emu.clock.advance(5 * 60_000 + 1);
    expect(
      (await get('/cgi-bin/auth/getuserinfo', { access_token: await token('app'), code: old })).errcode,
    ).toBe(42003);
    const outsider = emu.mintLoginCode(CORP, 'oOpenId123', { nonMember: true });
    expect(
      await get('/cgi-bin/auth/getuserinfo', { access_token: await token('app'), code: outsider }),
    ).toMatchObject({ openid: 'oOpenId123' });
  });

  it('emulates the OAuth/QR authorize page', async () => {
    const user = emu.corp(CORP).gen.employees[1]!.userid;
    const url = new URL('/connect/oauth2/authorize', emu.baseUrl);
    url.search = new URLSearchParams({
      appid: CORP,
      redirect_uri: 'http://vigil.local/auth/cb',
      response_type: 'code',
      scope: 'snsapi_base',
      state: 'abc123',
      userid: user,
    }).toString();
    const res = await fetch(url, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const loc = new URL(res.headers.get('location')!);
    expect(loc.origin + loc.pathname).toBe('http://vigil.local/auth/cb');
    expect(loc.searchParams.get('state')).toBe('abc123');
    const r = await get('/cgi-bin/auth/getuserinfo', {
      access_token: await token('app'),
      code: loc.searchParams.get('code')!,
    });
    expect(r.userid).toBe(user);
    const qr = new URL('/wwopen/sso/qrConnect', emu.baseUrl);
    qr.search = new URLSearchParams({
      appid: CORP,
      agentid: '1000002',
      redirect_uri: 'http://vigil.local/cb',
      state: 'xyz',
      deny: '1',
    }).toString();
    const denied = new URL((await fetch(qr, { redirect: 'manual' })).headers.get('location')!);
    expect(denied.searchParams.get('code')).toBeNull();
    expect(denied.searchParams.get('state')).toBe('xyz');
    qr.searchParams.delete('deny');
    const page = await fetch(qr);
    expect(await page.text()).toContain('企业微信登录');
  });
});

describe('archive endpoints', () => {
  it('serves seq-exclusive pages, exact uint64 seqs and rejects limit > 1000', async () => {
    const first = await chatdata(CORP, '0', 5);
    expect(first.ret).toBe('0');
    const env = parseChatData(first.text);
    expect(env.chatdata.map((c) => c.seq)).toEqual([1n, 2n, 3n, 4n, 5n]);
    const next = parseChatData((await chatdata(CORP, '5', 2)).text);
    expect(next.chatdata.map((c) => c.seq)).toEqual([6n, 7n]);
    expect((await chatdata(CORP, '0', 1001)).ret).toBe('10000');
    const big = await chatdata('wwbigseq', String(2n ** 64n - 60n), 1000);
    expect(big.text).toContain(`"seq":${2n ** 64n - 59n}`);
    const bigEnv = parseChatData(big.text);
    expect(bigEnv.chatdata.at(-1)!.seq).toBe(2n ** 64n - 11n);
    const caughtUp = parseChatData((await chatdata(CORP, '999999', 10)).text);
    expect(caughtUp.chatdata).toEqual([]);
  });

  it('encrypts with RSA PKCS#1 v1.5 + the documented AES scheme, and rotates keys', async () => {
    const e = await createEmulator({ corps: [{ corpId: 'wwkeys', messageCount: 40, visibleCount: 10 }] });
    try {
      const corp = e.corp('wwkeys');
      const v1 = corp.generatedPrivateKey(1)!;
      const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
      e.rotateKey('wwkeys', 2, pair.publicKey.export({ type: 'spki', format: 'pem' }).toString());
      corp.advance(10);
      const sdk = new HttpEmulatorFinanceSdk(e.baseUrl);
      await sdk.init('wwkeys', corp.secrets.archive);
      const env = parseChatData(await sdk.getChatData(0n, 100));
      expect(env.chatdata.map((c) => c.publickeyVer)).toEqual([...Array(10).fill(1), ...Array(10).fill(2)]);
      const truth = [...corp.groundTruth()];
      for (const [i, item] of env.chatdata.entries()) {
        const key = item.publickeyVer === 1 ? v1 : pair.privateKey;
        const rk = decryptRandomKey(key, item.encryptRandomKey);
        expect(rk).toMatch(/^[A-Za-z0-9]{32}$/);
        expect(decryptChatMsg(rk, item.encryptChatMsg)).toBe(truth[i]!.plaintext);
        expect(truth[i]!.publickeyVer).toBe(item.publickeyVer);
      }
    } finally {
      await e.stop();
    }
  });

  it('serves envelopes sealed ahead (as WeCom stores them) byte for byte on every pull', async () => {
    const e = await createEmulator({ corps: [{ corpId: 'wwsealed', messageCount: 40, visibleCount: 30 }] });
    try {
      const corp = e.corp('wwsealed');
      const sdk = new HttpEmulatorFinanceSdk(e.baseUrl);
      await sdk.init('wwsealed', corp.secrets.archive);
      // RSA PKCS#1 v1.5 encryption is randomized: unsealed, every pull encrypts anew.
      expect(await sdk.getChatData(0n, 100)).not.toBe(await sdk.getChatData(0n, 100));
      corp.sealEnvelopes();
      const first = await sdk.getChatData(0n, 100);
      expect(await sdk.getChatData(0n, 100)).toBe(first);
      corp.advance(10); // sent after sealing: encrypted when pulled, served in the same page
      const truth = [...corp.groundTruth()];
      const items = parseChatData(await sdk.getChatData(0n, 100)).chatdata;
      expect(items).toHaveLength(40);
      for (const [i, item] of items.entries()) {
        const rk = decryptRandomKey(corp.generatedPrivateKey(1)!, item.encryptRandomKey);
        expect(decryptChatMsg(rk, item.encryptChatMsg)).toBe(truth[i]!.plaintext);
      }
    } finally {
      await e.stop();
    }
  });

  it('reconciles a full pull of 3,000 messages and their media against the ground truth', async () => {
    const corp = emu.corp(CORP);
    const sdk = new HttpEmulatorFinanceSdk(emu.baseUrl);
    await sdk.init(CORP, corp.secrets.archive);
    const key = corp.generatedPrivateKey(1)!;
    const got = new Map<string, string>();
    let seq = 0n;
    for (;;) {
      const env = parseChatData(await sdk.getChatData(seq, 1000));
      expect(env.errcode).toBe(0);
      if (env.chatdata.length === 0) break;
      for (const it of env.chatdata)
        got.set(
          it.msgid,
          await sdk.decryptData(decryptRandomKey(key, it.encryptRandomKey), it.encryptChatMsg),
        );
      seq = env.chatdata.at(-1)!.seq;
    }
    let media = 0;
    const fetched = new Set<string>();
    for (const m of corp.groundTruth()) {
      expect(got.get(m.msgid)).toBe(m.plaintext);
      for (const a of m.media) {
        if (fetched.has(a.source)) continue; // one download per distinct file keeps the test quick
        fetched.add(a.source);
        const d = await downloadMedia(sdk, a.sdkfileid, { md5: a.md5 });
        expect(d.data.equals(a.bytes)).toBe(true);
        expect(d.md5).toBe(createHash('md5').update(a.bytes).digest('hex'));
        media++;
      }
    }
    expect(got.size).toBe(3000);
    expect(fetched.has('big')).toBe(true);
    expect(media).toBeGreaterThanOrEqual(7);
  });
});

describe('faults', () => {
  it('injects request-level faults', async () => {
    const e = await createEmulator({ corps: [{ corpId: 'wwfault', messageCount: 30 }] });
    try {
      const corp = e.corp('wwfault');
      const sdk = new HttpEmulatorFinanceSdk(e.baseUrl);
      await sdk.init('wwfault', corp.secrets.archive);
      corp.faults = { networkErrorRate: 1 };
      await expect(sdk.getChatData(0n, 10)).rejects.toMatchObject({ code: 10001, retryable: true });
      corp.faults = { apiForbiddenRate: 1 };
      const forbidden = parseChatData(await sdk.getChatData(0n, 10));
      expect(forbidden.errcode).toBe(48002);
      corp.faults = { omitChatdataWhenCaughtUp: true };
      const done = parseChatData(await sdk.getChatData(30n, 10));
      expect(done.chatdataMissing).toBe(true);
      corp.faults = { illegalIp: true };
      await expect(sdk.getChatData(0n, 10)).rejects.toMatchObject({ code: 10009 });
      corp.faults = {};
      // Wrong secret: SDK ok, WeCom error inside the JSON.
      const wrong = new HttpEmulatorFinanceSdk(e.baseUrl);
      await wrong.init('wwfault', corp.secrets.app);
      expect(parseChatData(await wrong.getChatData(0n, 10)).errcode).toBe(48002);
      // Retention window: only the last 2 days stay; the cursor semantics do not change.
      e.clock.advance(corp.gen.msgtimeOf(29) - e.clock.now() + 1);
      corp.faults = { windowDays: 2 };
      const windowed = parseChatData(await sdk.getChatData(0n, 100));
      expect(windowed.chatdata.length).toBeLessThan(30);
      expect(windowed.chatdata.at(-1)!.seq).toBe(30n);
      expect(windowed.chatdata[0]!.seq).toBeGreaterThan(1n);
    } finally {
      await e.stop();
    }
  });

  it('injects content and media faults, all visible in the ground truth', async () => {
    const e = await createEmulator({
      corps: [
        {
          corpId: 'wwcontent',
          messageCount: 400,
          faultRates: {
            old_key_version: 0.1,
            unknown_key_version: 0.05,
            crash: 0.03,
            expired_media: 0.3,
            md5_mismatch_first_try: 0.3,
          },
        },
      ],
    });
    try {
      const corp = e.corp('wwcontent');
      const v1 = corp.generatedPrivateKey(1)!;
      const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
      corp.rotateKey(2, pair.publicKey.export({ type: 'spki', format: 'pem' }).toString());
      corp.injectMessage({
        from: corp.gen.employees[0]!.userid,
        tolist: ['x'],
        roomid: '',
        msgtype: 'text',
        text: { content: 'after rotation' },
      });
      const sdk = new HttpEmulatorFinanceSdk(e.baseUrl);
      await sdk.init('wwcontent', corp.secrets.archive);
      const items = parseChatData(await sdk.getChatData(0n, 1000)).chatdata;
      expect(items).toHaveLength(401);
      expect(items.at(-1)!.publickeyVer).toBe(2);
      const truth = [...corp.groundTruth()];
      expect(truth.some((t) => t.fault === 'unknown_key_version')).toBe(true);
      let crashed = 0;
      for (const [i, it] of items.entries()) {
        const t = truth[i]!;
        expect(it.publickeyVer).toBe(t.publickeyVer);
        if (t.publickeyVer === 9999) continue; // nobody holds that key
        const rk = decryptRandomKey(t.publickeyVer === 2 ? pair.privateKey : v1, it.encryptRandomKey);
        try {
          expect(await sdk.decryptData(rk, it.encryptChatMsg)).toBe(t.plaintext);
        } catch (err) {
          expect(err).toBeInstanceOf(FinanceSdkCrashedError);
          expect(t.fault).toBe('crash');
          crashed++;
        }
      }
      expect(crashed).toBeGreaterThan(0);
      const expired = truth.find((t) => t.fault === 'expired_media')!;
      await expect(downloadMedia(sdk, expired.media[0]!.sdkfileid)).rejects.toBeInstanceOf(FinanceSdkError);
      expect(expired.media[0]!.expired).toBe(true);
      const flaky = truth.find((t) => t.fault === 'md5_mismatch_first_try')!;
      const d = await downloadMedia(sdk, flaky.media[0]!.sdkfileid, { md5: flaky.media[0]!.md5 });
      expect(d.md5Restarts).toBe(1);
      expect(d.data.equals(flaky.media[0]!.bytes)).toBe(true);
      // Chunk failures are retried per chunk.
      corp.faults = { mediaChunkFailureRate: 0.5 };
      const ok = truth.find((t) => t.media.length > 0 && t.fault === null)!;
      const again = await downloadMedia(sdk, ok.media[0]!.sdkfileid, {
        chunkRetries: 20,
        backoffMs: () => 1,
      });
      expect(again.data.equals(ok.media[0]!.bytes)).toBe(true);
    } finally {
      await e.stop();
    }
  });
});

describe('msgaudit_notify callbacks', () => {
  it('POSTs encrypted notify events at most once per interval, and passes URL verification', async () => {
    const tokenValue = 'cbToken';
    const aesKey = generateEncodingAesKey();
    const corpId = 'wwcallback';
    const crypt = new WXBizMsgCrypt(tokenValue, aesKey, corpId);
    const received: string[] = [];
    const receiver = Fastify();
    receiver.addContentTypeParser('text/xml', { parseAs: 'string' }, (_r, b, done) => done(null, b));
    receiver.get('/cb', async (req) => {
      const q = req.query as Record<string, string>;
      return crypt.verifyUrl(q.msg_signature!, q.timestamp!, q.nonce!, q.echostr!);
    });
    receiver.post('/cb', async (req) => {
      const q = req.query as Record<string, string>;
      received.push(crypt.decryptMsg(q.msg_signature!, q.timestamp!, q.nonce!, req.body as string));
      return 'success';
    });
    const url = await receiver.listen({ port: 0, host: '127.0.0.1' });
    const e = await createEmulator({
      corps: [
        {
          corpId,
          messageCount: 100,
          visibleCount: 50,
          callback: { url: `${url}/cb`, token: tokenValue, encodingAesKey: aesKey, intervalMs: 300 },
        },
      ],
    });
    try {
      const corp = e.corp(corpId);
      expect(await corp.verifyCallbackUrl()).toBe(true);
      corp.advance(5);
      corp.advance(5);
      await new Promise((r) => setTimeout(r, 150));
      corp.advance(5);
      await new Promise((r) => setTimeout(r, 600));
      expect(received.length).toBe(2);
      expect(xmlField(received[0]!, 'Event')).toBe('msgaudit_notify');
      expect(xmlField(received[0]!, 'ToUserName')).toBe(corpId);
      expect(corp.notifications.every((n) => n.status === 200)).toBe(true);
      // No new messages: no further notify.
      await new Promise((r) => setTimeout(r, 400));
      expect(received.length).toBe(2);
      await corp.notifyMsgAuditApproved(
        corp.gen.employees[0]!.userid,
        corp.gen.customers[0]!.external_userid,
      );
      expect(xmlField(received[2]!, 'ChangeType')).toBe('msg_audit_approved');
    } finally {
      await e.stop();
      await receiver.close();
    }
  });
});
