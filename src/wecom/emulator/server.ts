/**
 * HTTP emulator of qyapi.weixin.qq.com plus the archive endpoints the stand-in finance SDK reads.
 * Error replies use WeCom's `{errcode, errmsg}` shape. See src/wecom/README.md.
 */
import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { EmulatedCorp, type CorpOptions, type SecretKind } from './corp-state.js';

export interface EmulatorOptions {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  corps?: CorpOptions[];
  /** Emulator clock (token/code expiry, retention window); default Date.now plus clock.advance(). */
  now?: () => number;
  /** access_token lifetime in seconds (default 7200). */
  tokenTtlSeconds?: number;
  logger?: boolean;
}

/** A running emulator. */
export interface Emulator {
  readonly baseUrl: string;
  readonly app: FastifyInstance;
  readonly clock: { now(): number; advance(ms: number): void };
  corp(corpId: string): EmulatedCorp;
  addCorp(opts: CorpOptions): EmulatedCorp;
  registerPublicKey(corpId: string, ver: number, pem: string): void;
  rotateKey(corpId: string, ver: number, pem: string): void;
  /** Mints a single-use OAuth code for a userid (or an openid of a non-member), valid 5 minutes. */
  mintLoginCode(corpId: string, userid: string, opts?: { nonMember?: boolean }): string;
  /** app messages sent through message/send. */
  sentMessages(corpId: string): EmulatedCorp['sent'];
  /** Makes all current tokens of a corp expired (42001) or unknown (40014). */
  expireTokens(corpId: string, how?: 'expired' | 'revoked'): void;
  stop(): Promise<void>;
}

interface TokenInfo {
  corpId: string;
  kind: SecretKind;
  expiresAt: number;
}

interface CodeInfo {
  corpId: string;
  userid: string | null;
  openid: string | null;
  expiresAt: number;
}

const MAX_LIMIT = 1000;
const PAGE_HEAD = Buffer.from('{"errcode":0,"errmsg":"ok","chatdata":[');
const PAGE_TAIL = Buffer.from(']}');

/** WeCom error JSON. */
function err(errcode: number, errmsg: string): { errcode: number; errmsg: string } {
  return { errcode, errmsg: `${errmsg}, hint: [emulator]` };
}

