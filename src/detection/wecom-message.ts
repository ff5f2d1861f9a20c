import { isExternalId } from './rules/behaviour.js';
import type { CanonicalMessage, ConversationKind, Direction, SenderKind } from './types.js';

/** Organisation facts the archive JSON does not carry; all optional. */
export interface WecomContext {
  corpId?: string;
  departmentsOf?: (userid: string) => readonly number[];
  isSensitivePost?: (userid: string) => boolean;
}

type Json = Record<string, unknown>;

function obj(v: unknown): Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {};
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

function num(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  return undefined;
}

function senderKindOf(id: string): SenderKind {
  if (id.startsWith('wb')) return 'robot';
  return isExternalId(id) ? 'external' : 'employee';
}

function parseJsonString(v: unknown): Json {
  if (typeof v !== 'string') return obj(v);
  try {
    return obj(JSON.parse(v));
  } catch {
    return { content: v };
  }
}

/** Searchable text of one chatrecord/mixed item whose `content` is a JSON string of the inner type. */
function itemText(type: string, content: unknown, depth: number): string[] {
  const c = parseJsonString(content);
  const t = type.toLowerCase().replace(/^chatrecord/, '');
  if (t === 'mixed' || t === 'chatrecord') {
    const nested = Array.isArray(c.item) ? c.item : [];
    return depth > 3
      ? []
      : nested.flatMap((i) => itemText(String(obj(i).type ?? ''), obj(i).content, depth + 1));
  }
  return payloadText(t, c, depth + 1);
}

/** The non-empty string fields `keys` of a payload, in that order. */
function pick(p: Json, ...keys: string[]): string[] {
  const out: string[] = [];
  for (const k of keys) {
    const v = str(p[k]);
    if (v !== undefined) out.push(v);
  }
  return out;
}

/** Searchable strings from a payload of the given msgtype. */
function payloadText(msgtype: string, p: Json, depth = 0): string[] {
  switch (msgtype) {
    case 'text':
    case 'markdown':
      return pick(p, 'content', 'markdown');
    case 'link':
    case 'weapp':
      return pick(p, 'title', 'description', 'displayname');
    case 'file':
    case 'voip_doc_share':
    case 'qydiskfile':
      return pick(p, 'filename');
    case 'card':
      return pick(p, 'corpname');
    case 'location':
      return pick(p, 'title', 'address');
    case 'todo':
      return pick(p, 'title', 'content');
    case 'redpacket':
    case 'external_redpacket':
      return pick(p, 'wish');
    case 'meeting':
      return pick(p, 'topic', 'address', 'remarks');
    case 'docmsg':
    case 'doc':
      return pick(p, 'title');
    case 'calendar':
      return pick(p, 'title', 'place', 'remarks');
    case 'collect': {
      const details = Array.isArray(p.details)
        ? p.details.map((d) => str(obj(d).ques)).filter((s): s is string => !!s)
        : [];
      return [...pick(p, 'room_name', 'title'), ...details];
    }
    case 'news':
      return (Array.isArray(p.item) ? p.item : []).flatMap((i) =>
        [str(obj(i).title), str(obj(i).description)].filter((s): s is string => !!s),
      );
    case 'sphfeed':
      return pick(p, 'sph_name', 'feed_desc');
    case 'meeting_notification':
      return pick(p, 'content');
    case 'chatrecord':
    case 'mixed':
      return [
        ...pick(p, 'title'),
        ...(Array.isArray(p.item) ? p.item : []).flatMap((i) =>
          depth > 3 ? [] : itemText(String(obj(i).type ?? ''), obj(i).content, depth),
        ),
      ];
    case 'meeting_voice_call':
      return (Array.isArray(p.demofiledata) ? p.demofiledata : [])
        .map((d) => str(obj(d).filename))
        .filter((s): s is string => !!s);
    default:
      return pick(p, 'content', 'title', 'filename');
  }
}

