/**
 * Deterministic synthetic corp: org tree, employees, customers, groups, a robot and a message
 * stream. Messages are generated on demand by index (12-message conversation blocks seeded from
 * the corp seed and the block number), so a corp of millions of messages costs no memory and
 * any seq can be produced in O(1).
 */
import { createHash } from 'node:crypto';
import {
  ADDRESSES,
  CUSTOMER_COMPANIES,
  CUSTOMER_GROUP_LINES,
  CUSTOMER_LINES,
  DEPARTMENTS,
  FILE_NAMES,
  GIVEN_NAMES,
  GROUP_LINES,
  INTERNAL_LINES,
  LINK_TITLES,
  POSITIONS,
  PRODUCTS,
  RISK_SCRIPTS,
  SALES_LINES,
  SURNAMES,
  type RiskCategory,
} from './corpus.js';
import { loadMediaFixtures, md5Hex, type FixtureName, type MediaFixture } from './media-fixtures.js';
import { Rng, unitHash } from './prng.js';

export interface Department {
  id: number;
  name: string;
  name_en: string;
  parentid: number;
  order: number;
}

export interface Employee {
  userid: string;
  name: string;
  department: number[];
  main_department: number;
  order: number[];
  position: string;
  mobile: string;
  gender: '1' | '2';
  email: string;
  is_leader_in_dept: number[];
  direct_leader: string[];
  status: 1 | 2 | 4 | 5;
  alias: string;
  open_userid: string;
  /** Works in a sensitive post (finance, procurement). */
  sensitive: boolean;
  /** Inside the archive scope (msgaudit/get_permit_user_list). */
  permitted: boolean;
}

export interface Customer {
  external_userid: string;
  name: string;
  position: string;
  corp_name: string;
  corp_full_name: string;
  type: 1 | 2;
  gender: 1 | 2;
  unionid: string;
  /** The salesperson who added this customer. */
  owner: string;
  createtime: number;
  agree_status: 'Agree' | 'Disagree';
  status_change_time: number;
}

export interface GroupMember {
  id: string;
  type: 1 | 2;
  jointime: number;
}

export interface Group {
  roomid: string;
  name: string;
  owner: string;
  kind: 'internal' | 'customer';
  members: GroupMember[];
  create_time: number;
  notice: string;
}

export interface Robot {
  robot_id: string;
  name: string;
  creator_userid: string;
}

/** Faults baked into message content, decided per message index (deterministic). */
export type ContentFaultKind =
  | 'crash'
  | 'control_chars'
  | 'malformed_json'
  | 'unknown_msgtype'
  | 'old_key_version'
  | 'unknown_key_version'
  | 'expired_media'
  | 'md5_mismatch_first_try';

export const CONTENT_FAULT_KINDS: readonly ContentFaultKind[] = [
  'crash',
  'control_chars',
  'malformed_json',
  'unknown_msgtype',
  'old_key_version',
  'unknown_key_version',
  'expired_media',
  'md5_mismatch_first_try',
];

export interface GeneratorOptions {
  corpId: string;
  seed: string;
  /** Number of generated messages. */
  messageCount: number;
  /** seq of the first message (default 1). Use values above 2^53 to test precision. */
  seqStart?: bigint;
  /** Distance between consecutive seqs (default 1); >1 exercises gaps. */
  seqStride?: bigint;
  /** msgtime of the first working day, UTC ms (default 2025-03-03 00:00 Beijing time). */
  startTime?: number;
  /** Calendar days the messages span (default 30). */
  days?: number;
  employees?: number;
  customers?: number;
  /** Share of conversation blocks that are planted risky conversations (default 0.03). */
  riskRate?: number;
  /** Per-message probability of each content fault (default none). */
  faultRates?: Partial<Record<ContentFaultKind, number>>;
  /** Explicit faults by message index. */
  faultAt?: Record<number, ContentFaultKind>;
  /** Directory with fixture media (default test/fixtures/media). */
  mediaDir?: string;
}

/** A planted risk label for ground truth. */
export interface RiskLabel {
  category: RiskCategory;
  /** The spelling used, e.g. 回-扣. */
  term: string;
  /** How the term is disguised (separator, traditional, pinyin, abbreviation) or null. */
  evasion: string | null;
}

/** A downloadable media file referenced by a message. */
export interface MediaAttachment {
  sdkfileid: string;
  source: FixtureName | 'big' | 'custom';
  md5: string;
  size: number;
}

/** One generated message, before encryption. */
export interface GeneratedMessage {
  index: number;
  seq: bigint;
  msgid: string;
  msgtime: number;
  msgtype: string;
  /** The message object; null when the plaintext is deliberately malformed. */
  message: Record<string, unknown> | null;
  /** Exact plaintext DecryptData must return (crash messages: the marker text). */
  plaintext: string;
  media: MediaAttachment[];
  risk: RiskLabel | null;
  fault: ContentFaultKind | null;
}

/** Prefix inside the encrypted payload that makes the stand-in DecryptData raise SIGSEGV. */
export const CRASH_MARKER = 'VIGIL-EMULATOR-SIGSEGV';

