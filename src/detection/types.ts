/** Canonical message and hit types shared by every part of the detection engine. */

export type ConversationKind = 'internal' | 'external' | 'group';
/** Relative to the corp: outbound = an employee writing to a conversation with outsiders. */
export type Direction = 'inbound' | 'outbound' | 'internal';
export type SenderKind = 'employee' | 'external' | 'robot';
export type Severity = 'low' | 'medium' | 'high' | 'critical';

export const SEVERITIES: readonly Severity[] = ['low', 'medium', 'high', 'critical'];

/** A message in the engine's canonical form; `text` is everything searchable in it. */
export interface CanonicalMessage {
  msgid: string;
  corpId: string;
  conversationId: string;
  conversationKind: ConversationKind;
  direction: Direction;
  senderId: string;
  senderKind: SenderKind;
  senderDepartmentIds: readonly number[];
  senderSensitivePost: boolean;
  /** WeCom msgtype (text, image, revoke, redpacket, external_redpacket, file, card, disagree, switch …). */
  msgtype: string;
  /** WeCom action: send, recall or switch. */
  action: string;
  /** UTC milliseconds. */
  time: number;
  text: string;
  recipientIds: readonly string[];
  /** True when any recipient is an external contact (wo…/wm…). */
  recipientsExternal: boolean;
  redpacketAmountFen?: number;
  fileSize?: number;
  fileName?: string;
  /** userid on a forwarded contact card. */
  cardUserId?: string;
  /** msgid a recall refers to. */
  recalledMsgid?: string;
}

/** How a term occurrence was recognised; `exact` means verbatim (ASCII case aside). */
export type MatchMethod =
  | 'exact'
  | 'noise'
  | 'repeat'
  | 'fullwidth'
  | 'traditional'
  | 'number-form'
  | 'letter-form'
  | 'split'
  | 'pinyin'
  | 'pinyin-initials'
  | 'homophone'
  | 'regex'
  | 'pii'
  | 'behaviour';

/** One rule firing on one message; offsets are UTF-16 code units into `CanonicalMessage.text`. */
export interface Hit {
  msgid: string;
  conversationId: string;
  corpId: string;
  time: number;
  ruleId: string;
  ruleName: string;
  category: string;
  severity: Severity;
  /** The lexicon term, regex source, PII kind or behaviour name that produced the evidence. */
  term: string;
  start: number | null;
  end: number | null;
  matched: string | null;
  /** The most evasive method involved; `methods` lists all of them. */
  method: MatchMethod;
  methods: MatchMethod[];
  /** Set on conversation-level rules: the other messages that completed the rule. */
  relatedMsgids?: string[];
}
