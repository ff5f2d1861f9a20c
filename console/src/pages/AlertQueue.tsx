import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { App, Button, Card, Select, Space, Table, Tag, Typography } from 'antd';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router-dom';
import { get, post } from '../api/client.js';
import type { Alert } from '../api/types.js';
import { useSession } from '../session.js';

export const SEVERITY_COLOR = { low: 'default', medium: 'blue', high: 'orange', critical: 'red' } as const;

/** The reviewer's queue: filters, bulk claim, keyboard navigation; rows are virtualised by antd. */
export default function AlertQueue() {
  const { t } = useTranslation();
  const { corp } = useSession();
  const navigate = useNavigate();
  const { message } = App.useApp();
  const client = useQueryClient();
  const [status, setStatus] = useState<string[]>(['open', 'in_review', 'awaiting_second', 'escalated']);
  const [mine, setMine] = useState(false);
  const [selected, setSelected] = useState<string[]>([]);
  const [cursor, setCursor] = useState(0);
  const query = new URLSearchParams({
    limit: '500',
    ...(status.length ? { status: status.join(',') } : {}),
    ...(mine ? { assignee: 'me' } : {}),
  });
  const alerts = useQuery({
    queryKey: ['alerts', corp, status, mine],
    queryFn: () => get<{ items: Alert[] }>(`/api/v1/corps/${corp}/review/alerts?${query}`),
  });
  const claim = useMutation({
    mutationFn: (ids: string[]) => post(`/api/v1/corps/${corp}/review/alerts/claim`, { ids }),
    onSuccess: async () => {
      setSelected([]);
      await client.invalidateQueries({ queryKey: ['alerts'] });
      void message.success(t('alerts.claim'));
    },
    onError: (e) => void message.error(String((e as Error).message)),
  });
  const rows = alerts.data?.items ?? [];

  // J/K move, Enter opens, C claims the current row.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.target as HTMLElement).closest('input, textarea, [contenteditable]')) return;
      if (e.key === 'j') setCursor((c) => Math.min(c + 1, rows.length - 1));
      if (e.key === 'k') setCursor((c) => Math.max(c - 1, 0));
      if (e.key === 'Enter' && rows[cursor]) navigate(`/review/alerts/${rows[cursor].id}`);
      if (e.key === 'c' && rows[cursor]) claim.mutate([rows[cursor].id]);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [rows, cursor, navigate, claim]);

  return (
    <Card
      title={t('alerts.queue')}
      extra={
        <Space>
          <Select
            mode="multiple"
            aria-label={t('alerts.status')}
            style={{ minWidth: 320 }}
            value={status}
            onChange={setStatus}
            options={['open', 'in_review', 'awaiting_second', 'escalated', 'closed'].map((s) => ({
              value: s,
              label: t(`status.${s}`),
            }))}
          />
          <Button type={mine ? 'primary' : 'default'} onClick={() => setMine(!mine)}>
            {t('alerts.mine')}
          </Button>
          <Button disabled={!selected.length} onClick={() => claim.mutate(selected)} data-testid="bulk-claim">
            {t('alerts.claim')} {selected.length ? `(${selected.length})` : ''}
          </Button>
        </Space>
      }
    >
      <Typography.Paragraph type="secondary">{t('alerts.shortcuts')}</Typography.Paragraph>
      <Table<Alert>
        rowKey="id"
        size="small"
        loading={alerts.isLoading}
        dataSource={rows}
        virtual
        scroll={{ y: 600 }}
        pagination={false}
        rowSelection={{
          selectedRowKeys: selected,
          onChange: (keys) => setSelected(keys as string[]),
          getCheckboxProps: (r) => ({ title: `#${r.id}`, 'aria-label': `#${r.id}` }),
        }}
        rowClassName={(_, i) => (i === cursor ? 'ant-table-row-selected' : '')}
        onRow={(r) => ({ onDoubleClick: () => navigate(`/review/alerts/${r.id}`) })}
        columns={[
          { title: '#', dataIndex: 'id', width: 80 },
          {
            title: t('alerts.severity'),
            dataIndex: 'severity',
            width: 90,
            render: (s: Alert['severity']) => <Tag color={SEVERITY_COLOR[s]}>{t(`severity.${s}`)}</Tag>,
          },
          { title: t('alerts.category'), dataIndex: 'category', width: 160 },
          {
            title: t('alerts.status'),
            dataIndex: 'status',
            width: 110,
            render: (s: string) => t(`status.${s}`),
          },
          { title: t('alerts.priority'), dataIndex: 'priority', width: 90 },
          {
            title: t('alerts.due'),
            dataIndex: 'resolutionDue',
            width: 170,
            render: (d: string, r) => (
              <Typography.Text type={r.breached ? 'danger' : undefined}>
                {new Date(d).toLocaleString()}
              </Typography.Text>
            ),
          },
          {
            title: '',
            key: 'open',
            width: 80,
            render: (_, r) => (
              <Button size="small" onClick={() => navigate(`/review/alerts/${r.id}`)}>
                {t('alerts.open')}
              </Button>
            ),
          },
        ]}
      />
    </Card>
  );
}
