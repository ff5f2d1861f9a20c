/**
 * Client of WeCom's HTTPS APIs (qyapi.weixin.qq.com, protocol reference §4): access tokens per
 * secret kind, one typed error, timeouts. Response types keep WeCom's field names.
 * Secrets and access tokens never appear in errors or logs: errors carry the path only.
 */
import type { WecomSecretKind } from './secrets.js';

/** WeCom answers `{errcode, errmsg}`; errcode -1 is also used here for transport failures. */
export class WecomApiError extends Error {
  constructor(
    readonly errcode: number,
    readonly errmsg: string,
    /** API path without query string (never the token or secret). */
    readonly path: string,
    /** True when the request never got a WeCom answer (timeout, network, HTTP status). */
    readonly transport = false,
  ) {
    super(`WeCom ${path}: ${errcode} ${errmsg}`);
    this.name = 'WecomApiError';
  }

  /** Worth retrying later: system busy, rate limits, transport failures. */
  get retryable(): boolean {
    return this.transport || RETRYABLE.has(this.errcode);
  }

  /** The access token was rejected (expired, revoked, not the latest). */
  get tokenInvalid(): boolean {
    return INVALID_TOKEN.has(this.errcode);
  }
}

// 40001 invalid credential, 40014 invalid access_token, 42001 expired, 42007/42009 token invalidated.
const INVALID_TOKEN = new Set([40001, 40014, 42001, 42007, 42009]);
// -1 system busy, 45009 API frequency limit, 45033 concurrency limit, 6000 data version conflict.
const RETRYABLE = new Set([-1, 45009, 45033, 6000]);

export interface WecomApiClientOptions {
  /** e.g. https://qyapi.weixin.qq.com (wecom_connectors.api_base_url). */
  baseUrl: string;
  /** The WeCom corp id (ww…). */
  corpId: string;
  /** Resolves a secret of the corp; called only when a token must be fetched. */
  secrets: (kind: WecomSecretKind) => Promise<string>;
  /** Per-request timeout (default 15 s). */
  timeoutMs?: number;
  /** Clock for token expiry (tests). */
  now?: () => number;
  fetch?: typeof fetch;
}

interface CachedToken {
  token: string;
  /** When to stop using it (a margin before WeCom's expiry). */
  refreshAt: number;
}

type Json = Record<string, unknown>;

export interface WecomDepartment {
  id: number;
  name: string;
  name_en?: string;
  parentid: number;
  order?: number;
  department_leader?: string[];
}

export interface WecomUser {
  userid: string;
  name?: string;
  department?: number[];
  order?: number[];
  position?: string;
  mobile?: string;
  gender?: string;
  email?: string;
  is_leader_in_dept?: number[];
  direct_leader?: string[];
  avatar?: string;
  thumb_avatar?: string;
  telephone?: string;
  alias?: string;
  /** 1 active, 2 disabled, 4 not activated, 5 left. */
  status?: number;
  main_department?: number;
  open_userid?: string;
}

export interface WecomAgreeInfo {
  userid?: string;
  /** WeCom's spelling. */
  exteranalopenid: string;
  /** "Agree" | "Disagree" (some documents mention "Default_Agree"). */
  agree_status: string;
  /** Unix seconds; 0 when the status never changed. */
  status_change_time: number;
}

export interface WecomAuditGroupChat {
  roomname: string;
  creator: string;
  room_create_time: number;
  notice: string;
  members: Array<{ memberid: string; jointime: number }>;
}

export interface WecomExternalContact {
  external_contact: {
    external_userid: string;
    name?: string;
    position?: string;
    avatar?: string;
    corp_name?: string;
    corp_full_name?: string;
    /** 1 WeChat user, 2 WeCom user. */
    type?: number;
    gender?: number;
    unionid?: string;
  };
  follow_user: Array<{
    userid: string;
    remark?: string;
    description?: string;
    createtime?: number;
    remark_corp_name?: string;
    oper_userid?: string;
    add_way?: number;
    state?: string;
  }>;
  next_cursor?: string;
}

export interface WecomExternalGroupChat {
  chat_id: string;
  name?: string;
  owner?: string;
  create_time?: number;
  notice?: string;
  member_list: Array<{
    userid: string;
    /** 1 member of the corp, 2 external contact. */
    type: number;
    unionid?: string;
    join_time?: number;
    join_scene?: number;
    invitor?: { userid: string };
    group_nickname?: string;
    name?: string;
  }>;
  admin_list?: Array<{ userid: string }>;
}

export interface WecomRobotInfo {
  robot_id: string;
  name: string;
  creator_userid: string;
}

const SINGLE_AGREE_BATCH = 100;

/** One WeCom corp's HTTPS API, with an access token cached per secret kind. */
export class WecomApiClient {
  private readonly baseUrl: string;
  private readonly corpId: string;
  private readonly secrets: (kind: WecomSecretKind) => Promise<string>;
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private readonly fetchImpl: typeof fetch;
  private readonly tokens = new Map<WecomSecretKind, CachedToken>();
  private readonly pending = new Map<WecomSecretKind, Promise<string>>();
  /** How many times gettoken was called, for tests and metrics. */
  tokenFetches = 0;