/** All message types the generator cycles through (protocol reference §3.2). */
// prettier-ignore
export const ALL_MSGTYPES = [
  'text', 'image', 'revoke', 'agree', 'disagree', 'voice', 'video', 'card', 'location', 'emotion',
  'file', 'link', 'weapp', 'chatrecord', 'todo', 'vote', 'collect', 'redpacket', 'meeting',
  'meeting_notification', 'docmsg', 'markdown', 'news', 'calendar', 'mixed', 'meeting_voice_call',
  'voip_doc_share', 'external_redpacket', 'sphfeed', 'voiptext', 'qydiskfile', 'switch',
] as const;

const BLOCK = 12;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const WORK_HOURS = 11; // 08:30–19:30 Beijing time

type Scenario = 'sales' | 'internal' | 'internal_group' | 'customer_group' | 'robot' | 'risky';

interface Conversation {
  scenario: Scenario;
  /** Participants (first = initiator). */
  people: string[];
  roomid: string;
  customer: Customer | null;
  external: boolean;
  riskCategory: RiskCategory | null;
}

interface Slot {
  from: string;
  /** Overrides the block's conversation (e.g. an agree event outside a customer chat). */
  conv?: Conversation;
  build: (ctx: SlotContext) => { msgtype: string; body: Record<string, unknown>; media: MediaAttachment[] };
  risk?: RiskLabel;
}

interface SlotContext {
  index: number;
  msgtime: number;
  rng: Rng;
  conv: Conversation;
  from: string;
}

/** A deterministic synthetic corp. */
export class SyntheticCorp {
  readonly corpId: string;
  readonly seed: string;
  readonly corpName: string;
  readonly messageCount: number;
  readonly seqStart: bigint;
  readonly seqStride: bigint;
  readonly startTime: number;
  readonly days: number;
  readonly departments: Department[] = [];
  readonly employees: Employee[] = [];
  readonly customers: Customer[] = [];
  readonly groups: Group[] = [];
  readonly robot: Robot;
  private readonly riskRate: number;
  private readonly faultRates: Partial<Record<ContentFaultKind, number>>;
  private readonly faultAt: Record<number, ContentFaultKind>;
  private readonly fixtures: Map<FixtureName, MediaFixture>;
  private readonly employeeById = new Map<string, Employee>();
  private readonly customerById = new Map<string, Customer>();
  private readonly sensitiveDepts = new Set<number>();
  private bigFile: Buffer | null = null;
  private bigFileMd5: string | undefined;
  private cachedBlock: { block: number; messages: GeneratedMessage[] } | null = null;

  constructor(opts: GeneratorOptions) {
    this.corpId = opts.corpId;
    this.seed = opts.seed;
    this.messageCount = opts.messageCount;
    this.seqStart = opts.seqStart ?? 1n;
    this.seqStride = opts.seqStride ?? 1n;
    if (this.seqStart < 0n || this.seqStride < 1n) throw new Error('seqStart must be ≥ 0 and seqStride ≥ 1');
    this.startTime = opts.startTime ?? Date.UTC(2025, 2, 2, 16, 0, 0);
    this.days = opts.days ?? 30;
    this.riskRate = opts.riskRate ?? 0.03;
    this.faultRates = opts.faultRates ?? {};
    this.faultAt = opts.faultAt ?? {};
    this.fixtures = loadMediaFixtures(opts.mediaDir);
    this.corpName = DEPARTMENTS[0]![0];
    const rng = Rng.from(this.seed, 'org');
    this.buildOrg(rng, opts.employees ?? 60, opts.customers ?? 80);
    const creator = this.employees.find((e) => e.position === '销售总监') ?? this.employees[0]!;
    this.robot = { robot_id: `wb${rng.chars(22)}`, name: '销售日报机器人', creator_userid: creator.userid };
  }

  // ---------- organisation ----------

