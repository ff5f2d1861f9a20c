import type { MessageToArchive, ParticipantKind } from '../../archive/types.js';
import { fromWecomMessage, WecomMessageError } from '../../detection/wecom-message.js';
import { mediaRefsOf, parseDecryptedMessage, PAYLOAD_KEY, type ArchivedMessage } from '../sdk/messages.js';

export class NormalizeError extends Error {}

/** Kind of a WeCom participant id: robots start with wb, external contacts with wo/wm. */
export function participantKind(id: string): ParticipantKind {
  if (id.startsWith('wb')) return 'robot';
  return /^w[om]/.test(id) ? 'external' : 'employee';
}

/**
 * Turns decrypted WeCom plaintext into a message to archive: participants, direction,
 * conversation and searchable text. Unknown message types are archived and flagged, never dropped.
 * Throws NormalizeError (with the reason to quarantine) when the plaintext is not a message.
 */
export function normalizeMessage(plaintext: string, expectedMsgid: string): MessageToArchive {
  const parsed = parseDecryptedMessage(plaintext);
  if (!parsed.ok) throw new NormalizeError(`malformed message JSON: ${parsed.error}`);
  const message = parsed.message;
  if (message.msgid !== expectedMsgid) {
    throw new NormalizeError(
      `decrypted msgid ${JSON.stringify(message.msgid)} differs from the envelope's ${expectedMsgid}`,
    );
  }
  let canonical;
  try {
    canonical = fromWecomMessage(message);
  } catch (err) {
    if (err instanceof WecomMessageError) throw new NormalizeError(`incomplete message: ${err.message}`);
    throw err;
  }
  const flags: string[] = [];
  if (parsed.controlCharsStripped) flags.push('control_chars_stripped');
  if (canonical.msgtype !== 'switch' && !(canonical.msgtype in PAYLOAD_KEY)) flags.push('unknown_type');
  const raw = parsed.controlCharsStripped ? JSON.stringify(message) : plaintext;

  if (message.action === 'switch') {
    return {
      msgid: message.msgid,
      seq: null,
      msgTime: new Date(canonical.time),
      action: 'switch',
      msgtype: 'switch',
      senderId: canonical.senderId || null,
      senderKind: 'employee',
      direction: 'internal',
      conversation: {
        kind: 'internal',
        key: canonical.conversationId,
        roomId: null,
        members: canonical.senderId ? [{ id: canonical.senderId, kind: 'employee' }] : [],
      },
      raw,
      searchText: '',
      hasAttachment: false,
      recalledMsgid: null,
      flags,
    };
  }
  const media = mediaRefsOf(message as ArchivedMessage).map((ref) => ({
    kind: ref.path.includes('.item[') ? 'embedded' : canonical.msgtype,
    sdkfileid: ref.sdkfileid,
    md5: ref.md5sum,
    size: ref.size,
    path: ref.path,
  }));
  const roomId = typeof message.roomid === 'string' && message.roomid ? message.roomid : null;
  const ids = [canonical.senderId, ...canonical.recipientIds];
  return {
    msgid: message.msgid,
    seq: null,
    msgTime: new Date(canonical.time),
    action: message.action === 'recall' ? 'recall' : 'send',
    msgtype: canonical.msgtype,
    senderId: canonical.senderId,
    senderKind: canonical.senderKind,
    direction: canonical.direction,
    conversation: {
      kind: canonical.conversationKind,
      key: canonical.conversationId,
      roomId,
      members: [...new Set(ids)].map((id) => ({ id, kind: participantKind(id) })),
    },
    raw,
    searchText: canonical.text,
    hasAttachment: media.length > 0,
    media,
    recalledMsgid: canonical.recalledMsgid ?? null,
    flags,
  };
}
