import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { App, Button, Card, Form, Input, Modal, Segmented, Select, Space, Table } from 'antd';
import type { ButtonProps } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router-dom';
import { get, post } from '../api/client.js';
import type { Case } from '../api/types.js';
import { CaseTags } from '../components/cases/CaseTags.js';
import { useSession } from '../session.js';

type StatusFilter = 'all' | 'open' | 'closed';

/** Investigations (案件): status and legal hold at a glance; reviewers open new ones. */
export default function Cases() {
  const { t } = useTranslation();
  const { corp, can } = useSession();
  const navigate = useNavigate();
  const [status, setStatus] = useState<StatusFilter>('open');
  const [creating, setCreating] = useState(false);
  const cases = useQuery({
    queryKey: ['cases', corp, status],
    queryFn: () =>
      get<{ items: Case[] }>(
        `/api/v1/corps/${corp}/review/cases${status === 'all' ? '' : `?status=${status}`}`,
      ),
  });
  return (
    <Card
      title={t('cases.title')}
      extra={
        <Space>
          <Segmented<StatusFilter>
            value={status}
            onChange={setStatus}
            options={[
              { value: 'open', label: t('cases.open') },
              { value: 'closed', label: t('cases.closed') },
              { value: 'all', label: t('cases.all') },
            ]}
          />
          {can('review.decide') && (
            <Button type="primary" onClick={() => setCreating(true)} data-testid="case-create">
              {t('cases.create')}
            </Button>
          )}
        </Space>
      }
    >
      <Table<Case>
        rowKey="id"
        size="small"
        loading={cases.isLoading}
        dataSource={cases.data?.items ?? []}
        locale={{ emptyText: t('cases.none') }}
        pagination={{ pageSize: 20, hideOnSinglePage: true }}
        onRow={(c) => ({ onDoubleClick: () => navigate(`/review/cases/${c.id}`) })}
        columns={[
          { title: '#', dataIndex: 'id', width: 70 },
          { title: t('cases.caseTitle'), dataIndex: 'title' },
          {
            title: t('cases.status'),
            key: 'status',
            width: 200,
            render: (_, c) => <CaseTags value={c} />,
          },
          { title: t('cases.alerts'), key: 'alerts', width: 100, render: (_, c) => c.alertIds.length },
          {
            title: t('cases.createdAt'),
            dataIndex: 'createdAt',
            width: 180,
            render: (d: string) => new Date(d).toLocaleString(),
          },
          {
            title: '',
            key: 'open',
            width: 80,
            render: (_, c) => (
              <Button
                size="small"
                onClick={() => navigate(`/review/cases/${c.id}`)}
                data-testid={`case-${c.id}`}
              >
                {t('cases.view')}
              </Button>
            ),
          },
        ]}
      />
      <CreateCase open={creating} onClose={() => setCreating(false)} />
    </Card>
  );
}

function CreateCase({ open, onClose }: { open: boolean; onClose(): void }) {
  const { t } = useTranslation();
  const { corp } = useSession();
  const { message } = App.useApp();
  const navigate = useNavigate();
  const client = useQueryClient();
  const [form] = Form.useForm<{ title: string; alertIds?: string[] }>();
  const create = useMutation({
    mutationFn: (v: { title: string; alertIds?: string[] }) =>
      post<Case>(`/api/v1/corps/${corp}/review/cases`, { title: v.title, alertIds: v.alertIds ?? [] }),
    onSuccess: async (created) => {
      await client.invalidateQueries({ queryKey: ['cases', corp] });
      form.resetFields();
      onClose();
      navigate(`/review/cases/${created.id}`);
    },
    onError: (e) => void message.error((e as Error).message),
  });
  return (
    <Modal
      open={open}
      title={t('cases.create')}
      onCancel={onClose}
      onOk={() => form.submit()}
      confirmLoading={create.isPending}
      okButtonProps={{ 'data-testid': 'case-create-submit' } as ButtonProps}
      destroyOnHidden
    >
      <Form form={form} layout="vertical" onFinish={(v) => create.mutate(v)}>
        <Form.Item name="title" label={t('cases.caseTitle')} rules={[{ required: true, max: 200 }]}>
          <Input data-testid="case-title" />
        </Form.Item>
        <Form.Item
          name="alertIds"
          label={t('cases.alertIds')}
          extra={t('cases.alertIdsHint')}
          rules={[
            {
              validator: (_, v?: string[]) =>
                !v || v.every((x) => /^\d+$/.test(x)) ? Promise.resolve() : Promise.reject(new Error('#')),
            },
          ]}
        >
          <Select mode="tags" open={false} tokenSeparators={[',', ' ']} data-testid="case-alerts" />
        </Form.Item>
      </Form>
    </Modal>
  );
}