  private buildOrg(rng: Rng, employeeCount: number, customerCount: number): void {
    DEPARTMENTS.forEach(([name, nameEn, parent, sensitive], i) => {
      const id = i + 1;
      this.departments.push({
        id,
        name,
        name_en: nameEn,
        parentid: parent < 0 ? 0 : parent + 1,
        order: 100000 - i,
      });
      if (sensitive) this.sensitiveDepts.add(id);
    });
    const usedIds = new Set<string>();
    const usedNames = new Set<string>();
    // Every department gets a leader first, then the rest are spread with a bias to sales.
    const deptWeights = this.departments.map((d) =>
      d.name.startsWith('销售') || d.name === '大客户部' ? 4 : 1,
    );
    for (let i = 0; i < employeeCount; i++) {
      const dept =
        i < this.departments.length - 1
          ? this.departments[i + 1]!
          : this.departments[
              weightedIndex(
                rng,
                deptWeights.map((w, k) => (k === 0 ? 0 : w)),
              )
            ]!;
      let name = '';
      let pinyin = '';
      for (let tries = 0; tries < 50; tries++) {
        const [s, sp] = rng.pick(SURNAMES);
        const [g, gp] = rng.pick(GIVEN_NAMES);
        name = s + g;
        pinyin = sp + gp;
        if (!usedNames.has(name)) break;
      }
      usedNames.add(name);
      let userid = pinyin;
      for (let n = 2; usedIds.has(userid); n++) userid = `${pinyin}${n}`;
      usedIds.add(userid);
      const positions = POSITIONS[dept.name] ?? ['职员'];
      const isLeader = i < this.departments.length - 1;
      const status: Employee['status'] = i < 20 ? 1 : rng.chance(0.9) ? 1 : rng.pick([2, 4, 5] as const);
      const e: Employee = {
        userid,
        name,
        department: [dept.id],
        main_department: dept.id,
        order: [0],
        position: isLeader ? positions[0]! : rng.pick(positions.slice(positions.length > 1 ? 1 : 0)),
        mobile: `13${rng.int(0, 9)}${String(rng.int(0, 99999999)).padStart(8, '0')}`,
        gender: rng.chance(0.5) ? '1' : '2',
        email: `${userid.toLowerCase()}@huadong-zl.example`,
        is_leader_in_dept: [isLeader ? 1 : 0],
        direct_leader: [],
        status,
        alias: '',
        open_userid: `wo${createHash('sha1').update(`${this.seed}|open|${userid}`).digest('hex').slice(0, 26)}`,
        sensitive: this.sensitiveDepts.has(dept.id),
        permitted: true,
      };
      this.employees.push(e);
      this.employeeById.set(userid, e);
    }
    for (const e of this.employees) {
      const leader = this.employees.find(
        (l) => l.main_department === e.main_department && l.is_leader_in_dept[0] === 1,
      );
      if (leader && leader !== e) e.direct_leader = [leader.userid];
      // HR is deliberately outside the archive scope: the permit list is not "everyone".
      if (this.departments[e.main_department - 1]?.name === '人力资源部' || e.status !== 1)
        e.permitted = false;
    }
    const sales = this.salesPeople();
    for (let i = 0; i < customerCount; i++) {
      const company = rng.pick(CUSTOMER_COMPANIES);
      const [s] = rng.pick(SURNAMES);
      const title = rng.pick(['总', '经理', '工', '主任', '老师']);
      const type: 1 | 2 = rng.chance(0.7) ? 1 : 2;
      const prefix = rng.chance(0.6) ? 'wm' : 'wo';
      const c: Customer = {
        external_userid: `${prefix}${rng.chars(30, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_')}`,
        name: `${s}${title}`,
        position: rng.pick(['采购经理', '总经理', '设备主管', '财务总监', '项目经理']),
        corp_name: company,
        corp_full_name: `${company}有限公司`,
        type,
        gender: rng.chance(0.5) ? 1 : 2,
        unionid: `o${rng.chars(27)}`,
        owner: rng.pick(sales).userid,
        createtime: Math.floor(this.startTime / 1000) - rng.int(1, 400) * 86400,
        agree_status: rng.chance(0.92) ? 'Agree' : 'Disagree',
        status_change_time: Math.floor(this.startTime / 1000) - rng.int(1, 30) * 86400,
      };
      this.customers.push(c);
      this.customerById.set(c.external_userid, c);
    }
    const active = this.employees.filter((e) => e.status === 1);
    const byDept = (name: string): Employee[] =>
      active.filter((e) => this.departments[e.main_department - 1]?.name === name);
    const internalGroups: Array<[string, Employee[]]> = [
      ['销售中心周例会', active.filter((e) => this.isSales(e))],
      ['财务采购对接群', [...byDept('财务部'), ...byDept('采购部')]],
      ['技术支持群', [...byDept('技术部'), ...byDept('客户服务部')]],
      ['管理层沟通群', active.filter((e) => e.is_leader_in_dept[0] === 1)],
      ['公司全员群', active],
    ];
    for (const [name, members] of internalGroups) {
      if (members.length < 2) continue;
      this.groups.push(
        this.makeGroup(
          rng,
          name,
          'internal',
          members.map((m) => m.userid),
          [],
        ),
      );
    }
    for (let i = 0; i < Math.min(8, this.customers.length); i++) {
      const c = this.customers[i]!;
      const extra = this.customers.filter((o) => o.corp_name === c.corp_name && o !== c).slice(0, 2);
      const owner = this.employeeById.get(c.owner)!;
      const support = active
        .filter((e) => this.departments[e.main_department - 1]?.name === '技术部')
        .slice(0, 1);
      this.groups.push(
        this.makeGroup(
          rng,
          `${c.corp_name}服务群`,
          'customer',
          [owner.userid, ...support.map((e) => e.userid)],
          [c.external_userid, ...extra.map((o) => o.external_userid)],
        ),
      );
    }
  }

  private makeGroup(
    rng: Rng,
    name: string,
    kind: Group['kind'],
    internal: string[],
    external: string[],
  ): Group {
    const created = Math.floor(this.startTime / 1000) - rng.int(10, 300) * 86400;
    const members: GroupMember[] = [
      ...[...new Set(internal)].map((id) => ({
        id,
        type: 1 as const,
        jointime: created + rng.int(0, 86400),
      })),
      ...external.map((id) => ({ id, type: 2 as const, jointime: created + rng.int(0, 86400) })),
    ];
    return {
      roomid: `wr${rng.chars(30, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_')}`,
      name,
      owner: internal[0]!,
      kind,
      members,
      create_time: created,
      notice: kind === 'customer' ? '本群用于项目沟通与售后服务。' : '',
    };
  }

  private isSales(e: Employee): boolean {
    const d = this.departments[e.main_department - 1]?.name ?? '';
    return d.startsWith('销售') || d === '大客户部';
  }

  private salesPeople(): Employee[] {
    const s = this.employees.filter((e) => this.isSales(e) && e.status === 1);
    return s.length > 0 ? s : this.employees;
  }

  employee(userid: string): Employee | undefined {
    return this.employeeById.get(userid);
  }

