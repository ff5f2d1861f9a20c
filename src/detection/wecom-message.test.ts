import { describe, expect, it } from 'vitest';
import { fromWecomMessage, WecomMessageError } from './wecom-message.js';

const common = {
  msgid: 'id1',
  action: 'send',
  from: 'zhangsan',
  tolist: ['wmCustomer1'],
  roomid: '',
  msgtime: 1700000000000,
};

describe('fromWecomMessage', () => {
  it('maps a text message to an outbound external conversation', () => {
    const m = fromWecomMessage(
      { ...common, msgtype: 'text', text: { content: '你好' } },
      { corpId: 'ww1', departmentsOf: () => [3], isSensitivePost: () => true },
    );
    expect(m).toMatchObject({
      msgid: 'id1',
      corpId: 'ww1',
      text: '你好',
      conversationKind: 'external',
      direction: 'outbound',
      senderKind: 'employee',
      recipientsExternal: true,
      senderDepartmentIds: [3],
      senderSensitivePost: true,
      conversationId: 'single:wmCustomer1:zhangsan',
    });
  });

  it('classifies senders and group chats', () => {
    expect(
      fromWecomMessage({
        ...common,
        from: 'woX',
        tolist: ['zhangsan'],
        msgtype: 'text',
        text: { content: 'a' },
      }),
    ).toMatchObject({ senderKind: 'external', direction: 'inbound' });
    expect(
      fromWecomMessage({
        ...common,
        from: 'wbRobot',
        roomid: 'wr1',
        msgtype: 'text',
        text: { content: 'a' },
      }),
    ).toMatchObject({ senderKind: 'robot', conversationKind: 'group', conversationId: 'wr1' });
    expect(
      fromWecomMessage({ ...common, tolist: ['lisi'], msgtype: 'text', text: { content: 'a' } }),
    ).toMatchObject({ conversationKind: 'internal', direction: 'internal' });
  });

  it('extracts searchable text from every text-bearing type', () => {
    const cases: [object, string][] = [
      [{ msgtype: 'link', link: { title: '标题', description: '描述', link_url: 'u' } }, '标题\n描述'],
      [{ msgtype: 'file', file: { filename: '客户名单.xlsx', filesize: 2048 } }, '客户名单.xlsx'],
      [{ msgtype: 'docmsg', doc: { title: '报价单', link_url: 'u' } }, '报价单'],
      [{ msgtype: 'card', card: { corpname: '某公司', userid: 'wmC' } }, '某公司'],
      [{ msgtype: 'redpacket', redpacket: { wish: '恭喜发财', totalamount: 30000, type: 1 } }, '恭喜发财'],
      [{ msgtype: 'external_redpacket', redpacket: { wish: '老规矩', totalamount: 50000 } }, '老规矩'],
      [
        { msgtype: 'vote', votetitle: '团建去哪', voteitem: ['爬山', '唱歌'], votetype: 101 },
        '团建去哪\n爬山\n唱歌',
      ],
      [{ msgtype: 'todo', todo: { title: '待办', content: '删聊天记录' } }, '待办\n删聊天记录'],
      [
        {
          msgtype: 'meeting_voice_call',
          voiceid: 'v',
          meeting_voice_call: { endtime: 1, demofiledata: [{ filename: '方案.pptx' }] },
        },
        '方案.pptx',
      ],
      [
        {
          msgtype: 'mixed',
          mixed: {
            item: [
              { type: 'text', content: '{"content":"回扣"}' },
              { type: 'image', content: '{"md5sum":"x"}' },
            ],
          },
        },
        '回扣',
      ],
      [
        {
          msgtype: 'chatrecord',
          chatrecord: {
            title: '群聊记录',
            item: [
              { type: 'ChatRecordText', content: '{"content":"私下转我"}' },
              { type: 'ChatRecordFile', content: '{"filename":"底价.xlsx"}' },
              {
                type: 'ChatRecordMixed',
                content: '{"item":[{"type":"text","content":"{\\"content\\":\\"嵌套\\"}"}]}',
              },
            ],
          },
        },
        '群聊记录\n私下转我\n底价.xlsx\n嵌套',
      ],
    ];
    for (const [payload, text] of cases) expect(fromWecomMessage({ ...common, ...payload }).text).toBe(text);
  });

  it('fills behaviour fields', () => {
    expect(
      fromWecomMessage({ ...common, msgtype: 'external_redpacket', redpacket: { totalamount: 50000 } })
        .redpacketAmountFen,
    ).toBe(50000);
    expect(
      fromWecomMessage({ ...common, msgtype: 'file', file: { filename: 'a.zip', filesize: 99 } }),
    ).toMatchObject({ fileSize: 99, fileName: 'a.zip' });
    expect(fromWecomMessage({ ...common, msgtype: 'card', card: { userid: 'wmC' } }).cardUserId).toBe('wmC');
    expect(
      fromWecomMessage({ ...common, action: 'recall', msgtype: 'revoke', revoke: { pre_msgid: 'p1' } }),
    ).toMatchObject({ action: 'recall', recalledMsgid: 'p1' });
    expect(
      fromWecomMessage({ ...common, msgtype: 'disagree', disagree: { userid: 'wmC', disagree_time: 1 } })
        .msgtype,
    ).toBe('disagree');
  });

  it('maps switch events and rejects incomplete messages', () => {
    expect(fromWecomMessage({ msgid: 's', action: 'switch', time: 5, user: 'zhangsan' })).toMatchObject({
      msgtype: 'switch',
      time: 5,
      senderId: 'zhangsan',
    });
    expect(() => fromWecomMessage({ msgtype: 'text' })).toThrow(WecomMessageError);
    expect(() => fromWecomMessage({ msgid: 'x', from: 'a', msgtime: 1 })).toThrow(/msgtype/);
  });
});