  constructor(opts: WecomApiClientOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.corpId = opts.corpId;
    this.secrets = opts.secrets;
    this.timeoutMs = opts.timeoutMs ?? 15_000;
    this.now = opts.now ?? Date.now;
    this.fetchImpl = opts.fetch ?? fetch;
  }

  // ---------- msgaudit (会话内容存档 Secret) ----------

  /** userids inside the archive scope; type 1 办公版, 2 服务版, 3 企业版, omitted = all. */
  async getPermitUserList(type?: 1 | 2 | 3): Promise<string[]> {
    const r = await this.call('archive', 'POST', '/cgi-bin/msgaudit/get_permit_user_list', {
      body: type === undefined ? {} : { type },
    });
    return (r.ids as string[] | undefined) ?? [];
  }

  /** Consent of external contacts in 1:1 chats with employees (batched by 100). */
  async checkSingleAgree(
    pairs: Array<{ userid: string; externalUserid: string }>,
  ): Promise<WecomAgreeInfo[]> {
    const out: WecomAgreeInfo[] = [];
    for (let i = 0; i < pairs.length; i += SINGLE_AGREE_BATCH) {
      const info = pairs
        .slice(i, i + SINGLE_AGREE_BATCH)
        .map((p) => ({ userid: p.userid, exteranalopenid: p.externalUserid }));
      const r = await this.call('archive', 'POST', '/cgi-bin/msgaudit/check_single_agree', {
        body: { info },
      });
      out.push(...((r.agreeinfo as WecomAgreeInfo[] | undefined) ?? []));
    }
    return out;
  }

  /** Consent of the external members of a group. */
  async checkRoomAgree(roomid: string): Promise<WecomAgreeInfo[]> {
    const r = await this.call('archive', 'POST', '/cgi-bin/msgaudit/check_room_agree', { body: { roomid } });
    return (r.agreeinfo as WecomAgreeInfo[] | undefined) ?? [];
  }

  /** An internal group (customer groups: externalGroupChat). */
  async msgauditGroupChat(roomid: string): Promise<WecomAuditGroupChat> {
    const r = await this.call('archive', 'POST', '/cgi-bin/msgaudit/groupchat/get', { body: { roomid } });
    return {
      roomname: String(r.roomname ?? ''),
      creator: String(r.creator ?? ''),
      room_create_time: Number(r.room_create_time ?? 0),
      notice: String(r.notice ?? ''),
      members: (r.members as WecomAuditGroupChat['members'] | undefined) ?? [],
    };
  }

  /** Name and creator of a robot (wb…). */
  async getRobotInfo(robotId: string): Promise<WecomRobotInfo> {
    const r = await this.call('archive', 'GET', '/cgi-bin/msgaudit/get_robot_info', {
      query: { robot_id: robotId },
    });
    return r.data as WecomRobotInfo;
  }

  // ---------- contacts (通讯录同步 Secret) ----------

  /** The department tree below `id` (whole tree when omitted). */
  async departmentList(id?: number): Promise<WecomDepartment[]> {
    const r = await this.call('contacts', 'GET', '/cgi-bin/department/list', {
      query: id === undefined ? {} : { id: String(id) },
    });
    return (r.department as WecomDepartment[] | undefined) ?? [];
  }

  /** Members of one department (not of its children). */
  async userList(departmentId: number): Promise<WecomUser[]> {
    const r = await this.call('contacts', 'GET', '/cgi-bin/user/list', {
      query: { department_id: String(departmentId) },
    });
    return (r.userlist as WecomUser[] | undefined) ?? [];
  }

  /** One page of (userid, department) rows; pass next_cursor back until it is empty. */
  async userListId(
    cursor = '',
    limit = 10_000,
  ): Promise<{ nextCursor: string; deptUser: Array<{ userid: string; department: number }> }> {
    const r = await this.call('contacts', 'POST', '/cgi-bin/user/list_id', {
      body: cursor ? { cursor, limit } : { limit },
    });
    return {
      nextCursor: String(r.next_cursor ?? ''),
      deptUser: (r.dept_user as Array<{ userid: string; department: number }> | undefined) ?? [],
    };
  }

  // ---------- customer contact (客户联系 Secret) ----------

  async externalContact(externalUserid: string): Promise<WecomExternalContact> {
    const r = await this.call('externalcontact', 'GET', '/cgi-bin/externalcontact/get', {
      query: { external_userid: externalUserid },
    });
    return {
      external_contact: r.external_contact as WecomExternalContact['external_contact'],
      follow_user: (r.follow_user as WecomExternalContact['follow_user'] | undefined) ?? [],
      next_cursor: r.next_cursor as string | undefined,
    };
  }

  /** A customer group (客户群). */
  async externalGroupChat(chatId: string): Promise<WecomExternalGroupChat> {
    const r = await this.call('externalcontact', 'POST', '/cgi-bin/externalcontact/groupchat/get', {
      body: { chat_id: chatId, need_name: 1 },
    });
    const g = r.group_chat as WecomExternalGroupChat;
    return { ...g, member_list: g.member_list ?? [] };
  }