/** Where each msgtype keeps its payload (WeCom protocol §3.2). */
function payloadOf(msgtype: string, m: Json): Json {
  if (msgtype === 'vote') return m; // vote fields are top level
  if (msgtype === 'docmsg') return obj(m.doc);
  if (msgtype === 'external_redpacket') return obj(m.redpacket ?? m.external_redpacket);
  if (['markdown', 'news', 'meeting_notification', 'voiptext', 'qydiskfile'].includes(msgtype))
    return obj(m.info ?? m[msgtype]);
  return obj(m[msgtype]);
}

export class WecomMessageError extends Error {}

/**
 * Maps one decrypted WeCom archive message (JSON object) to the canonical form the engine scans.
 * Throws WecomMessageError when required fields are missing.
 */
export function fromWecomMessage(json: unknown, ctx: WecomContext = {}): CanonicalMessage {
  const m = obj(json);
  const msgid = str(m.msgid);
  if (!msgid) throw new WecomMessageError('missing msgid');
  const action = str(m.action) ?? 'send';
  const corpId = ctx.corpId ?? str(m.corpid) ?? '';
  if (action === 'switch') {
    // Not a chat message: only msgid, time and the user who switched corp.
    const user = str(m.user) ?? '';
    return {
      msgid,
      corpId,
      conversationId: `switch:${user}`,
      conversationKind: 'internal',
      direction: 'internal',
      senderId: user,
      senderKind: 'employee',
      senderDepartmentIds: ctx.departmentsOf?.(user) ?? [],
      senderSensitivePost: ctx.isSensitivePost?.(user) ?? false,
      msgtype: 'switch',
      action,
      time: num(m.time) ?? 0,
      text: '',
      recipientIds: [],
      recipientsExternal: false,
    };
  }
  const msgtype = str(m.msgtype);
  if (!msgtype) throw new WecomMessageError('missing msgtype');
  const from = str(m.from);
  if (!from) throw new WecomMessageError('missing from');
  const time = num(m.msgtime);
  if (time === undefined) throw new WecomMessageError('missing msgtime');
  const tolist = Array.isArray(m.tolist) ? m.tolist.filter((t): t is string => typeof t === 'string') : [];
  const roomid = str(m.roomid);
  const senderKind = senderKindOf(from);
  const recipientsExternal = tolist.some(isExternalId);
  const anyExternal = senderKind !== 'employee' || recipientsExternal;
  const conversationKind: ConversationKind = roomid ? 'group' : anyExternal ? 'external' : 'internal';
  const direction: Direction =
    senderKind !== 'employee' ? 'inbound' : recipientsExternal ? 'outbound' : 'internal';
  const conversationId = roomid ?? `single:${[from, tolist[0] ?? ''].sort().join(':')}`;
  const payload = payloadOf(msgtype, m);
  const text: string[] = payloadText(msgtype, payload);
  if (msgtype === 'vote') {
    text.push(
      ...[str(m.votetitle), ...(Array.isArray(m.voteitem) ? m.voteitem.map(str) : [])].filter(
        (s): s is string => !!s,
      ),
    );
  }
  const base: CanonicalMessage = {
    msgid,
    corpId,
    conversationId,
    conversationKind,
    direction,
    senderId: from,
    senderKind,
    senderDepartmentIds: senderKind === 'employee' ? (ctx.departmentsOf?.(from) ?? []) : [],
    senderSensitivePost: senderKind === 'employee' ? (ctx.isSensitivePost?.(from) ?? false) : false,
    msgtype,
    action,
    time,
    // Parts are joined by a line break so a term never spans two fields.
    text: text.join('\n'),
    recipientIds: tolist,
    recipientsExternal,
  };
  if (msgtype === 'redpacket' || msgtype === 'external_redpacket')
    base.redpacketAmountFen = num(payload.totalamount);
  const size = num(payload.filesize) ?? num(payload.voice_size) ?? num(payload.imagesize);
  if (size !== undefined) base.fileSize = size;
  const fileName = str(payload.filename);
  if (fileName) base.fileName = fileName;
  if (msgtype === 'card') base.cardUserId = str(payload.userid);
  if (msgtype === 'revoke') base.recalledMsgid = str(payload.pre_msgid);
  return base;
}
