import { useMutation, useQuery } from '@tanstack/react-query';
import {
  Alert,
  Button,
  Card,
  DatePicker,
  InputNumber,
  Progress,
  Radio,
  Space,
  Table,
  Tag,
  Typography,
} from 'antd';
import type { Dayjs } from 'dayjs';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, get, post } from '../../api/client.js';
import { useSession } from '../../session.js';

interface RuleSummary {
  ruleId: string;
  name: string;
  category: string;
  severity: string;
  hits: number;
  messages: number;
  examples: string[];
  precision: number | null;
}
interface TermSummary {
  ruleId: string;
  term: string;
  hits: number;
}
interface Backtest {
  id: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  progress: { done: number; total?: number } | null;
  result: {
    messages: number;
    unreadable: number;
    hits: number;
    findings: number;
    rules: RuleSummary[];
    terms: TermSummary[];
  } | null;
  error: string | null;
}

type ScopeKind = 'sample' | 'range' | 'all';

/**
 * Back-tests the editor's text (saved or not) against the archive as a background job: progress
 * while it runs, then hits per rule and per term and each rule's measured precision — the share
 * of its reviewed alerts that reviewers confirmed — before the policy goes live.
 */
export function BacktestPanel({ source }: { source: string }) {
  const { t } = useTranslation();
  const { corp } = useSession();
  const [kind, setKind] = useState<ScopeKind>('sample');
  const [sample, setSample] = useState(10_000);
  const [range, setRange] = useState<[Dayjs | null, Dayjs | null] | null>(null);
  const [id, setId] = useState<string>();

  const start = useMutation({
    mutationFn: () =>
      post<{ id: string }>(`/api/v1/corps/${corp}/detection/backtests`, {
        yaml: source,
        scope:
          kind === 'all'
            ? { all: true }
            : kind === 'sample'
              ? { sample }
              : { from: range?.[0]?.toISOString(), to: range?.[1]?.toISOString() },
      }),
    onSuccess: (r) => setId(r.id),
  });
  const run = useQuery({
    queryKey: ['backtest', corp, id],
    enabled: id !== undefined,
    queryFn: () => get<Backtest>(`/api/v1/corps/${corp}/detection/backtests/${id}`),
    refetchInterval: (q) =>
      q.state.data && ['succeeded', 'failed'].includes(q.state.data.status) ? false : 1000,
  });
  const b = run.data;
  const percent = b?.progress?.total ? Math.round((100 * b.progress.done) / b.progress.total) : undefined;

  return (
    <Card title={t('backtest.title')}>
      <Space direction="vertical" style={{ width: '100%' }}>
        <Space wrap>
          <Radio.Group
            aria-label={t('backtest.scope')}
            value={kind}
            onChange={(e) => setKind(e.target.value as ScopeKind)}
            options={(['sample', 'range', 'all'] as const).map((k) => ({
              value: k,
              label: t(`backtest.${k}`),
            }))}
          />
          {kind === 'sample' && (
            <InputNumber
              aria-label={t('backtest.sample')}
              min={1}
              max={1_000_000}
              value={sample}
              onChange={(v) => setSample(v ?? 10_000)}
            />
          )}
          {kind === 'range' && (
            <DatePicker.RangePicker
              aria-label={t('backtest.range')}
              showTime
              value={range}
              onChange={setRange}
            />
          )}
          <Button
            onClick={() => start.mutate()}
            loading={start.isPending}
            disabled={kind === 'range' && !range?.[0]}
            data-testid="backtest-run"
          >
            {t('backtest.run')}
          </Button>
        </Space>
        {start.error && (
          <Alert
            type="error"
            showIcon
            message={
              start.error instanceof ApiError
                ? `${start.error.code}: ${start.error.message}`
                : start.error.message
            }
          />
        )}
        {b && b.status !== 'succeeded' && b.status !== 'failed' && (
          <Space data-testid="backtest-progress">
            <Tag>{t(`backtest.status.${b.status}`)}</Tag>
            {percent !== undefined ? (
              <Progress percent={percent} size="small" style={{ width: 240 }} />
            ) : (
              <Typography.Text type="secondary">{b.progress?.done ?? 0}</Typography.Text>
            )}
          </Space>
        )}
        {b?.status === 'failed' && <Alert type="error" showIcon message={b.error} />}
        {b?.result && <BacktestResult result={b.result} />}
      </Space>
    </Card>
  );
}

function BacktestResult({ result }: { result: NonNullable<Backtest['result']> }) {
  const { t } = useTranslation();
  return (
    <Space direction="vertical" style={{ width: '100%' }} data-testid="backtest-result">
      <Typography.Text>
        {t('backtest.summary', {
          messages: result.messages,
          hits: result.hits,
          findings: result.findings,
          unreadable: result.unreadable,
        })}
      </Typography.Text>
      <Table<RuleSummary>
        size="small"
        rowKey="ruleId"
        pagination={false}
        dataSource={result.rules}
        data-testid="backtest-rules"
        columns={[
          { title: t('policies.rule'), dataIndex: 'name', render: (n: string, r) => n || r.ruleId },
          { title: t('alerts.category'), dataIndex: 'category' },
          { title: t('alerts.severity'), dataIndex: 'severity' },
          { title: t('backtest.hits'), dataIndex: 'hits', align: 'right' },
          { title: t('backtest.messages'), dataIndex: 'messages', align: 'right' },
          {
            title: t('backtest.precision'),
            dataIndex: 'precision',
            align: 'right',
            render: (p: number | null) => (p === null ? t('backtest.noReviews') : `${(p * 100).toFixed(0)}%`),
          },
          {
            title: t('backtest.examples'),
            dataIndex: 'examples',
            render: (ids: string[]) => <Typography.Text type="secondary">{ids.join(', ')}</Typography.Text>,
          },
        ]}
      />
      <Table<TermSummary>
        size="small"
        rowKey={(r) => `${r.ruleId}/${r.term}`}
        pagination={{ pageSize: 10, hideOnSinglePage: true }}
        dataSource={result.terms}
        columns={[
          { title: t('policies.rule'), dataIndex: 'ruleId' },
          { title: t('policies.term'), dataIndex: 'term' },
          { title: t('backtest.hits'), dataIndex: 'hits', align: 'right' },
        ]}
      />
    </Space>
  );
}