/** Builds the emulator (not listening). */
export function buildEmulator(opts: EmulatorOptions = {}): Omit<Emulator, 'baseUrl'> & {
  listen(): Promise<string>;
} {
  let offset = 0;
  const baseNow = opts.now ?? Date.now;
  const clock = { now: () => baseNow() + offset, advance: (ms: number) => void (offset += ms) };
  const now = clock.now;
  const corps = new Map<string, EmulatedCorp>();
  const tokens = new Map<string, TokenInfo>();
  const codes = new Map<string, CodeInfo>();
  const ttl = (opts.tokenTtlSeconds ?? 7200) * 1000;

  const addCorp = (c: CorpOptions): EmulatedCorp => {
    const corp = new EmulatedCorp(c, now);
    corps.set(c.corpId, corp);
    return corp;
  };
  for (const c of opts.corps ?? []) addCorp(c);
  const corp = (corpId: string): EmulatedCorp => {
    const c = corps.get(corpId);
    if (!c) throw new Error(`unknown emulated corp ${corpId}`);
    return c;
  };

  const app = Fastify({ logger: opts.logger ?? false, bodyLimit: 8 * 1024 * 1024 });
  // WeCom clients sometimes POST JSON as text/plain or without a content type.
  app.addContentTypeParser(
    ['text/plain', 'application/octet-stream'],
    { parseAs: 'string' },
    (_req, body, done) => {
      try {
        done(null, body === '' ? {} : JSON.parse(body as string));
      } catch (e) {
        done(e as Error, undefined);
      }
    },
  );
  app.addContentTypeParser(['text/xml', 'application/xml'], { parseAs: 'string' }, (_req, body, done) =>
    done(null, body),
  );

  /** Resolves access_token; replies with the WeCom error and returns null when invalid. */
  const auth = (req: FastifyRequest, reply: FastifyReply, kinds: SecretKind[]): EmulatedCorp | null => {
    const token = (req.query as Record<string, string | undefined>).access_token;
    if (!token) {
      void reply.send(err(41001, 'access_token missing'));
      return null;
    }
    const info = tokens.get(token);
    if (!info) {
      void reply.send(err(40014, 'invalid access_token'));
      return null;
    }
    if (info.expiresAt <= now()) {
      void reply.send(err(42001, 'access_token expired'));
      return null;
    }
    if (!kinds.includes(info.kind)) {
      void reply.send(err(48002, 'api forbidden'));
      return null;
    }
    return corp(info.corpId);
  };
  const body = (req: FastifyRequest): Record<string, unknown> =>
    typeof req.body === 'object' && req.body !== null ? (req.body as Record<string, unknown>) : {};
  const q = (req: FastifyRequest): Record<string, string | undefined> => req.query as Record<string, string>;

  app.get('/cgi-bin/gettoken', async (req) => {
    const { corpid, corpsecret } = q(req);
    const c = corpid ? corps.get(corpid) : undefined;
    if (!c) return err(40013, 'invalid corpid');
    const kind = (Object.keys(c.secrets) as SecretKind[]).find((k) => c.secrets[k] === corpsecret);
    if (!kind) return err(40001, 'invalid credential, access_token is invalid or not latest');
    // WeCom returns the same token while it is valid.
    for (const [t, info] of tokens) {
      if (info.corpId === c.corpId && info.kind === kind && info.expiresAt > now()) {
        return {
          errcode: 0,
          errmsg: 'ok',
          access_token: t,
          expires_in: Math.floor((info.expiresAt - now()) / 1000),
        };
      }
    }
    const token = randomBytes(48).toString('base64url');
    tokens.set(token, { corpId: c.corpId, kind, expiresAt: now() + ttl });
    return { errcode: 0, errmsg: 'ok', access_token: token, expires_in: ttl / 1000 };
  });

  // ---------- msgaudit ----------

  app.post('/cgi-bin/msgaudit/get_permit_user_list', async (req, reply) => {
    const c = auth(req, reply, ['archive']);
    if (!c) return reply;
    const type = body(req).type;
    if (type !== undefined && ![1, 2, 3].includes(type as number)) return err(40058, 'invalid type');
    return { errcode: 0, errmsg: 'ok', ids: c.gen.employees.filter((e) => e.permitted).map((e) => e.userid) };
  });

  app.post('/cgi-bin/msgaudit/check_single_agree', async (req, reply) => {
    const c = auth(req, reply, ['archive']);
    if (!c) return reply;
    const info = body(req).info;
    if (!Array.isArray(info)) return err(40058, 'invalid info');
    return {
      errcode: 0,
      errmsg: 'ok',
      agreeinfo: info.map((i: Record<string, string>) => {
        const cust = c.gen.customer(i.exteranalopenid ?? '');
        return {
          status_change_time: cust?.status_change_time ?? 0,
          userid: i.userid,
          exteranalopenid: i.exteranalopenid,
          agree_status: cust?.agree_status ?? 'Disagree',
        };
      }),
    };
  });

  app.post('/cgi-bin/msgaudit/check_room_agree', async (req, reply) => {
    const c = auth(req, reply, ['archive']);
    if (!c) return reply;
    const g = c.gen.group(String(body(req).roomid ?? ''));
    if (!g) return err(301027, 'invalid roomid');
    return {
      errcode: 0,
      errmsg: 'ok',
      agreeinfo: g.members
        .filter((m) => m.type === 2)
        .map((m) => {
          const cust = c.gen.customer(m.id);
          return {
            status_change_time: cust?.status_change_time ?? 0,
            exteranalopenid: m.id,
            agree_status: cust?.agree_status ?? 'Disagree',
          };
        }),
    };
  });

  app.post('/cgi-bin/msgaudit/groupchat/get', async (req, reply) => {
    const c = auth(req, reply, ['archive']);
    if (!c) return reply;
    const g = c.gen.group(String(body(req).roomid ?? ''));
    // Internal groups only, as the real API (customer groups: externalcontact/groupchat/get).
    if (!g || g.kind !== 'internal') return err(301027, 'invalid roomid');
    return {
      errcode: 0,
      errmsg: 'ok',
      roomname: g.name,
      creator: g.owner,
      room_create_time: g.create_time,
      notice: g.notice,
      members: g.members.map((m) => ({ memberid: m.id, jointime: m.jointime })),
    };
  });

  app.get('/cgi-bin/msgaudit/get_robot_info', async (req, reply) => {
    const c = auth(req, reply, ['archive']);
    if (!c) return reply;
    if (q(req).robot_id !== c.gen.robot.robot_id) return err(40058, 'invalid robot_id');
    return { errcode: 0, errmsg: 'ok', data: { ...c.gen.robot } };
  });

  // ---------- contacts ----------

  const subtree = (c: EmulatedCorp, root: number): Set<number> => {
    const ids = new Set<number>([root]);
    let grew = true;
    while (grew) {
      grew = false;
      for (const d of c.gen.departments) {
        if (!ids.has(d.id) && ids.has(d.parentid)) {
          ids.add(d.id);
          grew = true;
        }
      }
    }
    return ids;
  };

  app.get('/cgi-bin/department/list', async (req, reply) => {
    const c = auth(req, reply, ['contacts', 'app']);
    if (!c) return reply;
    const id = q(req).id;
    if (id !== undefined && id !== '' && !c.gen.departments.some((d) => d.id === Number(id))) {
      return err(60123, 'invalid party id');
    }
    const ids = id ? subtree(c, Number(id)) : null;
    return { errcode: 0, errmsg: 'ok', department: c.gen.departments.filter((d) => !ids || ids.has(d.id)) };
  });

  app.get('/cgi-bin/department/simplelist', async (req, reply) => {
    const c = auth(req, reply, ['contacts', 'app']);
    if (!c) return reply;
    return {
      errcode: 0,
      errmsg: 'ok',
      department_id: c.gen.departments.map((d) => ({ id: d.id, parentid: d.parentid, order: d.order })),
    };
  });

  const presentUser = (c: EmulatedCorp, userid: string) => {
    const e = c.gen.employee(userid)!;
    const { sensitive: _s, permitted: _p, ...rest } = e;
    return {
      ...rest,
      avatar: `https://wework.qpic.cn/emulated/${e.userid}/0`,
      thumb_avatar: `https://wework.qpic.cn/emulated/${e.userid}/100`,
      telephone: '',
    };
  };

  app.get('/cgi-bin/user/list', async (req, reply) => {
    const c = auth(req, reply, ['contacts', 'app']);
    if (!c) return reply;
    const dept = Number(q(req).department_id ?? '1');
    if (!c.gen.departments.some((d) => d.id === dept)) return err(60123, 'invalid party id');
    const ids = q(req).fetch_child === '1' ? subtree(c, dept) : new Set([dept]);
    return {
      errcode: 0,
      errmsg: 'ok',
      userlist: c.gen.employees
        .filter((e) => e.department.some((d) => ids.has(d)))
        .map((e) => presentUser(c, e.userid)),
    };
  });

  app.get('/cgi-bin/user/get', async (req, reply) => {
    const c = auth(req, reply, ['contacts', 'app']);
    if (!c) return reply;
    const e = c.gen.employee(q(req).userid ?? '');
    if (!e) return err(60111, 'invalid string value `userid`');
    return { errcode: 0, errmsg: 'ok', ...presentUser(c, e.userid) };
  });

  app.post('/cgi-bin/user/list_id', async (req, reply) => {
    const c = auth(req, reply, ['contacts']);
    if (!c) return reply;
    const b = body(req);
    const limit = b.limit === undefined ? 1000 : Number(b.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 10000) return err(40058, 'invalid limit');
    let offset = 0;
    if (typeof b.cursor === 'string' && b.cursor !== '') {
      const m = /^emu(\d+)$/.exec(Buffer.from(b.cursor, 'base64url').toString('utf8'));
      if (!m) return err(40058, 'invalid cursor');
      offset = Number(m[1]);
    }
    const rows = c.gen.employees.flatMap((e) =>
      e.department.map((department) => ({ userid: e.userid, department })),
    );
    const page = rows.slice(offset, offset + limit);
    const next =
      offset + limit < rows.length ? Buffer.from(`emu${offset + limit}`).toString('base64url') : '';
    return { errcode: 0, errmsg: 'ok', next_cursor: next, dept_user: page };
  });

  app.get('/cgi-bin/externalcontact/get', async (req, reply) => {
    const c = auth(req, reply, ['externalcontact', 'app']);
    if (!c) return reply;
    const cust = c.gen.customer(q(req).external_userid ?? '');
    if (!cust) return err(84061, 'not external contact');
    return {
      errcode: 0,
      errmsg: 'ok',
      external_contact: {
        external_userid: cust.external_userid,
        name: cust.name,
        position: cust.position,
        avatar: `https://wx.qlogo.cn/emulated/${cust.external_userid}/0`,
        corp_name: cust.corp_name,
        corp_full_name: cust.corp_full_name,
        type: cust.type,
        gender: cust.gender,
        unionid: cust.unionid,
      },
      follow_user: [
        {
          userid: cust.owner,
          remark: `${cust.corp_name}-${cust.name}`,
          description: '',
          createtime: cust.createtime,
          tags: [],
          remark_corp_name: cust.corp_name,
          remark_mobiles: [],
          oper_userid: cust.owner,
          add_way: 1,
          state: '',
        },
      ],
      next_cursor: '',
    };
  });

  app.post('/cgi-bin/externalcontact/groupchat/get', async (req, reply) => {
    const c = auth(req, reply, ['externalcontact', 'app']);
    if (!c) return reply;
    const b = body(req);
    const g = c.gen.group(String(b.chat_id ?? ''));
    if (!g || g.kind !== 'customer') return err(701008, 'invalid chat_id');
    const needName = b.need_name === 1;
    return {
      errcode: 0,
      errmsg: 'ok',
      group_chat: {
        chat_id: g.roomid,
        name: g.name,
        owner: g.owner,
        create_time: g.create_time,
        notice: g.notice,
        member_list: g.members.map((m) => {
          const cust = m.type === 2 ? c.gen.customer(m.id) : undefined;
          return {
            userid: m.id,
            type: m.type,
            ...(cust ? { unionid: cust.unionid } : {}),
            join_time: m.jointime,
            join_scene: 1,
            invitor: { userid: g.owner },
            group_nickname: '',
            ...(needName ? { name: cust?.name ?? c.gen.employee(m.id)?.name ?? '' } : {}),
          };
        }),
        admin_list: [{ userid: g.owner }],
      },
    };
  });

  // ---------- app messages and login ----------

  app.post('/cgi-bin/message/send', async (req, reply) => {
    const c = auth(req, reply, ['app']);
    if (!c) return reply;
    const b = body(req);
    if (Number(b.agentid) !== c.agentId) return err(40056, 'invalid agentid');
    if (typeof b.msgtype !== 'string') return err(40008, 'invalid message type');
    const touser = typeof b.touser === 'string' && b.touser !== '' ? b.touser.split('|') : [];
    const invalid = touser.filter((u) => u !== '@all' && !c.gen.employee(u));
    const msgid = randomBytes(16).toString('base64url');
    c.sent.push({ at: now(), agentid: c.agentId, touser, msgtype: b.msgtype, body: b, msgid });
    return { errcode: 0, errmsg: 'ok', invaliduser: invalid.join('|'), msgid };
  });

  app.get('/cgi-bin/auth/getuserinfo', async (req, reply) => {
    const c = auth(req, reply, ['app']);
    if (!c) return reply;
    const code = q(req).code ?? '';
    const info = codes.get(code);
    if (!info || info.corpId !== c.corpId) return err(40029, 'invalid code');
    codes.delete(code); // single use
    if (info.expiresAt <= now()) return err(42003, 'oauth_code expired');
    if (info.userid) return { errcode: 0, errmsg: 'ok', userid: info.userid };
    return { errcode: 0, errmsg: 'ok', openid: info.openid };
  });

  const mintLoginCode = (corpId: string, userid: string, o: { nonMember?: boolean } = {}): string => {
    corp(corpId);
    const code = randomBytes(24).toString('base64url');
    codes.set(code, {
      corpId,
      userid: o.nonMember ? null : userid,
      openid: o.nonMember ? userid : null,
      expiresAt: now() + 5 * 60_000,
    });
    return code;
  };

  /** Emulated 网页授权 / 扫码登录: redirects back with code & state (or state only when denied). */
  const authorize = async (req: FastifyRequest, reply: FastifyReply) => {
    const p = q(req);
    const c = corps.get(p.appid ?? '');
    if (!c) return reply.code(400).type('text/html; charset=utf-8').send('<p>invalid appid</p>');
    const redirect = p.redirect_uri ?? '';
    let target: URL;
    try {
      target = new URL(redirect);
    } catch {
      return reply.code(400).type('text/html; charset=utf-8').send('<p>invalid redirect_uri</p>');
    }
    const state = p.state ?? '';
    if (state !== '' && !/^[A-Za-z0-9]{1,128}$/.test(state)) {
      return reply.code(400).type('text/html; charset=utf-8').send('<p>invalid state</p>');
    }
    if (p.deny === '1') {
      target.searchParams.set('state', state);
      return reply.redirect(target.toString(), 302);
    }
    const userid = p.userid ?? c.loginUser;
    if (!userid) {
      // A stand-in for the QR code: pick who "scans" it.
      const links = c.gen.employees
        .filter((e) => e.status === 1)
        .map((e) => {
          const u = new URL(req.url, 'http://emulator');
          u.searchParams.set('userid', e.userid);
          return `<li><a href="${u.pathname}${u.search}">${e.name} (${e.userid})</a></li>`;
        })
        .join('');
      return reply
        .type('text/html; charset=utf-8')
        .send(
          `<!doctype html><title>企业微信登录 (emulator)</title><h1>${c.gen.corpName}</h1><ul>${links}</ul>`,
        );
    }
    target.searchParams.set('code', mintLoginCode(c.corpId, userid, { nonMember: !c.gen.employee(userid) }));
    target.searchParams.set('state', state);
    return reply.redirect(target.toString(), 302);
  };
  app.get('/connect/oauth2/authorize', authorize);
  app.get('/wwopen/sso/qrConnect', authorize);
  app.get('/wwlogin/sso/login', authorize); // 企业微信 Web 登录 (login_type=CorpApp)

  // ---------- archive endpoints for the stand-in SDK ----------

  /** Replies as the SDK layer: x-sdk-ret carries the SDK return code, the body the Slice/data. */
  const sdkReply = (reply: FastifyReply, ret: number, text: string | Buffer) =>
    reply.header('x-sdk-ret', String(ret)).type('application/json; charset=utf-8').send(text);

  const dropConnection = (req: FastifyRequest, reply: FastifyReply) => {
    reply.hijack();
    req.raw.socket.destroy();
    return reply;
  };

  const maybeSlow = async (c: EmulatedCorp) => {
    if (c.roll(c.faults.slowRate)) await new Promise((r) => setTimeout(r, c.faults.slowMs ?? 2000));
  };

  /** Checks corpid + archive secret; returns the corp or the WeCom error JSON. */
  const financeAuth = (b: Record<string, unknown>): EmulatedCorp | { errcode: number; errmsg: string } => {
    const c = corps.get(String(b.corpid ?? ''));
    if (!c) return err(40013, 'invalid corpid');
    if (b.secret === c.secrets.archive) return c;
    if (Object.values(c.secrets).includes(String(b.secret))) return err(48002, 'api forbidden');
    return err(40001, 'invalid secret');
  };

  app.post('/emulator/finance/chatdata', async (req, reply) => {
    const b = body(req);
    const a = financeAuth(b);
    if (!(a instanceof EmulatedCorp)) return sdkReply(reply, 0, JSON.stringify({ ...a, chatdata: [] }));
    const c = a;
    await maybeSlow(c);
    if (c.roll(c.faults.networkErrorRate)) return dropConnection(req, reply);
    if (c.faults.illegalIp) return sdkReply(reply, 10009, JSON.stringify(err(10009, 'illegal ip')));
    let seq: bigint;
    try {
      seq = BigInt(String(b.seq ?? '0'));
      if (seq < 0n || seq > 0xffffffffffffffffn) throw new Error('range');
    } catch {
      return sdkReply(reply, 10000, JSON.stringify(err(10000, 'invalid seq')));
    }
    const limit = Number(b.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
      return sdkReply(reply, 10000, JSON.stringify(err(10000, 'invalid limit, 1-1000')));
    }
    if (c.roll(c.faults.apiForbiddenRate)) {
      return sdkReply(
        reply,
        0,
        '{"errcode":48002,"errmsg":"api forbidden, hint: [emulator]","sdk":0,"chatdata":[]}',
      );
    }
    const start = Math.max(c.gen.firstIndexAfter(seq), c.firstIndexInWindow());
    const end = Math.min(c.visibleCount(), start + limit);
    if (start >= end && c.faults.omitChatdataWhenCaughtUp)
      return sdkReply(reply, 0, '{"errcode":0,"errmsg":"ok"}');
    // Written by hand so seq stays an exact integer literal even above 2^53.
    const page = Buffer.concat([PAGE_HEAD, c.chatDataItems(start, end), PAGE_TAIL]);
    return sdkReply(reply, 0, page);
  });

  app.post('/emulator/finance/media', async (req, reply) => {
    const b = body(req);
    const a = financeAuth(b);
    if (!(a instanceof EmulatedCorp)) return sdkReply(reply, 10000, JSON.stringify(a));
    const c = a;
    await maybeSlow(c);
    if (c.roll(c.faults.networkErrorRate) || c.roll(c.faults.mediaChunkFailureRate))
      return dropConnection(req, reply);
    if (c.faults.illegalIp) return sdkReply(reply, 10009, JSON.stringify(err(10009, 'illegal ip')));
    const sdkfileid = String(b.sdkfileid ?? '');
    const media = sdkfileid === '' ? null : c.resolveMedia(sdkfileid);
    if (!media) return sdkReply(reply, 10005, JSON.stringify(err(10005, 'invalid sdkfileid')));
    if (media.index >= 0) {
      const m = c.message(media.index);
      const expiredByAge =
        c.faults.mediaExpiryDays !== undefined && m.msgtime < now() - c.faults.mediaExpiryDays * 86_400_000;
      if (m.fault === 'expired_media' || expiredByAge) {
        const ret = expiredByAge || media.index % 2 === 0 ? 10010 : 10005;
        return sdkReply(
          reply,
          ret,
          JSON.stringify(err(ret, ret === 10010 ? 'data expired' : 'invalid sdkfileid')),
        );
      }
    }
    const indexbuf = String(b.indexbuf ?? '');
    let offset = 0;
    if (indexbuf !== '') {
      const m = /^Range:bytes=(\d+)-(\d+)$/.exec(indexbuf);
      if (!m || Number(m[1]) > media.bytes.length) {
        return sdkReply(reply, 10000, JSON.stringify(err(10000, 'invalid indexbuf')));
      }
      offset = Number(m[1]);
    }
    const end = Math.min(media.bytes.length, offset + c.mediaChunkSize);
    let chunk = media.bytes.subarray(offset, end);
    if (offset === 0 && c.takeMd5Corruption(sdkfileid, media.index)) {
      chunk = Buffer.from(chunk);
      chunk[0] = (chunk[0] ?? 0) ^ 0xff;
    }
    const finished = end >= media.bytes.length;
    const next = finished
      ? ''
      : `Range:bytes=${end}-${Math.min(media.bytes.length, end + c.mediaChunkSize) - 1}`;
    return reply
      .header('x-sdk-ret', '0')
      .header('x-out-index-buf', next)
      .header('x-is-finish', finished ? '1' : '0')
      .type('application/octet-stream')
      .send(chunk);
  });

  // ---------- emulator control (used by `vigil emulator` and demos) ----------

  app.get('/emulator/health', async () => ({
    ok: true,
    corps: [...corps.values()].map((c) => ({
      corpId: c.corpId,
      visible: c.visibleCount(),
      total: c.totalCount(),
      firstSeq: c.seqOf(0).toString(),
    })),
  }));

  app.post('/emulator/corps/:corpId/advance', async (req) => {
    const c = corps.get((req.params as { corpId: string }).corpId);
    if (!c) return err(40013, 'invalid corpid');
    return { errcode: 0, errmsg: 'ok', visible: c.advance(Number(body(req).count ?? 1)) };
  });

  return {
    app,
    clock,
    corp,
    addCorp,
    registerPublicKey: (corpId, ver, pem) => corp(corpId).registerPublicKey(ver, pem),
    rotateKey: (corpId, ver, pem) => corp(corpId).rotateKey(ver, pem),
    mintLoginCode,
    sentMessages: (corpId) => corp(corpId).sent,
    expireTokens: (corpId, how = 'expired') => {
      for (const [t, info] of tokens) {
        if (info.corpId !== corpId) continue;
        if (how === 'revoked') tokens.delete(t);
        else info.expiresAt = now();
      }
    },
    stop: async () => {
      for (const c of corps.values()) c.close();
      await app.close();
    },
    listen: async () => {
      const address = await app.listen({ host: opts.host ?? '127.0.0.1', port: opts.port ?? 0 });
      return address.replace('[::1]', '127.0.0.1');
    },
  };
}

/** Starts an emulator (port 0 by default) and returns its base URL and control API. */
export async function createEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const built = buildEmulator(opts);
  const baseUrl = await built.listen();
  const { listen: _listen, ...rest } = built;
  return { ...rest, baseUrl };
}
