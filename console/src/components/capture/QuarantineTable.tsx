import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { App, Button, Card, Table, Tag, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { get, post } from '../../api/client.js';
import type { QuarantinedEnvelope } from '../../api/types.js';
import { useSession } from '../../session.js';

/** Envelopes WeCom gave us that could not be archived (no key, failed decryption…): why, and a retry. */
export function QuarantineTable() {
  const { t } = useTranslation();
  const { corp, can } = useSession();
  const { message } = App.useApp();
  const client = useQueryClient();
  const items = useQuery({
    queryKey: ['quarantine', corp],
    queryFn: () => get<{ items: QuarantinedEnvelope[] }>(`/api/v1/corps/${corp}/quarantine?limit=500`),
  });
  const retry = useMutation({
    mutationFn: (msgid: string) =>
      post<{ msgid: string }>(`/api/v1/corps/${corp}/quarantine/${encodeURIComponent(msgid)}/retry`),
    onSuccess: async (r) => {
      void message.success(t('capture.retried', { msgid: r.msgid }));
      await client.invalidateQueries({ queryKey: ['quarantine', corp] });
      await client.invalidateQueries({ queryKey: ['capture-health', corp] });
    },
    onError: (e) => void message.error((e as Error).message),
  });
  return (
    <Card title={t('capture.quarantine')}>
      <Table<QuarantinedEnvelope>
        rowKey="msgid"
        size="small"
        loading={items.isLoading}
        dataSource={items.data?.items ?? []}
        locale={{ emptyText: t('capture.empty') }}
        pagination={{ pageSize: 20, hideOnSinglePage: true }}
        data-testid="quarantine"
        columns={[
          { title: 'seq', dataIndex: 'seq', width: 100 },
          {
            title: t('capture.msgid'),
            dataIndex: 'msgid',
            width: 260,
            render: (m: string) => <Typography.Text copyable>{m}</Typography.Text>,
          },
          {
            title: t('capture.state'),
            dataIndex: 'state',
            width: 110,
            render: (s: QuarantinedEnvelope['state']) => (
              <Tag color={s === 'held_key' ? 'orange' : 'red'}>{t(`capture.envelopes.${s}`)}</Tag>
            ),
          },
          {
            title: t('capture.keyVersion'),
            dataIndex: 'publickey_ver',
            width: 90,
            render: (v: number | null) => (v === null ? '—' : `v${v}`),
          },
          { title: t('capture.reason'), dataIndex: 'reason', render: (r: string | null) => r ?? '—' },
          ...(can('capture.manage')
            ? [
                {
                  title: '',
                  key: 'retry',
                  width: 90,
                  render: (_: unknown, r: QuarantinedEnvelope) => (
                    <Button
                      size="small"
                      loading={retry.isPending && retry.variables === r.msgid}
                      onClick={() => retry.mutate(r.msgid)}
                      data-testid={`retry-${r.msgid}`}
                    >
                      {t('capture.retry')}
                    </Button>
                  ),
                },
              ]
            : []),
        ]}
      />
    </Card>
  );
}
