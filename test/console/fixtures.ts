import type { MessageToArchive } from '../../src/archive/types.js';

/** An attacker's payloads: if any of them runs, it sets `window.__xss`. */
export const XSS = [
  '<img src=x onerror="window.__xss=1">',
  '<script>window.__xss=1</script>',
  '"><svg onload="window.__xss=1">',
  'javascript:window.__xss=1',
  '<a href="javascript:window.__xss=1">点我</a>',
  '{{constructor.constructor("window.__xss=1")()}}',
];

const xss = XSS.join(' ');

/** One message of every WeCom type (payloads as the archive SDK returns them), XSS in the free text. */
export const EVERY_TYPE: Array<{ msgtype: string; body: Record<string, unknown> }> = [
  { msgtype: 'text', body: { text: { content: `你好 ${xss}` } } },
  { msgtype: 'image', body: { image: { md5sum: 'a', filesize: 1024, sdkfileid: 'f1' } } },
  { msgtype: 'voice', body: { voice: { md5sum: 'b', voice_size: 300, play_length: 3, sdkfileid: 'f2' } } },
  { msgtype: 'video', body: { video: { md5sum: 'c', filesize: 4096, play_length: 10, sdkfileid: 'f3' } } },
  {
    msgtype: 'emotion',
    body: { emotion: { type: 1, width: 100, height: 100, imagesize: 2048, md5sum: 'd', sdkfileid: 'f4' } },
  },
  {
    msgtype: 'file',
    body: {
      file: { filename: `报价单${XSS[0]}.pdf`, fileext: 'pdf', filesize: 10, md5sum: 'e', sdkfileid: 'f5' },
    },
  },
  {
    msgtype: 'link',
    body: {
      link: {
        title: `促销${XSS[2]}`,
        description: XSS[1],
        link_url: 'javascript:window.__xss=1',
        image_url: '',
      },
    },
  },
  {
    msgtype: 'weapp',
    body: { weapp: { title: XSS[0], description: 'd', username: 'u', displayname: '小程序' } },
  },
  {
    msgtype: 'location',
    body: { location: { longitude: 116.4, latitude: 39.9, address: XSS[0], title: '北京', zoom: 15 } },
  },
  { msgtype: 'card', body: { card: { corpname: `名片${XSS[0]}`, userid: 'zhangsan' } } },
  {
    msgtype: 'redpacket',
    body: { redpacket: { type: 1, wish: `恭喜发财${XSS[1]}`, totalcnt: 1, totalamount: 8800 } },
  },
  {
    msgtype: 'chatrecord',
    body: {
      chatrecord: {
        title: `聊天记录${XSS[0]}`,
        item: [
          {
            type: 'ChatRecordText',
            msgtime: 1,
            content: JSON.stringify({ content: `记录里的 ${XSS[1]}` }),
            from_chatroom: false,
          },
        ],
      },
    },
  },
  {
    msgtype: 'mixed',
    body: { mixed: { item: [{ type: 'text', content: JSON.stringify({ content: `混合 ${XSS[0]}` }) }] } },
  },
  {
    msgtype: 'meeting',
    body: {
      meeting: {
        topic: `会议${XSS[0]}`,
        starttime: 1,
        endtime: 2,
        address: 'A',
        remarks: 'r',
        meetingtype: 101,
        meetingid: 1,
        status: 1,
      },
    },
  },
  {
    msgtype: 'calendar',
    body: {
      calendar: {
        title: `日程${XSS[0]}`,
        creatorname: 'c',
        attendeename: [],
        starttime: 1,
        endtime: 2,
        place: 'p',
        remarks: 'r',
      },
    },
  },
  {
    msgtype: 'vote',
    body: { votetitle: `投票${XSS[0]}`, voteitem: ['A', XSS[1]], votetype: 101, voteid: 'v' },
  },
  { msgtype: 'todo', body: { todo: { title: `待办${XSS[0]}`, content: 'c' } } },
  {
    msgtype: 'docmsg',
    body: { doc: { title: `文档${XSS[0]}`, link_url: 'https://doc.weixin.qq.com/x', doc_creator: 'c' } },
  },
  { msgtype: 'markdown', body: { info: { content: `**粗体** ${XSS[0]}` } } },
  {
    msgtype: 'news',
    body: {
      info: { item: [{ title: `新闻${XSS[0]}`, description: 'd', url: 'https://example.com', picurl: '' }] },
    },
  },
  { msgtype: 'agree', body: { agree: { userid: 'wmCust1', agree_time: 1 } } },
  { msgtype: 'disagree', body: { disagree: { userid: 'wmCust1', disagree_time: 1 } } },
  { msgtype: 'revoke', body: { revoke: { pre_msgid: 'x' } } },
  {
    msgtype: 'collect',
    body: {
      collect: { room_name: '群', creator: 'c', create_time: '1', title: `填表${XSS[0]}`, details: [] },
    },
  },
  { msgtype: 'sphfeed', body: { sphfeed: { feed_type: 4, sph_name: `视频号${XSS[0]}`, feed_desc: 'd' } } },
  {
    msgtype: 'meeting_voice_call',
    body: { voiceid: 'v', meeting_voice_call: { endtime: 2, sdkfileid: 'f6', demofiledata: [] } },
  },
  {
    msgtype: 'voip_doc_share',
    body: {
      voipid: 'v',
      voip_doc_share: { filename: `共享${XSS[0]}`, md5sum: 'g', filesize: 1, sdkfileid: 'f7' },
    },
  },
  {
    msgtype: 'external_redpacket',
    body: { redpacket: { type: 1, wish: `互通红包${XSS[0]}`, totalcnt: 1, totalamount: 100 } },
  },
  { msgtype: 'meeting_notification', body: { info: { meeting_id: 1, type: 1, subject: XSS[0] } } },
  { msgtype: 'voiptext', body: { info: { callduration: 10, invitetype: 1 } } },
  { msgtype: 'qydiskfile', body: { info: { filename: `微盘${XSS[0]}` } } },
];

/** The messages of the fixture conversation between an employee and a customer, a minute apart. */
export function everyTypeConversation(from: string, to: string, start: Date): MessageToArchive[] {
  return EVERY_TYPE.map(({ msgtype, body }, i) => {
    const at = new Date(start.getTime() + i * 60_000);
    const msgid = `fixture-${msgtype}`;
    const raw = JSON.stringify({
      msgid,
      action: 'send',
      from,
      tolist: [to],
      roomid: '',
      msgtime: at.getTime(),
      msgtype,
      ...body,
    });
    return {
      msgid,
      seq: null,
      msgTime: at,
      action: 'send',
      msgtype,
      senderId: from,
      senderKind: 'employee',
      direction: 'outbound',
      conversation: {
        kind: 'external',
        key: [from, to].sort().join('|'),
        roomId: null,
        members: [
          { id: from, kind: 'employee' },
          { id: to, kind: 'external' },
        ],
      },
      raw,
      searchText: msgtype === 'text' ? String((body.text as { content: string }).content) : '',
      hasAttachment: false,
      recalledMsgid: null,
    };
  });
}
