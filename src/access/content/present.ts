import type { SearchHit } from '../../archive/archive.service.js';
import type { ArchivedMessage } from '../../archive/types.js';
import { maskText, maskWecomJson } from './masking.js';
import type { Pseudonymizer } from './pseudonyms.js';

/** A message as a viewer receives it: masked and pseudonymised as their rights say. */
export interface ViewedMessage {
  msgid: string;
  seq: string | null;
  msgTime: Date;
  msgtype: string;
  action: string;
  senderId: string | null;
  senderKind: ArchivedMessage['senderKind'];
  direction: ArchivedMessage['direction'];
  conversationId: string;
  hasAttachment: boolean;
  content: ArchivedMessage['content'];
  highlight: {
    snippet: string;
    ranges: Array<{ start: number; end: number }>;
    truncatedStart: boolean;
    truncatedEnd: boolean;
  } | null;
}

export interface Presentation {
  mask: boolean;
  pseudonyms: Pseudonymizer;
}

/** Applies masking (length-preserving, so highlight ranges hold) and pseudonyms to one hit. */
export function presentHit(hit: SearchHit, how: Presentation): ViewedMessage {
  const m = hit.message;
  let content = m.content;
  if (content.state === 'ok') {
    const raw = how.mask ? maskWecomJson(content.raw) : content.raw;
    content = { state: 'ok', raw: how.pseudonyms.applyToWecomJson(raw) };
  }
  let highlight: ViewedMessage['highlight'] = null;
  if (hit.highlight) {
    const h = hit.highlight;
    // Mask the whole text, then cut: a number split by the snippet's edge is still recognised.
    const shown = how.mask && hit.text !== null ? maskText(hit.text) : (hit.text ?? h.snippet);
    const snippet = hit.text !== null ? shown.slice(h.offset, h.offset + h.snippet.length) : h.snippet;
    highlight = { snippet, ranges: h.ranges, truncatedStart: h.truncatedStart, truncatedEnd: h.truncatedEnd };
  }
  return {
    msgid: m.msgid,
    seq: m.seq,
    msgTime: m.msgTime,
    msgtype: m.msgtype,
    action: m.action,
    senderId: how.pseudonyms.show(m.senderId),
    senderKind: m.senderKind,
    direction: m.direction,
    conversationId: m.conversationId,
    hasAttachment: m.hasAttachment,
    content,
    highlight,
  };
}
