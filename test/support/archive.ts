import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArchiveService } from '../../src/archive/archive.service.js';
import type { MessageToArchive } from '../../src/archive/types.js';
import { PgDekStore } from '../../src/crypto/dek.repository.js';
import { EnvelopeService } from '../../src/crypto/envelope.js';
import { openOrCreateLocalKeyring } from '../../src/crypto/keyring/local.js';
import type { Pool } from '../../src/platform/db/pool.js';

/** An archive over the test database with a throwaway local keyring. */
export async function testArchive(pool: Pool) {
  const keyring = await openOrCreateLocalKeyring({
    path: join(mkdtempSync(join(tmpdir(), 'vigil-keys-')), 'keyring.json'),
  });
  const store = new PgDekStore(pool);
  const envelope = new EnvelopeService({ keyring, store });
  return { keyring, store, envelope, archive: new ArchiveService(pool, envelope, keyring) };
}

/** A text message between an employee and a customer. */
export function textMessage(
  msgid: string,
  text: string,
  at: Date,
  overrides: Partial<MessageToArchive> = {},
): MessageToArchive {
  const raw = JSON.stringify({
    msgid,
    action: 'send',
    from: 'zhangsan',
    tolist: ['wmCustomer01'],
    roomid: '',
    msgtime: at.getTime(),
    msgtype: 'text',
    text: { content: text },
  });
  return {
    msgid,
    seq: null,
    msgTime: at,
    action: 'send',
    msgtype: 'text',
    senderId: 'zhangsan',
    senderKind: 'employee',
    direction: 'outbound',
    conversation: {
      kind: 'external',
      key: 'wmCustomer01|zhangsan',
      roomId: null,
      members: [
        { id: 'zhangsan', kind: 'employee' },
        { id: 'wmCustomer01', kind: 'external' },
      ],
    },
    raw,
    searchText: text,
    hasAttachment: false,
    recalledMsgid: null,
    ...overrides,
  };
}

/**
 * A text message of the 1:1 conversation between `from` and `to`, as WeCom sends it; ids starting
 * with "wm" are external contacts, others employees.
 */
export function chatMessage(
  msgid: string,
  from: string,
  to: string,
  text: string,
  at: Date,
): MessageToArchive {
  const kind = (id: string) => (id.startsWith('wm') ? 'external' : 'employee');
  return textMessage(msgid, text, at, {
    senderId: from,
    raw: JSON.stringify({
      msgid,
      action: 'send',
      from,
      tolist: [to],
      roomid: '',
      msgtime: at.getTime(),
      msgtype: 'text',
      text: { content: text },
    }),
    conversation: {
      kind: to.startsWith('wm') ? 'external' : 'internal',
      key: [from, to].sort().join('|'),
      roomId: null,
      members: [
        { id: from, kind: kind(from) },
        { id: to, kind: kind(to) },
      ],
    },
  });
}
