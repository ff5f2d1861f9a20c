import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  Alert,
  App,
  Button,
  Card,
  Col,
  Input,
  List,
  Row,
  Space,
  Switch,
  Table,
  Tag,
  Timeline,
  Typography,
} from 'antd';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, get, post, put } from '../api/client.js';
import { Highlighted } from '../components/MessageBody.js';
import { BacktestPanel } from '../components/policies/BacktestPanel.js';
import { useSession } from '../session.js';

interface Policy {
  id: number;
  key: string;
  name: string;
  enabled: boolean;
  currentVersion: number;
  corpId: number | null;
}
interface Version {
  version: number;
  document: unknown;
  source: string | null;
  author: string | null;
  comment: string | null;
  createdAt: string;
}
interface TestHit {
  ruleId: string;
  term: string;
  category: string;
  severity: string;
  start: number | null;
  end: number | null;
  matched: string;
  method: string;
}

/**
 * Policies and lexicons: edit with validation, a test bench, back-tests with measured precision,
 * enable/disable, version history.
 */
export default function Policies() {
  const { t } = useTranslation();
  const { corp } = useSession();
  const { message } = App.useApp();
  const client = useQueryClient();
  const [selected, setSelected] = useState<number | null>(null);
  const [source, setSource] = useState('');
  const [sample, setSample] = useState('');
  const [issues, setIssues] = useState<string | null>(null);
  const list = useQuery({
    queryKey: ['policies', corp],
    queryFn: () => get<{ items: Policy[] }>(`/api/v1/corps/${corp}/detection/policies`),
  });
  const detail = useQuery({
    queryKey: ['policy', corp, selected],
    queryFn: () =>
      get<Policy & { versions: Version[] }>(`/api/v1/corps/${corp}/detection/policies/${selected}`),
    enabled: selected !== null,
  });
  const current = detail.data?.versions.find((v) => v.version === detail.data?.currentVersion);
  useEffect(() => {
    if (current) setSource(current.source ?? JSON.stringify(current.document, null, 2));
  }, [current]);
  const describe = (e: unknown) =>
    e instanceof ApiError ? `${e.code}: ${e.message}` : String((e as Error).message);
  const save = useMutation({
    // JSON is YAML too: the editor always sends its text as yaml.
    mutationFn: () =>
      put(`/api/v1/corps/${corp}/detection/policies/${selected}`, {
        yaml: source,
        expectedVersion: detail.data?.currentVersion,
      }),
    onSuccess: async () => {
      setIssues(null);
      await client.invalidateQueries({ queryKey: ['policy', corp, selected] });
      void message.success(t('policies.saved'));
    },
    onError: (e) => setIssues(describe(e)),
  });
  const test = useMutation({
    mutationFn: () => post<{ hits: TestHit[] }>('/api/v1/detection/test', { yaml: source, text: sample }),
    onMutate: () => setIssues(null),
    onError: (e) => setIssues(describe(e)),
  });
  const toggle = useMutation({
    mutationFn: (p: Policy) =>
      post(`/api/v1/corps/${corp}/detection/policies/${p.id}/${p.enabled ? 'disable' : 'enable'}`),
    onSuccess: () => client.invalidateQueries({ queryKey: ['policies', corp] }),
  });

  return (
    <Row gutter={16}>
      <Col span={7}>
        <Card title={t('policies.title')}>
          <List
            loading={list.isLoading}
            dataSource={list.data?.items ?? []}
            renderItem={(p) => (
              <List.Item
                key={p.id}
                style={{
                  cursor: 'pointer',
                  background: p.id === selected ? '#e6f4ff' : undefined,
                  paddingInline: 8,
                }}
                onClick={() => setSelected(p.id)}
                data-testid={`policy-${p.key}`}
                actions={[
                  <Switch
                    key="on"
                    size="small"
                    checked={p.enabled}
                    onChange={() => toggle.mutate(p)}
                    aria-label={p.key}
                  />,
                ]}
              >
                <List.Item.Meta title={p.name} description={`${p.key} · v${p.currentVersion}`} />
              </List.Item>
            )}
          />
        </Card>
      </Col>
      <Col span={17}>
        {selected === null ? (
          <Card>{t('policies.pick')}</Card>
        ) : (
          <Space direction="vertical" style={{ width: '100%' }}>
            <Card
              title={`${detail.data?.name ?? ''} · v${detail.data?.currentVersion ?? ''}`}
              extra={
                <Button
                  type="primary"
                  onClick={() => save.mutate()}
                  loading={save.isPending}
                  data-testid="policy-save"
                >
                  {t('policies.save')}
                </Button>
              }
            >
              {issues && (
                <Alert
                  type="error"
                  showIcon
                  message={t('policies.invalid')}
                  description={issues}
                  style={{ marginBottom: 12 }}
                  data-testid="policy-issues"
                />
              )}
              <Input.TextArea
                value={source}
                onChange={(e) => setSource(e.target.value)}
                autoSize={{ minRows: 14, maxRows: 28 }}
                spellCheck={false}
                style={{ fontFamily: 'ui-monospace, Menlo, Consolas, monospace', fontSize: 13 }}
                data-testid="policy-source"
              />
            </Card>
            <Card title={t('policies.bench')}>
              <Space direction="vertical" style={{ width: '100%' }}>
                <Input.TextArea
                  rows={3}
                  value={sample}
                  onChange={(e) => setSample(e.target.value)}
                  placeholder={t('policies.samplePlaceholder')}
                  data-testid="bench-text"
                />
                <Button onClick={() => test.mutate()} loading={test.isPending} data-testid="bench-run">
                  {t('policies.run')}
                </Button>
                {test.data && (
                  <>
                    <Typography.Paragraph data-testid="bench-highlight">
                      <Highlighted
                        text={sample}
                        ranges={test.data.hits
                          .filter((h) => h.start !== null && h.end !== null)
                          .map((h) => ({ start: h.start!, end: h.end! }))
                          .sort((a, b) => a.start - b.start)
                          .filter((r, i, all) => i === 0 || r.start >= all[i - 1]!.end)}
                      />
                    </Typography.Paragraph>
                    <Table<TestHit>
                      size="small"
                      rowKey={(h, i) => `${h.ruleId}-${i}`}
                      dataSource={test.data.hits}
                      pagination={false}
                      data-testid="bench-hits"
                      columns={[
                        { title: t('policies.rule'), dataIndex: 'ruleId' },
                        { title: t('policies.term'), dataIndex: 'term' },
                        { title: t('policies.matched'), dataIndex: 'matched' },
                        {
                          title: t('policies.method'),
                          dataIndex: 'method',
                          render: (m: string) => <Tag>{m}</Tag>,
                        },
                        { title: t('alerts.severity'), dataIndex: 'severity' },
                      ]}
                    />
                  </>
                )}
              </Space>
            </Card>
            <BacktestPanel source={source} />
            <Card title={t('policies.history')}>
              <Timeline
                items={(detail.data?.versions ?? []).map((v) => ({
                  children: `v${v.version} · ${new Date(v.createdAt).toLocaleString()} · ${v.author ?? '-'}${v.comment ? ` · ${v.comment}` : ''}`,
                }))}
              />
            </Card>
          </Space>
        )}
      </Col>
    </Row>
  );
}
