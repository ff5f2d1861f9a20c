export type ConversationKind = 'internal' | 'external' | 'group';
export type ParticipantKind = 'employee' | 'external' | 'robot';
export type Direction = 'internal' | 'inbound' | 'outbound';

/** A decrypted, normalized message ready to archive. Produced by the WeCom pipeline and by import. */
export interface MessageToArchive {
  msgid: string;
  /** WeCom seq as a decimal string (unsigned 64-bit); null for imported messages. */
  seq: string | null;
  msgTime: Date;
  action: 'send' | 'recall' | 'switch';
  msgtype: string;
  senderId: string | null;
  senderKind: ParticipantKind | null;
  direction: Direction | null;
  conversation: {
    kind: ConversationKind;
    /** Room id for groups; the sorted pair of participant ids for 1:1 chats. */
    key: string;
    roomId: string | null;
    members: Array<{ id: string; kind: ParticipantKind }>;
  };
  /** The decrypted WeCom JSON, exactly as received: what is encrypted and kept. */
  raw: string;
  /** Text to index for search (text, chat-record items, titles, file names…); empty for none. */
  searchText: string;
  hasAttachment: boolean;
  /** Media to download (sdkfileid, expected md5, declared size, where in the message). */
  media?: MediaToFetch[];
  recalledMsgid: string | null;
  retentionClass?: string;
  /** Normalization notes, e.g. `unknown_type`, `control_chars_stripped`. */
  flags?: string[];
}

export interface MediaToFetch {
  kind: string;
  sdkfileid: string;
  md5: string;
  size: number | null;
  path: string;
}

/** A stored message as the read path returns it, before access rules and masking. */
export interface ArchivedMessage {
  corpId: number;
  id: string;
  msgid: string;
  seq: string | null;
  msgTime: Date;
  action: string;
  msgtype: string;
  senderId: string | null;
  senderKind: ParticipantKind | null;
  direction: Direction | null;
  conversationId: string;
  hasAttachment: boolean;
  recalledMsgid: string | null;
  retentionClass: string;
  flags: string[];
  /** Decrypted content, or why it cannot be shown. */
  content: { state: 'ok'; raw: string } | { state: 'destroyed' } | { state: 'unreadable'; reason: string };
}
