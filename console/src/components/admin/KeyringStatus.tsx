import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  Alert,
  App,
  Button,
  Card,
  Descriptions,
  Popconfirm,
  Progress,
  Space,
  Table,
  Tag,
  Typography,
} from 'antd';
import type { HTMLAttributes } from 'react';
import { useTranslation } from 'react-i18next';
import { get, post } from '../../api/client.js';
import type { KeyStatus, RotationJob } from './settings-types.js';

const statusKey = ['keys', 'status'] as const;
const unfinished = (job: RotationJob | null | undefined) =>
  job?.status === 'queued' || job?.status === 'running';

/**
 * Keyring backend, KEK versions and how many data keys each wraps, per corp too, and rotation as a
 * background job with its progress. Metadata only: the API never returns key material.
 */
export function KeyringStatus() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const client = useQueryClient();
  const status = useQuery({
    queryKey: statusKey,
    queryFn: () => get<KeyStatus>('/api/v1/keys/status'),
    refetchInterval: (query) => (unfinished(query.state.data?.rotation) ? 1000 : false),
  });
  const rotate = useMutation({
    mutationFn: () => post<{ kekVersion: number; rotation: RotationJob }>('/api/v1/keys/rotate', {}),
    onSuccess: async (r) => {
      void message.success(t('admin.keys.rotationStarted', { version: r.kekVersion }));
      await client.invalidateQueries({ queryKey: statusKey });
    },
    onError: (e) => void message.error((e as Error).message),
  });
  const s = status.data;
  if (!s) return <Card loading={status.isLoading}>{status.error ? String(status.error) : null}</Card>;
  const job = s.rotation;
  const versions = [...new Set(s.corps.flatMap((c) => c.versions.map((v) => v.kekVersion)))].sort(
    (a, b) => a - b,
  );
  const totalLive = s.versions.reduce((n, v) => n + v.deks, 0);
  const percent = (done: number, total: number) => (total === 0 ? 100 : Math.floor((done / total) * 100));

  return (
    <Space direction="vertical" size="large" style={{ width: '100%' }}>
      <Descriptions bordered size="small" column={2}>
        <Descriptions.Item label={t('admin.keys.provider')}>
          <span data-testid="keys-provider">{t(`admin.keys.providers.${s.provider}`, s.provider)}</span>
        </Descriptions.Item>
        <Descriptions.Item label={t('admin.keys.current')}>
          <span data-testid="keys-current">v{s.current}</span>
        </Descriptions.Item>
        <Descriptions.Item label={t('admin.keys.pending')}>
          <span data-testid="keys-pending">{s.pendingRewrap}</span>
        </Descriptions.Item>
        <Descriptions.Item label={t('admin.keys.destroyedScopes')}>{s.destroyedScopes}</Descriptions.Item>
      </Descriptions>

      <Card
        size="small"
        title={t('admin.keys.rotation')}
        extra={
          <Popconfirm
            title={t('admin.keys.rotateConfirm')}
            okText={t('admin.keys.rotate')}
            onConfirm={() => rotate.mutate()}
          >
            <Button
              type="primary"
              danger
              loading={rotate.isPending}
              disabled={unfinished(job)}
              data-testid="keys-rotate"
            >
              {t('admin.keys.rotate')}
            </Button>
          </Popconfirm>
        }
      >
        <Typography.Paragraph type="secondary">{t('admin.keys.rotationHelp')}</Typography.Paragraph>
        {job ? (
          <div data-testid="keys-rotation">
            <Space>
              <span>{t('admin.keys.job', { id: job.jobId })}</span>
              <Tag
                color={job.status === 'succeeded' ? 'green' : job.status === 'failed' ? 'red' : 'blue'}
                data-testid="keys-rotation-status"
              >
                {t(`admin.keys.jobStatus.${job.status}`)}
              </Tag>
              <span>{new Date(job.finishedAt ?? job.createdAt).toLocaleString()}</span>
            </Space>
            <Progress
              aria-label={t('admin.keys.rotation')}
              percent={
                job.status === 'succeeded'
                  ? 100
                  : percent(job.progress?.done ?? 0, job.progress?.total ?? Math.max(s.pendingRewrap, 1))
              }
              status={job.status === 'failed' ? 'exception' : unfinished(job) ? 'active' : undefined}
            />
            {job.progress?.message && (
              <Typography.Text type="secondary">{job.progress.message}</Typography.Text>
            )}
            {job.lastError && <Alert type="error" showIcon message={job.lastError} />}
          </div>
        ) : (
          <Typography.Text type="secondary">{t('admin.keys.noRotation')}</Typography.Text>
        )}
      </Card>

      <Table
        size="small"
        rowKey="version"
        pagination={false}
        dataSource={s.versions}
        title={() => t('admin.keys.versions')}
        onRow={(v) => ({ 'data-testid': `kek-row-${v.version}` }) as HTMLAttributes<HTMLElement>}
        columns={[
          { title: t('admin.keys.version'), dataIndex: 'version', render: (v: number) => `v${v}` },
          {
            title: t('admin.state'),
            render: (_: unknown, v: KeyStatus['versions'][number]) =>
              v.current ? (
                <Tag color="green">{t('admin.keys.active')}</Tag>
              ) : (
                <Tag color={v.state === 'destroyed' ? 'red' : 'default'}>
                  {t(`admin.keys.states.${v.state}`, v.state)}
                </Tag>
              ),
          },
          {
            title: t('admin.keys.created'),
            dataIndex: 'createdAt',
            render: (at: string | null) => (at ? new Date(at).toLocaleString() : '—'),
          },
          {
            title: t('admin.keys.deks'),
            dataIndex: 'deks',
            render: (n: number) => `${n} (${percent(n, totalLive)}%)`,
          },
        ]}
      />

      <Table
        size="small"
        rowKey="corpId"
        pagination={false}
        dataSource={s.corps}
        title={() => t('admin.keys.byCorp')}
        onRow={(c) => ({ 'data-testid': `keys-corp-${c.slug ?? c.corpId}` }) as HTMLAttributes<HTMLElement>}
        columns={[
          { title: t('admin.corp'), render: (_: unknown, c) => c.name ?? c.slug ?? `#${c.corpId}` },
          ...versions.map((version) => ({
            title: `v${version}`,
            key: `v${version}`,
            render: (_: unknown, c: KeyStatus['corps'][number]) =>
              c.versions.find((v) => v.kekVersion === version)?.deks ?? 0,
          })),
          {
            title: t('admin.keys.rewrapped'),
            key: 'rewrapped',
            render: (_: unknown, c) => {
              const live = c.versions.reduce((n, v) => n + v.deks, 0);
              return (
                <Progress
                  aria-label={t('admin.keys.rewrapped')}
                  size="small"
                  percent={percent(live - c.pending, live)}
                  format={(p) => `${p}%`}
                />
              );
            },
          },
          { title: t('admin.keys.destroyedScopes'), dataIndex: 'destroyed' },
        ]}
      />
    </Space>
  );
}