  customer(externalUserid: string): Customer | undefined {
    return this.customerById.get(externalUserid);
  }

  group(roomid: string): Group | undefined {
    return this.groups.find((g) => g.roomid === roomid);
  }

  // ---------- seq / time ----------

  /** seq of message `index`. */
  seqOf(index: number): bigint {
    return this.seqStart + BigInt(index) * this.seqStride;
  }

  /** Index of the first message whose seq is greater than `seq` (GetChatData cursor). */
  firstIndexAfter(seq: bigint): number {
    if (seq < this.seqStart) return 0;
    const idx = (seq - this.seqStart) / this.seqStride + 1n;
    return idx > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(idx);
  }

  /** msgtime of message `index`: spread over working hours of the configured days. */
  msgtimeOf(index: number): number {
    const workMs = this.days * WORK_HOURS * HOUR;
    const n = Math.max(this.messageCount, 1);
    const t = Math.floor((index * workMs) / n);
    const day = Math.floor(t / (WORK_HOURS * HOUR));
    // startTime is midnight Beijing time; the working day starts at 08:30.
    return this.startTime + day * DAY + 8.5 * HOUR + (t % (WORK_HOURS * HOUR));
  }

  msgidOf(index: number): string {
    const h = createHash('sha1').update(`${this.corpId}|${this.seed}|msg|${index}`).digest();
    return `CAQQ${h.toString('base64').slice(0, 24)}`;
  }

  // ---------- media ----------

  /** Deterministic pseudo-random file larger than one 512 KB chunk (several chunks, NUL bytes included). */
  bigFileBytes(): Buffer {
    if (!this.bigFile) {
      const rng = Rng.from(this.seed, 'bigfile');
      const size = 1_100_000 + rng.int(0, 200_000);
      const b = Buffer.alloc(size);
      for (let i = 0; i < size; i += 4)
        b.writeUInt32LE(Math.floor(rng.next() * 4294967296) >>> 0, Math.min(i, size - 4));
      this.bigFile = b;
    }
    return this.bigFile;
  }

  private sdkFileId(source: FixtureName | 'big', index: number, n: number): string {
    const sig = createHash('sha256')
      .update(`${this.seed}|${this.corpId}|${source}|${index}|${n}`)
      .digest('hex')
      .slice(0, 16);
    return Buffer.from(`emu1|${this.corpId}|${source}|${index}|${n}|${sig}`).toString('base64');
  }

  /** Resolves an sdkfileid minted by this corp to its bytes, or null when unknown/forged. */
  resolveSdkFileId(sdkfileid: string): { bytes: Buffer; index: number } | null {
    const parts = Buffer.from(sdkfileid, 'base64').toString('utf8').split('|');
    if (parts.length !== 6 || parts[0] !== 'emu1' || parts[1] !== this.corpId) return null;
    const [, , source, idx, n] = parts as [string, string, string, string, string, string];
    if (this.sdkFileId(source as FixtureName, Number(idx), Number(n)) !== sdkfileid) return null;
    const bytes = source === 'big' ? this.bigFileBytes() : this.fixtures.get(source as FixtureName)?.bytes;
    return bytes ? { bytes, index: Number(idx) } : null;
  }

  private media(source: FixtureName | 'big', index: number, n = 0): MediaAttachment {
    if (source === 'big') {
      const b = this.bigFileBytes();
      // Hashing 1.2 MB for every message that carries the file would dominate generation.
      this.bigFileMd5 ??= md5Hex(b);
      return { sdkfileid: this.sdkFileId('big', index, n), source, md5: this.bigFileMd5, size: b.length };
    }
    const f = this.fixtures.get(source)!;
    return { sdkfileid: this.sdkFileId(source, index, n), source, md5: f.md5, size: f.bytes.length };
  }

  fixture(name: FixtureName): MediaFixture {
    return this.fixtures.get(name)!;
  }

  // ---------- messages ----------

  /** The content fault of message `index`, if any. */
  faultOf(index: number): ContentFaultKind | null {
    const explicit = this.faultAt[index];
    if (explicit) return explicit;
    for (const kind of CONTENT_FAULT_KINDS) {
      const rate = this.faultRates[kind];
      if (rate && unitHash(this.seed, 'fault', kind, index) < rate) return kind;
    }
    return null;
  }

  /** Generates message `index` (0-based). */
  message(index: number): GeneratedMessage {
    if (index < 0 || index >= this.messageCount) throw new RangeError(`message index ${index} out of range`);
    const block = Math.floor(index / BLOCK);
    if (this.cachedBlock?.block !== block) this.cachedBlock = { block, messages: this.generateBlock(block) };
    return this.cachedBlock.messages[index - block * BLOCK]!;
  }

  /** Iterates messages [from, to). */
  *messages(from = 0, to = this.messageCount): Generator<GeneratedMessage> {
    for (let i = Math.max(0, from); i < Math.min(to, this.messageCount); i++) yield this.message(i);
  }

  private generateBlock(block: number): GeneratedMessage[] {
    const rng = Rng.from(this.seed, 'block', block);
    const conv = this.pickConversation(rng, block);
    const slots = this.script(rng, conv, block);
    const out: GeneratedMessage[] = [];
    for (let k = 0; k < BLOCK; k++) {
      const index = block * BLOCK + k;
      if (index >= this.messageCount) break;
      const slot = slots[k]!;
      const msgtime = this.msgtimeOf(index);
      const c = slot.conv ?? conv;
      const { msgtype, body, media } = slot.build({ index, msgtime, rng, conv: c, from: slot.from });
      out.push(this.finish(index, msgtime, c, slot, msgtype, body, media));
    }
    return out;
  }