  // ---------- self-built app ----------

  /** Sends a text app message; returns WeCom's msgid and the userids it rejected. */
  async sendAppMessage(
    agentid: number,
    touser: string[],
    text: string,
  ): Promise<{ msgid: string; invalidUsers: string[] }> {
    const r = await this.call('app', 'POST', '/cgi-bin/message/send', {
      body: { touser: touser.join('|'), msgtype: 'text', agentid, text: { content: text }, safe: 0 },
    });
    const invalid = typeof r.invaliduser === 'string' && r.invaliduser !== '' ? r.invaliduser.split('|') : [];
    return { msgid: String(r.msgid ?? ''), invalidUsers: invalid };
  }

  /** OAuth code → identity (auth/getuserinfo): a userid for members, an openid otherwise. */
  async getUserInfoByCode(
    code: string,
  ): Promise<{ userid: string | null; openid: string | null; userTicket: string | null }> {
    const r = await this.call('app', 'GET', '/cgi-bin/auth/getuserinfo', { query: { code } });
    const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
    return {
      userid: str(r.userid) ?? str(r.UserId),
      openid: str(r.openid) ?? str(r.OpenId),
      userTicket: str(r.user_ticket),
    };
  }

  // ---------- plumbing ----------

  /** Calls an API with the token of `kind`; on an invalid-token answer refreshes once and retries. */
  async call(
    kind: WecomSecretKind,
    method: 'GET' | 'POST',
    path: string,
    req: { query?: Record<string, string>; body?: Json } = {},
  ): Promise<Json> {
    for (let attempt = 0; ; attempt++) {
      const token = await this.token(kind);
      const r = await this.request(method, path, { ...req.query, access_token: token }, req.body);
      const errcode = Number(r.errcode ?? 0);
      if (errcode === 0) return r;
      if (INVALID_TOKEN.has(errcode) && attempt === 0) {
        this.invalidate(kind, token);
        continue;
      }
      throw new WecomApiError(errcode, String(r.errmsg ?? ''), path);
    }
  }

  /** The cached token of `kind`, fetching one when missing or about to expire. */
  async token(kind: WecomSecretKind): Promise<string> {
    const cached = this.tokens.get(kind);
    if (cached && cached.refreshAt > this.now()) return cached.token;
    // One gettoken per kind at a time: concurrent callers share it.
    let p = this.pending.get(kind);
    if (!p) {
      p = this.fetchToken(kind).finally(() => this.pending.delete(kind));
      this.pending.set(kind, p);
    }
    return p;
  }

  /** Forgets a token WeCom rejected (unless a newer one replaced it meanwhile). */
  invalidate(kind: WecomSecretKind, token?: string): void {
    const cached = this.tokens.get(kind);
    if (cached && (token === undefined || cached.token === token)) this.tokens.delete(kind);
  }

  private async fetchToken(kind: WecomSecretKind): Promise<string> {
    const secret = await this.secrets(kind);
    this.tokenFetches++;
    const path = '/cgi-bin/gettoken';
    const r = await this.request('GET', path, { corpid: this.corpId, corpsecret: secret });
    const errcode = Number(r.errcode ?? 0);
    if (errcode !== 0 || typeof r.access_token !== 'string') {
      throw new WecomApiError(errcode || -1, String(r.errmsg ?? 'no access_token'), path);
    }
    const expiresIn = Number(r.expires_in ?? 7200);
    // Stop using it a little before WeCom does: 5 minutes, or a tenth of a short lifetime.
    const margin = Math.min(300, Math.floor(expiresIn / 10));
    this.tokens.set(kind, { token: r.access_token, refreshAt: this.now() + (expiresIn - margin) * 1000 });
    return r.access_token;
  }

  private async request(
    method: 'GET' | 'POST',
    path: string,
    query: Record<string, string>,
    body?: Json,
  ): Promise<Json> {
    const url = new URL(this.baseUrl + path);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    let res: Response;
    try {
      res = await this.fetchImpl(url, {
        method,
        headers: method === 'POST' ? { 'content-type': 'application/json' } : {},
        body: method === 'POST' ? JSON.stringify(body ?? {}) : undefined,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      const err = e as Error & { cause?: { code?: string } };
      // Only the error name and code: a network error message may quote the URL (and its token).
      const what =
        err.name === 'TimeoutError' || err.name === 'AbortError'
          ? `timeout after ${this.timeoutMs} ms`
          : `network error${err.cause?.code ? ` ${err.cause.code}` : ''}`;
      throw new WecomApiError(-1, what, path, true);
    }
    const text = await res.text().catch(() => '');
    if (!res.ok) throw new WecomApiError(-1, `HTTP ${res.status}`, path, true);
    try {
      const parsed = JSON.parse(text) as unknown;
      if (typeof parsed !== 'object' || parsed === null) throw new Error('not an object');
      return parsed as Json;
    } catch {
      throw new WecomApiError(-1, 'response is not JSON', path, true);
    }
  }
}
