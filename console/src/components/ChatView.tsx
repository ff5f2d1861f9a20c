import { Avatar, Empty, Space, Typography } from 'antd';
import type { ViewedMessage } from '../api/types.js';
import { MessageBody } from './MessageBody.js';

/** Messages as chat bubbles: employees (outbound) on the right, everyone else on the left. */
export function ChatView({
  messages,
  highlights = {},
  focus,
}: {
  messages: ViewedMessage[];
  /** Ranges to mark per msgid (offsets into the message text). */
  highlights?: Record<string, Array<{ start: number; end: number }>>;
  focus?: ReadonlySet<string>;
}) {
  if (messages.length === 0) return <Empty />;
  return (
    <Space direction="vertical" style={{ width: '100%' }} data-testid="chat">
      {messages.map((m) => {
        const external =
          (m.senderId ?? '').startsWith('wm') ||
          (m.senderId ?? '').startsWith('wo') ||
          (m.senderId ?? '').startsWith('客户');
        const parsed =
          m.content.state === 'ok' ? (JSON.parse(m.content.raw) as Record<string, unknown>) : null;
        return (
          <div
            key={m.msgid}
            data-msgid={m.msgid}
            data-msgtype={m.msgtype}
            style={{ display: 'flex', flexDirection: external ? 'row' : 'row-reverse', gap: 8 }}
          >
            <Avatar style={{ background: external ? '#87d068' : '#1677ff', flex: 'none' }}>
              {(m.senderId ?? '?').slice(0, 1)}
            </Avatar>
            <div style={{ maxWidth: '70%' }}>
              <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                {`${m.senderId ?? '-'} · ${new Date(m.msgTime).toLocaleString()}`}
              </Typography.Text>
              <div
                style={{
                  background: focus?.has(m.msgid) ? '#fff7e6' : external ? '#fff' : '#e6f4ff',
                  border: focus?.has(m.msgid) ? '1px solid #ffa940' : '1px solid #f0f0f0',
                  borderRadius: 8,
                  padding: '8px 12px',
                }}
              >
                {parsed ? (
                  <MessageBody message={parsed} ranges={highlights[m.msgid]} msgid={m.msgid} />
                ) : (
                  <Typography.Text type="secondary">{m.content.state}</Typography.Text>
                )}
              </div>
            </div>
          </div>
        );
      })}
    </Space>
  );
}