  private finish(
    index: number,
    msgtime: number,
    conv: Conversation,
    slot: Slot,
    msgtype: string,
    body: Record<string, unknown>,
    media: MediaAttachment[],
  ): GeneratedMessage {
    const msgid = this.msgidOf(index) + (conv.external ? '_external' : '');
    let message: Record<string, unknown>;
    if (msgtype === 'switch') {
      message = { msgid, action: 'switch', time: msgtime, user: slot.from };
    } else {
      const tolist =
        conv.roomid === ''
          ? conv.people.filter((p) => p !== slot.from).slice(0, 1)
          : conv.people.filter((p) => p !== slot.from);
      message = {
        msgid,
        action: msgtype === 'revoke' ? 'recall' : 'send',
        from: slot.from,
        tolist: tolist.length > 0 ? tolist : [conv.people[0]!],
        roomid: conv.roomid,
        msgtime,
        msgtype,
        ...body,
      };
    }
    let fault = this.faultOf(index);
    // Media faults only make sense on messages that carry media.
    if ((fault === 'expired_media' || fault === 'md5_mismatch_first_try') && media.length === 0) fault = null;
    if ((fault === 'control_chars' || fault === 'unknown_msgtype') && msgtype === 'switch') fault = null;
    let plaintext = JSON.stringify(message);
    let parsed: Record<string, unknown> | null = message;
    let type = msgtype;
    switch (fault) {
      case 'crash':
        plaintext = `${CRASH_MARKER}\n${plaintext}`;
        break;
      case 'control_chars': {
        const text = { ...message, msgtype: 'text', text: { content: '请查收\u0001附件\u0007已\u001f发送' } };
        if (msgtype !== 'text') delete (text as Record<string, unknown>)[msgtype];
        parsed = text;
        type = 'text';
        media = [];
        // JSON.stringify escapes control characters; WeCom has sent them raw, so put them back raw.
        plaintext = JSON.stringify(text).replace(/\\u00(0[0-9a-f]|1[0-9a-f])/g, (_, h: string) =>
          String.fromCharCode(parseInt(h, 16)),
        );
        break;
      }
      case 'malformed_json':
        plaintext = plaintext.slice(0, Math.max(10, Math.floor(plaintext.length * 0.6)));
        parsed = null;
        break;
      case 'unknown_msgtype': {
        const m: Record<string, unknown> = { ...message, msgtype: 'hologram' };
        delete m[msgtype];
        m.hologram = { title: '全息投影消息', duration: 12 };
        parsed = m;
        type = 'hologram';
        media = [];
        plaintext = JSON.stringify(m);
        break;
      }
      default:
        break;
    }
    return {
      index,
      seq: this.seqOf(index),
      msgid,
      msgtime,
      msgtype: type,
      message: parsed,
      plaintext,
      media,
      risk: slot.risk ?? null,
      fault,
    };
  }

  private pickConversation(rng: Rng, block: number): Conversation {
    const sales = this.salesPeople();
    const active = this.employees.filter((e) => e.status === 1);
    const risky = unitHash(this.seed, 'risk', block) < this.riskRate;
    if (risky) {
      const categories = Object.keys(RISK_SCRIPTS) as RiskCategory[];
      const category = categories[Math.floor(unitHash(this.seed, 'riskcat', block) * categories.length)]!;
      if (category === 'kickback' || category === 'side_order') {
        // Procurement or sales with an outside party: the classic kickback shape.
        const procurement = active.filter((e) => e.sensitive);
        const c = rng.pick(this.customers);
        const insider =
          procurement.length > 0 && rng.chance(0.5) ? rng.pick(procurement) : this.employeeById.get(c.owner)!;
        return {
          scenario: 'risky',
          people: [c.external_userid, insider.userid],
          roomid: '',
          customer: c,
          external: c.type === 2,
          riskCategory: category,
        };
      }
      const a = rng.pick(sales);
      const c = rng.pick(this.customers);
      const b = category === 'data_exfiltration' ? c.external_userid : rng.pick(active).userid;
      return {
        scenario: 'risky',
        people: [a.userid, b],
        roomid: '',
        customer: category === 'data_exfiltration' ? c : null,
        external: false,
        riskCategory: category,
      };
    }
    const r = rng.next();
    if (r < 0.42) {
      const c = rng.pick(this.customers);
      return {
        scenario: 'sales',
        people: [c.owner, c.external_userid],
        roomid: '',
        customer: c,
        external: c.type === 2,
        riskCategory: null,
      };
    }
    if (r < 0.64) {
      const [a, b] = rng.sample(active, 2);
      return {
        scenario: 'internal',
        people: [a!.userid, (b ?? a)!.userid],
        roomid: '',
        customer: null,
        external: false,
        riskCategory: null,
      };
    }
    const internalGroups = this.groups.filter((g) => g.kind === 'internal');
    const customerGroups = this.groups.filter((g) => g.kind === 'customer');
    if (r < 0.8 && internalGroups.length > 0) {
      const g = rng.pick(internalGroups);
      return {
        scenario: 'internal_group',
        people: g.members.map((m) => m.id),
        roomid: g.roomid,
        customer: null,
        external: false,
        riskCategory: null,
      };
    }
    if (r < 0.95 && customerGroups.length > 0) {
      const g = rng.pick(customerGroups);
      const c = this.customerById.get(g.members.find((m) => m.type === 2)!.id) ?? null;
      return {
        scenario: 'customer_group',
        people: g.members.map((m) => m.id),
        roomid: g.roomid,
        customer: c,
        external: false,
        riskCategory: null,
      };
    }
    const g = internalGroups[0] ?? this.groups[0]!;
    return {
      scenario: 'robot',
      people: [this.robot.robot_id, ...g.members.map((m) => m.id)],
      roomid: g.roomid,
      customer: null,
      external: false,
      riskCategory: null,
    };
  }

