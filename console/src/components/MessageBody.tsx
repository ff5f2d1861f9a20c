import { App, Collapse, Space, Tag, Typography } from 'antd';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { MediaView } from './MediaView.js';

type Json = Record<string, unknown>;
const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');
const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});

// Where each message type keeps its fields (mirrors src/wecom/sdk/messages.ts PAYLOAD_KEY).
const PAYLOAD: Record<string, string | null> = {
  meeting_notification: 'info',
  docmsg: 'doc',
  markdown: 'info',
  news: 'info',
  external_redpacket: 'redpacket',
  voiptext: 'info',
  qydiskfile: 'info',
  vote: null,
};

/** Text with highlighted ranges; always React text nodes, never HTML. */
export function Highlighted({
  text,
  ranges,
}: {
  text: string;
  ranges: Array<{ start: number; end: number }>;
}) {
  const parts: ReactNode[] = [];
  let at = 0;
  ranges
    .filter((r) => r.start >= at && r.end <= text.length && r.start < r.end)
    .forEach((r, i) => {
      parts.push(text.slice(at, r.start), <mark key={i}>{text.slice(r.start, r.end)}</mark>);
      at = r.end;
    });
  parts.push(text.slice(at));
  return <span style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-word' }}>{parts}</span>;
}

/** External links open only after the viewer sees the full URL (an interstitial). */
function ExternalLink({ url, title }: { url: string; title: string }) {
  const { t } = useTranslation();
  const { modal } = App.useApp();
  const safe = /^https?:\/\//i.test(url);
  return (
    <Typography.Link
      data-testid="external-link"
      onClick={(e) => {
        e.preventDefault();
        modal.confirm({
          title: t('message.external'),
          content: <Typography.Text code>{url}</Typography.Text>,
          okButtonProps: { disabled: !safe },
          onOk: () => void window.open(url, '_blank', 'noopener,noreferrer'),
        });
      }}
    >
      {title || url}
    </Typography.Link>
  );
}

function Labeled({ label, children }: { label: string; children?: ReactNode }) {
  return (
    <Space size={6} wrap>
      <Tag>{label}</Tag>
      {children}
    </Space>
  );
}

/**
 * One WeCom message of any type. Everything shown comes from attacker-controlled JSON, so it is
 * rendered only as text nodes and attributes React escapes; links go through an interstitial.
 */
