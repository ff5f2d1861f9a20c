import { useMutation } from '@tanstack/react-query';
import { Alert, App, Button, Card, Form, Input, InputNumber, List, Modal, Space, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, get, post } from '../api/client.js';
import type { Page } from '../api/types.js';
import { Highlighted, MessageBody } from '../components/MessageBody.js';
import { useSession } from '../session.js';

/** Archive search within the viewer's scope; when nothing is in scope, the grant request is right here. */
export default function Search() {
  const { t } = useTranslation();
  const { corp, can } = useSession();
  const { message } = App.useApp();
  const [q, setQ] = useState('');
  const [needGrant, setNeedGrant] = useState(false);
  const [requesting, setRequesting] = useState(false);
  const search = useMutation({
    mutationFn: (query: string) =>
      get<Page>(`/api/v1/corps/${corp}/messages/search?q=${encodeURIComponent(query)}&limit=50`),
    onMutate: () => setNeedGrant(false),
    onError: (e) => {
      if (e instanceof ApiError && e.code === 'out_of_scope') setNeedGrant(true);
      else void message.error((e as Error).message);
    },
  });
  const request = useMutation({
    mutationFn: (v: { reason: string; durationMinutes: number }) =>
      post(`/api/v1/corps/${corp}/grants`, { actions: ['search'], ...v }),
    onSuccess: () => {
      setRequesting(false);
      void message.success(t('search.requested'));
    },
    onError: (e) => void message.error((e as Error).message),
  });

  return (
    <Card title={t('nav.search')}>
      <Space direction="vertical" style={{ width: '100%' }}>
        <Input.Search
          aria-label={t('search.submit')}
          placeholder={t('search.placeholder')}
          enterButton={t('search.submit')}
          value={q}
          onChange={(e) => setQ(e.target.value)}
          onSearch={(v) => search.mutate(v)}
          loading={search.isPending}
          data-testid="search-input"
        />
        {needGrant && (
          <Alert
            type="warning"
            showIcon
            message={t('search.needGrant')}
            action={
              can('grants.request') && (
                <Button onClick={() => setRequesting(true)} data-testid="request-grant">
                  {t('search.request')}
                </Button>
              )
            }
          />
        )}
        {search.data && (
          <List
            data-testid="results"
            dataSource={search.data.items}
            locale={{ emptyText: t('search.none') }}
            renderItem={(m) => (
              <List.Item key={m.msgid} data-msgid={m.msgid}>
                <List.Item.Meta
                  title={`${m.senderId ?? '-'} · ${new Date(m.msgTime).toLocaleString()} · ${m.msgtype}`}
                  description={
                    m.highlight ? (
                      <Highlighted text={m.highlight.snippet} ranges={m.highlight.ranges} />
                    ) : m.content.state === 'ok' ? (
                      <MessageBody message={JSON.parse(m.content.raw) as Record<string, unknown>} />
                    ) : (
                      <Typography.Text type="secondary">{m.content.state}</Typography.Text>
                    )
                  }
                />
              </List.Item>
            )}
          />
        )}
      </Space>
      <Modal
        open={requesting}
        title={t('search.request')}
        footer={null}
        onCancel={() => setRequesting(false)}
        destroyOnHidden
      >
        <Form
          layout="vertical"
          initialValues={{ durationMinutes: 60 }}
          onFinish={(v: { reason: string; durationMinutes: number }) => request.mutate(v)}
        >
          <Form.Item name="reason" label={t('search.reason')} rules={[{ required: true, min: 10 }]}>
            <Input.TextArea rows={3} data-testid="grant-reason" />
          </Form.Item>
          <Form.Item name="durationMinutes" label={t('search.minutes')}>
            <InputNumber min={5} max={480} />
          </Form.Item>
          <Button type="primary" htmlType="submit" loading={request.isPending} data-testid="grant-submit">
            {t('search.request')}
          </Button>
        </Form>
      </Modal>
    </Card>
  );
}
