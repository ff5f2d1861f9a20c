import { textMessage } from '../../../test/support/archive.js';
import type { MessageToArchive } from '../../archive/types.js';

/** A text message in a group chat (room `roomId`), from `from`. */
export function groupMessage(
  msgid: string,
  text: string,
  at: Date,
  roomId = 'wrRoom01',
  from = 'zhangsan',
): MessageToArchive {
  const raw = JSON.stringify({
    msgid,
    action: 'send',
    from,
    tolist: ['lisi', 'wmCustomer01'],
    roomid: roomId,
    msgtime: at.getTime(),
    msgtype: 'text',
    text: { content: text },
  });
  return textMessage(msgid, text, at, {
    senderId: from,
    conversation: {
      kind: 'group',
      key: roomId,
      roomId,
      members: [
        { id: from, kind: 'employee' },
        { id: 'lisi', kind: 'employee' },
        { id: 'wmCustomer01', kind: 'external' },
      ],
    },
    raw,
  });
}

/** A small valid policy with ids of its own: one lexicon rule, plus any extra rules. */
export function policyDoc(
  id: string,
  terms: string[] = ['回扣'],
  category = 'bribery',
  extraRules: Array<Record<string, unknown>> = [],
) {
  return {
    id,
    name: `策略 ${id}`,
    lexicons: [{ id: 'words', terms }],
    rules: [
      { id: `${id}.words`, name: '词', category, severity: 'high', when: { lexicon: 'words' } },
      ...extraRules,
    ],
  };
}