  private fill(template: string, rng: Rng, conv: Conversation, from: string): string {
    const c = conv.customer ?? rng.pick(this.customers);
    const owner = this.employeeById.get(c.owner);
    const speaker = this.employeeById.get(from);
    return template
      .replaceAll('{cname}', c.corp_name)
      .replaceAll('{ename}', (speaker ?? owner)?.name ?? '')
      .replaceAll('{org}', this.corpName)
      .replaceAll('{product}', rng.pick(PRODUCTS))
      .replaceAll('{price}', String(rng.int(8, 600) * 10))
      .replaceAll('{qty}', String(rng.int(1, 50) * 10))
      .replaceAll('{date}', `${rng.int(3, 12)}月${rng.int(1, 28)}日`);
  }

  private script(rng: Rng, conv: Conversation, block: number): Slot[] {
    const slots: Slot[] = [];
    const speakers = conv.people.filter((p) => p !== this.robot.robot_id);
    const text = (from: string, pool: readonly string[]): Slot => ({
      from,
      build: (ctx) => ({
        msgtype: 'text',
        body: { text: { content: this.fill(rng.pick(pool), ctx.rng, conv, from) } },
        media: [],
      }),
    });
    for (let k = 0; k < BLOCK; k++) {
      // Alternate speakers; in groups pick any member.
      const from = conv.roomid === '' ? speakers[k % speakers.length]! : rng.pick(speakers);
      const isInternal = this.employeeById.has(from);
      let pool: readonly string[];
      switch (conv.scenario) {
        case 'sales':
        case 'risky':
          pool = isInternal ? SALES_LINES : CUSTOMER_LINES;
          break;
        case 'customer_group':
          pool = isInternal ? CUSTOMER_GROUP_LINES : CUSTOMER_LINES;
          break;
        case 'internal_group':
        case 'robot':
          pool = GROUP_LINES;
          break;
        default:
          pool = INTERNAL_LINES;
      }
      slots.push(text(from, pool));
    }
    // Sprinkle common media so downloads are frequent, not only on the featured slot.
    for (let k = 1; k < BLOCK - 1; k++) {
      if (rng.chance(0.12)) {
        const t = rng.pick(['image', 'image', 'voice', 'file', 'emotion', 'link', 'location'] as const);
        slots[k] = { from: slots[k]!.from, build: (ctx) => this.typed(t, ctx) };
      }
    }
    if (conv.scenario === 'robot') {
      slots[0] = { from: this.robot.robot_id, build: (ctx) => this.typed('markdown', ctx) };
      slots[1] = { from: this.robot.robot_id, build: (ctx) => this.typed('news', ctx) };
    }
    if (conv.riskCategory) {
      const script = RISK_SCRIPTS[conv.riskCategory];
      const termIdx = Math.floor(unitHash(this.seed, 'riskterm', block) * script.terms.length);
      const [term, evasion] = script.terms[termIdx]!;
      const [a, b] = conv.people as [string, string];
      const line = script.lines[block % script.lines.length]!.replaceAll('{term}', term);
      const risk: RiskLabel = { category: conv.riskCategory, term, evasion };
      slots[3] = {
        from: a,
        risk,
        build: () => ({ msgtype: 'text', body: { text: { content: line } }, media: [] }),
      };
      slots[4] = {
        from: b,
        build: () => ({ msgtype: 'text', body: { text: { content: rng.pick(script.reply) } }, media: [] }),
      };
      if (conv.riskCategory === 'data_exfiltration') {
        slots[5] = {
          from: a,
          risk: { category: 'data_exfiltration', term: '客户名单.xlsx', evasion: null },
          build: (ctx) => {
            const m = this.media('contract.pdf', ctx.index);
            return {
              msgtype: 'file',
              body: {
                file: {
                  md5sum: m.md5,
                  filename: '客户名单-全量.xlsx',
                  fileext: 'xlsx',
                  filesize: m.size,
                  sdkfileid: m.sdkfileid,
                },
              },
              media: [m],
            };
          },
        };
      }
    }
    // The featured slot cycles through every message type so any 32+ consecutive blocks cover all.
    const featured = ALL_MSGTYPES[block % ALL_MSGTYPES.length]!;
    const fSlot = BLOCK - 1;
    let fConv: Conversation | undefined;
    let fFrom = slots[fSlot]!.from;
    if (featured === 'agree' || featured === 'disagree') {
      // Consent events come from a customer in a 1:1 chat with the employee who added them.
      const c = conv.roomid === '' && conv.customer ? conv.customer : rng.pick(this.customers);
      fConv = {
        scenario: 'sales',
        people: [c.external_userid, c.owner],
        roomid: '',
        customer: c,
        external: c.type === 2,
        riskCategory: null,
      };
      fFrom = c.external_userid;
    } else if (featured === 'markdown' || featured === 'news') {
      const g = this.groups.find((x) => x.kind === 'internal') ?? this.groups[0]!;
      fConv = {
        scenario: 'robot',
        people: [this.robot.robot_id, ...g.members.map((m) => m.id)],
        roomid: g.roomid,
        customer: null,
        external: false,
        riskCategory: null,
      };
      fFrom = this.robot.robot_id;
    } else if (featured === 'switch' && !this.employeeById.has(fFrom)) {
      fFrom = speakers.find((p) => this.employeeById.has(p)) ?? this.employees[0]!.userid;
    }
    slots[fSlot] = { from: fFrom, conv: fConv, build: (ctx) => this.typed(featured, ctx) };
    return slots;
  }

