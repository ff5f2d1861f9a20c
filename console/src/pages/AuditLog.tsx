import { useQuery } from '@tanstack/react-query';
import { Button, Card, DatePicker, Form, Input, Select, Space, Table, Tag, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { get } from '../api/client.js';
import type { AuditEvent } from '../api/types.js';
import { VerifyPanel } from '../components/audit/VerifyPanel.js';
import { useSession } from '../session.js';

interface Filters {
  actor?: string;
  action?: string;
  result?: AuditEvent['result'];
  since?: string;
  until?: string;
}

const RESULT_COLOR = { allowed: 'green', denied: 'orange', failed: 'red' } as const;
const PAGE_SIZE = 50;

/** The audit trail with filters and paging ('audit.read'), and its verification ('audit.verify'). */
export default function AuditLog() {
  const { t } = useTranslation();
  const { can } = useSession();
  return (
    <Space direction="vertical" style={{ width: '100%' }} size="middle">
      {can('audit.verify') && <VerifyPanel />}
      {can('audit.read') && (
        <Card title={t('audit.title')}>
          <AuditTable />
        </Card>
      )}
    </Space>
  );
}

function AuditTable() {
  const { t } = useTranslation();
  const [form] = Form.useForm();
  const [filters, setFilters] = useState<Filters>({});
  // Keyset paging: the `before` cursor of every page up to the current one.
  const [cursors, setCursors] = useState<string[]>([]);
  const before = cursors.at(-1);
  const events = useQuery({
    queryKey: ['audit-events', filters, before],
    queryFn: () => {
      const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
      for (const [k, v] of Object.entries(filters)) if (v) query.set(k, v);
      if (before) query.set('before', before);
      return get<{ items: AuditEvent[]; nextBefore: string | null }>(`/api/v1/audit/events?${query}`);
    },
  });
  const apply = (v: { actor?: string; action?: string; result?: Filters['result']; range?: unknown }) => {
    const range = v.range as [{ toISOString(): string } | null, { toISOString(): string } | null] | undefined;
    setFilters({
      actor: v.actor?.trim() || undefined,
      action: v.action?.trim() || undefined,
      result: v.result,
      since: range?.[0]?.toISOString(),
      until: range?.[1]?.toISOString(),
    });
    setCursors([]);
  };
  const next = events.data?.nextBefore;
  return (
    <Space direction="vertical" style={{ width: '100%' }}>
      <Form form={form} layout="inline" onFinish={apply} data-testid="audit-filters">
        <Form.Item name="actor" label={t('audit.actor')}>
          <Input placeholder={t('audit.actorPlaceholder')} allowClear data-testid="audit-actor" />
        </Form.Item>
        <Form.Item name="action" label={t('audit.action')}>
          <Input placeholder={t('audit.actionPlaceholder')} allowClear data-testid="audit-action" />
        </Form.Item>
        <Form.Item name="result" label={t('audit.result')}>
          <Select
            allowClear
            style={{ width: 110 }}
            data-testid="audit-result"
            options={(['allowed', 'denied', 'failed'] as const).map((r) => ({
              value: r,
              label: t(`audit.results.${r}`),
            }))}
          />
        </Form.Item>
        <Form.Item name="range" label={t('audit.time')}>
          <DatePicker.RangePicker showTime data-testid="audit-range" />
        </Form.Item>
        <Space>
          <Button type="primary" htmlType="submit" data-testid="audit-search">
            {t('audit.search')}
          </Button>
          <Button
            onClick={() => {
              form.resetFields();
              apply({});
            }}
          >
            {t('audit.reset')}
          </Button>
        </Space>
      </Form>
      <Table<AuditEvent>
        rowKey="seq"
        size="small"
        loading={events.isFetching}
        dataSource={events.data?.items ?? []}
        pagination={false}
        scroll={{ y: 560 }}
        data-testid="audit-table"
        expandable={{
          rowExpandable: (e) => Object.keys(e.details).length > 0,
          expandedRowRender: (e) => (
            <pre style={{ margin: 0, whiteSpace: 'pre-wrap' }}>{JSON.stringify(e.details, null, 2)}</pre>
          ),
        }}
        columns={[
          { title: '#', dataIndex: 'seq', width: 80 },
          {
            title: t('audit.time'),
            dataIndex: 'occurredAt',
            width: 170,
            render: (d: string) => new Date(d).toLocaleString(),
          },
          { title: t('audit.actor'), dataIndex: 'actor', width: 120 },
          { title: t('audit.ip'), dataIndex: 'actorIp', width: 110 },
          { title: t('audit.action'), dataIndex: 'action', width: 170 },
          {
            title: t('audit.result'),
            dataIndex: 'result',
            width: 80,
            render: (r: AuditEvent['result']) => <Tag color={RESULT_COLOR[r]}>{t(`audit.results.${r}`)}</Tag>,
          },
          {
            title: t('audit.resource'),
            key: 'resource',
            width: 150,
            render: (_, e) =>
              e.resourceType ? `${e.resourceType} ${e.resourceIds.map((id) => `#${id}`).join(' ')}` : '',
          },
          {
            title: t('audit.details'),
            key: 'details',
            ellipsis: true,
            render: (_, e) => (
              <Typography.Text type="secondary">
                {e.reason ?? (Object.keys(e.details).length ? JSON.stringify(e.details) : '')}
              </Typography.Text>
            ),
          },
        ]}
      />
      <Space>
        <Button
          disabled={!cursors.length}
          onClick={() => setCursors(cursors.slice(0, -1))}
          data-testid="audit-prev"
        >
          {t('audit.prev')}
        </Button>
        <Typography.Text data-testid="audit-page">
          {t('audit.page', { n: cursors.length + 1 })}
        </Typography.Text>
        <Button
          disabled={!next}
          onClick={() => next && setCursors([...cursors, next])}
          data-testid="audit-next"
        >
          {t('audit.next')}
        </Button>
      </Space>
    </Space>
  );
}
