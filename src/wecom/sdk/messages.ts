/**
 * Shapes of decrypted WeCom archive messages (protocol reference §3) and tolerant helpers to
 * parse them. Payload keys differ from msgtype for a few types, hence PAYLOAD_KEY.
 */

/** Every msgtype the archive may carry, with the JSON key its payload lives under. */
export const PAYLOAD_KEY: Record<string, string | null> = {
  text: 'text',
  image: 'image',
  revoke: 'revoke',
  agree: 'agree',
  disagree: 'disagree',
  voice: 'voice',
  video: 'video',
  card: 'card',
  location: 'location',
  emotion: 'emotion',
  file: 'file',
  link: 'link',
  weapp: 'weapp',
  chatrecord: 'chatrecord',
  todo: 'todo',
  vote: null, // fields at top level
  collect: 'collect',
  redpacket: 'redpacket',
  meeting: 'meeting',
  meeting_notification: 'info',
  docmsg: 'doc',
  markdown: 'info',
  news: 'info',
  calendar: 'calendar',
  mixed: 'mixed',
  meeting_voice_call: 'meeting_voice_call',
  voip_doc_share: 'voip_doc_share',
  external_redpacket: 'redpacket',
  sphfeed: 'sphfeed',
  voiptext: 'info',
  qydiskfile: 'info',
};

/** Message types whose payload carries an sdkfileid to download. */
export const MEDIA_MSGTYPES = [
  'image',
  'voice',
  'video',
  'emotion',
  'file',
  'meeting_voice_call',
  'voip_doc_share',
] as const;

/** Common fields of a normal (action send/recall) message. */
export interface ArchivedMessageBase {
  msgid: string;
  action: 'send' | 'recall';
  from: string;
  tolist: string[];
  roomid: string;
  msgtime: number;
  msgtype: string;
  [key: string]: unknown;
}

/** The `switch` pseudo-message: a user switched corp. */
export interface SwitchMessage {
  msgid: string;
  action: 'switch';
  time: number;
  user: string;
}

export type ArchivedMessage = ArchivedMessageBase | SwitchMessage;

/** A downloadable media reference found in a message (including inside mixed/chatrecord items). */
export interface MediaRef {
  sdkfileid: string;
  md5sum: string;
  size: number | null;
  /** Where it was found, e.g. "image", "mixed.item[1]". */
  path: string;
}

/** Removes raw control characters (< 0x20 except tab/CR/LF) that break strict JSON parsers. */
export function stripControlChars(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');
}

/** Parse result: the message, or the reason it could not be parsed (keep the raw text then). */
export type ParseResult =
  { ok: true; message: ArchivedMessage; controlCharsStripped: boolean } | { ok: false; error: string };

/** The message, or why the text is not one. */
function parseAttempt(text: string): ArchivedMessage | string {
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== 'object' || v === null || typeof (v as { msgid?: unknown }).msgid !== 'string') {
      return 'not a message object';
    }
    return v as ArchivedMessage;
  } catch (e) {
    return (e as Error).message;
  }
}

/** Parses decrypted plaintext; retries once with control characters stripped. */
export function parseDecryptedMessage(plaintext: string): ParseResult {
  const first = parseAttempt(plaintext);
  if (typeof first !== 'string') return { ok: true, message: first, controlCharsStripped: false };
  const stripped = stripControlChars(plaintext);
  if (stripped !== plaintext) {
    const second = parseAttempt(stripped);
    if (typeof second !== 'string') return { ok: true, message: second, controlCharsStripped: true };
  }
  return { ok: false, error: first };
}

function asRecord(v: unknown): Record<string, unknown> | null {
  return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : null;
}

function refFrom(obj: Record<string, unknown> | null, path: string): MediaRef | null {
  if (!obj || typeof obj.sdkfileid !== 'string' || obj.sdkfileid === '') return null;
  const size = obj.filesize ?? obj.voice_size ?? obj.imagesize ?? obj.fileSize ?? null;
  return {
    sdkfileid: obj.sdkfileid,
    md5sum: typeof obj.md5sum === 'string' ? obj.md5sum : '',
    size: typeof size === 'number' ? size : null,
    path,
  };
}

function parseJsonString(s: unknown): Record<string, unknown> | null {
  if (typeof s !== 'string') return asRecord(s);
  try {
    return asRecord(JSON.parse(s));
  } catch {
    return null;
  }
}

/** Lists every sdkfileid a message references, including those nested in mixed and chatrecord items. */
export function mediaRefsOf(message: ArchivedMessage): MediaRef[] {
  if (message.action === 'switch') return [];
  const m = message as ArchivedMessageBase;
  const out: MediaRef[] = [];
  const key = PAYLOAD_KEY[m.msgtype] ?? m.msgtype;
  const payload = asRecord(m[key]);
  const direct = refFrom(payload, key);
  if (direct) out.push(direct);
  if (m.msgtype === 'mixed' || m.msgtype === 'chatrecord') {
    const items = payload?.item;
    if (Array.isArray(items)) {
      items.forEach((it, i) => {
        const ref = refFrom(parseJsonString(asRecord(it)?.content), `${key}.item[${i}]`);
        if (ref) out.push(ref);
      });
    }
  }
  return out;
}