  /** Builds the payload of one message of type `t`. */
  private typed(
    t: string,
    ctx: SlotContext,
  ): { msgtype: string; body: Record<string, unknown>; media: MediaAttachment[] } {
    const { rng, index, msgtime } = ctx;
    const sec = Math.floor(msgtime / 1000);
    const one = (key: string, body: Record<string, unknown>, media: MediaAttachment[] = []) => ({
      msgtype: t,
      body: { [key]: body },
      media,
    });
    switch (t) {
      case 'text':
        return one('text', { content: this.fill(rng.pick(INTERNAL_LINES), rng, ctx.conv, ctx.from) });
      case 'image': {
        const m = this.media(rng.chance(0.7) ? 'photo.jpg' : 'screenshot.png', index);
        return one('image', { md5sum: m.md5, filesize: m.size, sdkfileid: m.sdkfileid }, [m]);
      }
      case 'revoke':
        return one('revoke', {
          pre_msgid: this.msgidOf(Math.max(0, index - 1)) + (ctx.conv.external ? '_external' : ''),
        });
      case 'agree':
      case 'disagree': {
        const c = ctx.conv.customer ?? this.customers[0]!;
        return one(t, { userid: c.external_userid, [`${t}_time`]: msgtime });
      }
      case 'voice': {
        // Some "amr" voice files are really SILK, as on real WeCom.
        const m = this.media(rng.chance(0.3) ? 'voice-silk.amr' : 'voice.amr', index);
        return one(
          'voice',
          { md5sum: m.md5, voice_size: m.size, play_length: rng.int(1, 59), sdkfileid: m.sdkfileid },
          [m],
        );
      }
      case 'video': {
        const m = this.media('clip.mp4', index);
        return one(
          'video',
          { md5sum: m.md5, filesize: m.size, play_length: rng.int(3, 60), sdkfileid: m.sdkfileid },
          [m],
        );
      }
      case 'card': {
        const e = rng.pick(this.employees);
        return one('card', { corpname: this.corpName, userid: e.userid });
      }
      case 'location': {
        const [address, title, lng, lat] = rng.pick(ADDRESSES);
        return one('location', { longitude: lng, latitude: lat, address, title, zoom: 15 });
      }
      case 'emotion': {
        const gif = rng.chance(0.5);
        const m = this.media(gif ? 'thumbsup.gif' : 'screenshot.png', index);
        return one(
          'emotion',
          {
            type: gif ? 1 : 2,
            width: gif ? 2 : 16,
            height: gif ? 2 : 16,
            imagesize: m.size,
            md5sum: m.md5,
            sdkfileid: m.sdkfileid,
          },
          [m],
        );
      }
      case 'file': {
        // About one file in six is larger than a 512 KB chunk, to exercise chunked download.
        if (rng.chance(1 / 6)) {
          const m = this.media('big', index);
          return one(
            'file',
            {
              md5sum: m.md5,
              filename: '设备固件-v3.2.bin',
              fileext: 'bin',
              filesize: m.size,
              sdkfileid: m.sdkfileid,
            },
            [m],
          );
        }
        const m = this.media('contract.pdf', index);
        const filename = rng.pick(FILE_NAMES);
        return one(
          'file',
          { md5sum: m.md5, filename, fileext: 'pdf', filesize: m.size, sdkfileid: m.sdkfileid },
          [m],
        );
      }
      case 'link': {
        const [title, description, url] = rng.pick(LINK_TITLES);
        return one('link', { title, description, link_url: url, image_url: `${url}/cover.png` });
      }
      case 'weapp':
        return one('weapp', {
          title: '企业差旅报销',
          description: '在线提交报销单',
          username: 'gh_d3a1b2c4e5f6@app',
          displayname: '差旅助手',
        });
      case 'chatrecord': {
        const m = this.media('photo.jpg', index, 1);
        return one(
          'chatrecord',
          {
            title: '群聊的聊天记录',
            item: [
              {
                type: 'ChatRecordText',
                msgtime: sec - 600,
                content: JSON.stringify({ content: '报价单我已经发给客户了' }),
                from_chatroom: true,
              },
              {
                type: 'ChatRecordImage',
                msgtime: sec - 580,
                content: JSON.stringify({ md5sum: m.md5, filesize: m.size, sdkfileid: m.sdkfileid }),
                from_chatroom: true,
              },
              {
                type: 'ChatRecordText',
                msgtime: sec - 560,
                content: JSON.stringify({ content: '好的，等客户回复' }),
                from_chatroom: false,
              },
            ],
          },
          [m],
        );
      }
      case 'todo':
        return one('todo', { title: '跟进客户回款', content: '周五前确认对方财务付款进度' });
      case 'vote':
        return {
          msgtype: 'vote',
          body: {
            votetitle: '团建地点投票',
            voteitem: ['莫干山', '千岛湖', '苏州太湖'],
            votetype: 101,
            voteid: `vote${rng.chars(16)}`,
          },
          media: [],
        };
      case 'collect':
        return one('collect', {
          room_name: this.groups[0]?.name ?? '',
          creator: ctx.from,
          create_time: new Date(msgtime + 8 * HOUR).toISOString().slice(0, 19).replace('T', ' '),
          title: '季度客户满意度收集',
          details: [
            { id: 1, ques: '客户名称', type: 'Text' },
            { id: 2, ques: '订单数量', type: 'Number' },
            { id: 3, ques: '交付日期', type: 'Date' },
            { id: 4, ques: '回访时间', type: 'Time' },
          ],
        });
      case 'redpacket':
        return one('redpacket', {
          type: rng.int(1, 3),
          wish: '恭喜发财，大吉大利',
          totalcnt: 5,
          totalamount: rng.int(1, 200) * 100,
        });
      case 'meeting':
        return one('meeting', {
          topic: '季度销售复盘会',
          starttime: sec + 3600,
          endtime: sec + 7200,
          address: '三楼大会议室',
          remarks: '请准备本季度数据',
          meetingtype: 101,
          meetingid: rng.int(1_000_000, 9_999_999),
          status: 1,
        });
      case 'meeting_notification':
        return one('info', {
          meeting_id: rng.int(1_000_000, 9_999_999),
          notification_type: 1,
          content: '会议已开始',
        });
      case 'docmsg':
        return one('doc', {
          title: '2025年销售目标分解',
          link_url: 'https://doc.weixin.qq.com/sheet/e3_emulated',
          doc_creator: ctx.from,
        });
      case 'markdown':
        return one('info', {
          content: `**今日销售日报**\n> 新增订单：<font color="info">${rng.int(3, 20)}</font> 单\n> 回款：${rng.int(10, 90)} 万元`,
        });
      case 'news':
        return one('info', {
          item: [
            {
              title: '行业快讯：工业物联网市场规模持续增长',
              description: '点击查看详情',
              url: 'https://example.com/news/1',
              picurl: 'https://example.com/news/1.png',
            },
          ],
        });
      case 'calendar':
        return one('calendar', {
          title: '客户拜访',
          creatorname: this.employeeById.get(ctx.from)?.name ?? ctx.from,
          attendeename: ctx.conv.people
            .slice(0, 3)
            .map((p) => this.employeeById.get(p)?.name ?? this.customerById.get(p)?.name ?? p),
          starttime: sec + 86400,
          endtime: sec + 86400 + 5400,
          place: '客户公司',
          remarks: '带上样品',
        });
      case 'mixed': {
        const m = this.media('photo.jpg', index, 2);
        return one(
          'mixed',
          {
            item: [
              { type: 'text', content: JSON.stringify({ content: '这是现场照片，请看' }) },
              {
                type: 'image',
                content: JSON.stringify({ md5sum: m.md5, filesize: m.size, sdkfileid: m.sdkfileid }),
              },
            ],
          },
          [m],
        );
      }
      case 'meeting_voice_call': {
        const m = this.media('voice-silk.amr', index);
        return {
          msgtype: t,
          body: {
            voiceid: `voice${rng.chars(20)}`,
            meeting_voice_call: {
              endtime: sec + 600,
              sdkfileid: m.sdkfileid,
              demofiledata: [
                { filename: '方案讲解.pdf', demooperator: ctx.from, starttime: sec + 60, endtime: sec + 300 },
              ],
              sharescreendata: [{ share: ctx.from, starttime: sec + 310, endtime: sec + 500 }],
            },
          },
          media: [m],
        };
      }
      case 'voip_doc_share': {
        const m = this.media('contract.pdf', index);
        return {
          msgtype: t,
          body: {
            voipid: `voip${rng.chars(20)}`,
            voip_doc_share: {
              filename: '合同草案.pdf',
              md5sum: m.md5,
              filesize: m.size,
              sdkfileid: m.sdkfileid,
            },
          },
          media: [m],
        };
      }
      case 'external_redpacket':
        return one('redpacket', { type: rng.int(1, 2), wish: '合作愉快', totalcnt: 1, totalamount: 8800 });
      case 'sphfeed':
        return one('sphfeed', {
          feed_type: rng.pick([2, 4, 9]),
          sph_name: '华东智联官方',
          feed_desc: '新品发布会精彩回顾',
        });
      case 'voiptext':
        return one('info', { callduration: rng.int(5, 900), invitetype: rng.int(1, 2) });
      case 'qydiskfile':
        return one('info', { filename: '2025年度预算.xlsx' });
      case 'switch':
        return { msgtype: 'switch', body: {}, media: [] };
      default:
        throw new Error(`no builder for ${t}`);
    }
  }
}

function weightedIndex(rng: Rng, weights: number[]): number {
  const total = weights.reduce((a, b) => a + b, 0);
  let r = rng.next() * total;
  for (let i = 0; i < weights.length; i++) {
    r -= weights[i]!;
    if (r < 0) return i;
  }
  return weights.length - 1;
}
