import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { App, Button, Card, Space, Table, Tag } from 'antd';
import { useTranslation } from 'react-i18next';
import { get, post } from '../api/client.js';
import type { Grant } from '../api/types.js';
import { useSession } from '../session.js';

/** Access grants: one's own requests, and for leads the approvals (never one's own). */
export default function Grants() {
  const { t } = useTranslation();
  const { corp, can, me } = useSession();
  const { message } = App.useApp();
  const client = useQueryClient();
  const grants = useQuery({
    queryKey: ['grants', corp],
    queryFn: () => get<{ items: Grant[] }>(`/api/v1/corps/${corp}/grants`),
  });
  const act = useMutation({
    mutationFn: ({ id, verb }: { id: string; verb: 'approve' | 'reject' | 'revoke' }) =>
      post(`/api/v1/corps/${corp}/grants/${id}/${verb}`, {}),
    onSuccess: () => client.invalidateQueries({ queryKey: ['grants', corp] }),
    onError: (e) => void message.error((e as Error).message),
  });
  return (
    <Card title={t('grants.title')}>
      <Table<Grant>
        rowKey="id"
        size="small"
        loading={grants.isLoading}
        dataSource={grants.data?.items ?? []}
        pagination={{ pageSize: 20 }}
        columns={[
          { title: '#', dataIndex: 'id', width: 70 },
          { title: t('grants.requester'), dataIndex: 'requesterId', width: 100 },
          {
            title: t('grants.actions'),
            dataIndex: 'actions',
            render: (a: string[]) => a.map((x) => <Tag key={x}>{x}</Tag>),
          },
          { title: t('grants.reason'), dataIndex: 'reason' },
          {
            title: t('grants.status'),
            dataIndex: 'status',
            render: (s: string, g) => (
              <Space>
                <Tag color={s === 'active' ? 'green' : s === 'pending' ? 'gold' : 'default'}>{s}</Tag>
                {g.breakGlass && <Tag color="red">break-glass</Tag>}
              </Space>
            ),
          },
          {
            title: '',
            key: 'actions',
            render: (_, g) => (
              <Space>
                {can('grants.approve') && g.status === 'pending' && g.requesterId !== me.user.id && (
                  <>
                    <Button
                      size="small"
                      type="primary"
                      onClick={() => act.mutate({ id: g.id, verb: 'approve' })}
                      data-testid={`approve-${g.id}`}
                    >
                      {t('grants.approve')}
                    </Button>
                    <Button size="small" danger onClick={() => act.mutate({ id: g.id, verb: 'reject' })}>
                      {t('grants.reject')}
                    </Button>
                  </>
                )}
                {(g.status === 'active' || g.status === 'pending') &&
                  (g.requesterId === me.user.id || can('grants.approve')) && (
                    <Button size="small" onClick={() => act.mutate({ id: g.id, verb: 'revoke' })}>
                      {t('grants.revoke')}
                    </Button>
                  )}
              </Space>
            ),
          },
        ]}
      />
    </Card>
  );
}