export function MessageBody({
  message,
  ranges = [],
  msgid,
}: {
  message: Json;
  ranges?: Array<{ start: number; end: number }>;
  /** The archived message this body belongs to; its media can then be opened. */
  msgid?: string;
}) {
  const { t } = useTranslation();
  const type = str(message.msgtype);
  const key = type in PAYLOAD ? (PAYLOAD[type] ?? null) : type;
  const p = key === null ? message : obj(message[key]);
  const media = (label: string, detail: string) => (
    <Labeled label={label}>
      <Typography.Text>{detail}</Typography.Text>
      {msgid && <MediaView msgid={msgid} label={label} />}
    </Labeled>
  );
  if (message.action === 'recall' || type === 'revoke')
    return (
      <Typography.Text type="secondary">{`${str(message.from)} ${t('message.recalled')}`}</Typography.Text>
    );
  switch (type) {
    case 'text':
      return <Highlighted text={str(p.content)} ranges={ranges} />;
    case 'markdown':
      // Shown as the source text: markdown from WeCom is never rendered as markup.
      return <Highlighted text={str(p.content)} ranges={ranges} />;
    case 'image':
      return media(t('message.image'), `${str(p.filesize)} B`);
    case 'voice':
      return media(t('message.voice'), `${str(p.play_length)} s`);
    case 'video':
      return media(t('message.video'), `${str(p.play_length)} s`);
    case 'emotion':
      return media(t('message.emotion'), `${str(p.width)}×${str(p.height)}`);
    case 'file':
      return media(t('message.file'), `${str(p.filename)} (${str(p.filesize)} B)`);
    case 'meeting_voice_call':
    case 'voip_doc_share':
      return media(t('message.meeting'), str(obj(p.demofiledata).filename) || str(p.filename));
    case 'link':
      return (
        <Labeled label={t('message.link')}>
          <ExternalLink url={str(p.link_url)} title={str(p.title)} />
          <Typography.Text type="secondary">{str(p.description)}</Typography.Text>
        </Labeled>
      );
    case 'weapp':
      return <Labeled label={t('message.weapp')}>{`${str(p.displayname)} · ${str(p.title)}`}</Labeled>;
    case 'location':
      return (
        <Labeled
          label={t('message.location')}
        >{`${str(p.title)} ${str(p.address)} (${str(p.latitude)}, ${str(p.longitude)})`}</Labeled>
      );
    case 'card':
      return <Labeled label={t('message.card')}>{`${str(p.corpname)} ${str(p.userid)}`}</Labeled>;
    case 'redpacket':
    case 'external_redpacket':
      return (
        <Labeled
          label={t('message.redpacket')}
        >{`${str(p.wish)} · ¥${(Number(p.totalamount) / 100).toFixed(2)} × ${str(p.totalcnt)}`}</Labeled>
      );
    case 'chatrecord':
      return (
        <Collapse
          size="small"
          items={[
            {
              key: 'r',
              label: `${t('message.chatrecord')} · ${str(p.title)}`,
              children: (Array.isArray(p.item) ? p.item : []).map((item, i) => {
                const it = obj(item);
                const inner = safeParse(str(it.content));
                const innerType = str(it.type)
                  .replace(/^ChatRecord/i, '')
                  .toLowerCase();
                return (
                  <div key={i} style={{ marginBottom: 6 }}>
                    <MessageBody message={{ msgtype: innerType, [innerType]: inner }} />
                  </div>
                );
              }),
            },
          ]}
        />
      );
    case 'mixed':
      return (
        <Space direction="vertical">
          {(Array.isArray(p.item) ? p.item : []).map((item, i) => {
            const it = obj(item);
            const inner = safeParse(str(it.content));
            return (
              <MessageBody key={i} message={{ msgtype: str(it.type), [str(it.type)]: inner }} msgid={msgid} />
            );
          })}
        </Space>
      );
    case 'meeting':
      return <Labeled label={t('message.meeting')}>{`${str(p.topic)} · ${str(p.address)}`}</Labeled>;
    case 'calendar':
      return (
        <Labeled
          label={t('message.calendar')}
        >{`${str(p.title)} · ${str(p.place)} · ${str(p.remarks)}`}</Labeled>
      );
    case 'vote':
      return (
        <Labeled
          label={t('message.vote')}
        >{`${str(p.votetitle)} ${(Array.isArray(p.voteitem) ? p.voteitem : []).map(str).join(' / ')}`}</Labeled>
      );
    case 'todo':
      return <Labeled label={t('message.todo')}>{`${str(p.title)} ${str(p.content)}`}</Labeled>;
    case 'docmsg':
      return (
        <Labeled label={t('message.doc')}>
          <ExternalLink url={str(p.link_url)} title={str(p.title)} />
        </Labeled>
      );
    case 'news': {
      const first = obj(Array.isArray(p.item) ? p.item[0] : undefined);
      return (
        <Labeled label={t('message.link')}>
          <ExternalLink url={str(first.url)} title={str(first.title)} />
        </Labeled>
      );
    }
    case 'agree':
    case 'disagree':
      return (
        <Tag color={type === 'agree' ? 'green' : 'red'}>
          {type === 'agree' ? '同意存档 / agreed' : '不同意存档 / declined'}
        </Tag>
      );
    case 'collect':
      return <Labeled label="填表">{`${str(p.room_name)} ${str(p.title)}`}</Labeled>;
    case 'sphfeed':
      return <Labeled label="视频号">{`${str(p.sph_name)} ${str(p.feed_desc)}`}</Labeled>;
    case 'meeting_notification':
    case 'voiptext':
    case 'qydiskfile':
      return <Labeled label={type}>{str(p.content) || str(obj(p.filename)) || JSON.stringify(p)}</Labeled>;
    default:
      return <Typography.Text type="secondary">{`${t('message.unknown')}: ${type}`}</Typography.Text>;
  }
}

function safeParse(text: string): Json {
  try {
    return obj(JSON.parse(text));
  } catch {
    return { content: text };
  }
}
