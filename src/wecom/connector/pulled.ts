import type { ChatDataItem } from '../sdk/chatdata.js';
import type { NewEnvelope } from './connector.repository.js';

/** What one pass of the pipeline did. */
export interface ProcessResult {
  archived: number;
  duplicates: number;
  held: number;
  quarantined: number;
  retried: number;
}

export function emptyResult(): ProcessResult {
  return { archived: 0, duplicates: 0, held: 0, quarantined: 0, retried: 0 };
}

export function addResult(total: ProcessResult, r: ProcessResult): void {
  for (const key of Object.keys(total) as Array<keyof ProcessResult>) total[key] += r[key];
}

/**
 * The envelopes of one GetChatData answer, in order, each msgid once (the first wins, as the
 * envelope table's key would have it); malformed ones carry the reason to quarantine them.
 */
export function toNewEnvelopes(chatdata: ChatDataItem[]): NewEnvelope[] {
  const seen = new Set<string>();
  const out: NewEnvelope[] = [];
  for (const item of chatdata) {
    const msgid = item.msgid && item.msgid !== 'undefined' ? item.msgid : `seq-${item.seq}`;
    if (seen.has(msgid)) continue;
    seen.add(msgid);
    out.push({
      msgid,
      seq: item.seq.toString(),
      publickeyVer: Number.isInteger(item.publickeyVer) ? item.publickeyVer : null,
      encryptRandomKey: item.encryptRandomKey,
      encryptChatMsg: item.encryptChatMsg,
      quarantineReason: envelopeProblem(item),
    });
  }
  return out;
}

/** The highest seq of a GetChatData answer (decimal), where the cursor moves to. */
export function maxSeqOf(chatdata: ChatDataItem[]): string {
  return chatdata.reduce((max, item) => (item.seq > max ? item.seq : max), 0n).toString();
}

function envelopeProblem(item: ChatDataItem): string | undefined {
  if (!item.msgid || item.msgid === 'undefined') return 'malformed envelope: missing msgid';
  if (!Number.isInteger(item.publickeyVer)) return 'malformed envelope: missing publickey_ver';
  if (!item.encryptRandomKey || item.encryptRandomKey === 'undefined')
    return 'malformed envelope: missing encrypt_random_key';
  if (!item.encryptChatMsg || item.encryptChatMsg === 'undefined')
    return 'malformed envelope: missing encrypt_chat_msg';
  return undefined;
}
