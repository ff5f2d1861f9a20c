import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { App, Button, Card, Empty, Form, Input, List, Tag, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router-dom';
import { get, post } from '../api/client.js';
import type { Notice } from '../api/types.js';
import { useSession } from '../session.js';

/** Employee self-service: notices about me, the conversation each is about, and my appeals (申诉). */
export default function MyNotices() {
  const { t } = useTranslation();
  const { corp, can } = useSession();
  const navigate = useNavigate();
  const { message } = App.useApp();
  const client = useQueryClient();
  const [appealing, setAppealing] = useState<string | null>(null);
  const notices = useQuery({
    queryKey: ['notices', corp],
    queryFn: () => get<{ items: Notice[] }>(`/api/v1/corps/${corp}/me/notices`),
  });
  const appeal = useMutation({
    mutationFn: (v: { id: string; statement: string }) =>
      post(`/api/v1/corps/${corp}/me/notices/${v.id}/appeal`, { statement: v.statement }),
    onSuccess: async () => {
      setAppealing(null);
      await client.invalidateQueries({ queryKey: ['notices', corp] });
      void message.success(t('notices.submitted'));
    },
    onError: (e) => void message.error((e as Error).message),
  });
  return (
    <Card title={t('notices.title')}>
      {notices.data?.items.length === 0 && <Empty description={t('notices.none')} />}
      <List
        dataSource={notices.data?.items ?? []}
        renderItem={(n) => (
          <List.Item key={n.id} data-testid={`notice-${n.id}`}>
            <div style={{ width: '100%' }}>
              <Typography.Paragraph style={{ whiteSpace: 'pre-wrap' }}>{n.body}</Typography.Paragraph>
              {n.appeal ? (
                <Tag
                  color={
                    n.appeal.status === 'granted'
                      ? 'green'
                      : n.appeal.status === 'pending'
                        ? 'gold'
                        : 'default'
                  }
                >{`申诉 / appeal: ${n.appeal.status}`}</Tag>
              ) : appealing === n.id ? (
                <Form
                  layout="vertical"
                  onFinish={(v: { statement: string }) => appeal.mutate({ id: n.id, statement: v.statement })}
                >
                  <Form.Item name="statement" label={t('notices.statement')} rules={[{ required: true }]}>
                    <Input.TextArea rows={4} data-testid="appeal-statement" />
                  </Form.Item>
                  <Button
                    type="primary"
                    htmlType="submit"
                    loading={appeal.isPending}
                    data-testid="appeal-submit"
                  >
                    {t('notices.appeal')}
                  </Button>
                </Form>
              ) : (
                <Button onClick={() => setAppealing(n.id)} data-testid="appeal">
                  {t('notices.appeal')}
                </Button>
              )}
              {can('content.read') && (
                <Button
                  type="link"
                  onClick={() => navigate(`/conversations/${n.conversationId}`)}
                  data-testid={`notice-conversation-${n.id}`}
                >
                  {t('notices.openConversation')}
                </Button>
              )}
            </div>
          </List.Item>
        )}
      />
    </Card>
  );
}
