import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  Alert,
  App,
  Button,
  Card,
  Col,
  Form,
  Input,
  Popconfirm,
  Progress,
  Row,
  Space,
  Statistic,
  Table,
  Tag,
  Typography,
} from 'antd';
import { useTranslation } from 'react-i18next';
import { get, post } from '../api/client.js';
import type { Coverage, PrivacyNotice } from '../api/self-service.js';
import { useSession } from '../session.js';

interface PublishForm {
  title: string;
  body: string;
  titleEn?: string;
  bodyEn?: string;
  effectiveOn?: string;
}

/**
 * The monitoring notice for privacy officers and compliance leads ('privacy.manage'): publish a
 * new version (immutable once published), the versions so far, and who has not acknowledged the
 * version in force.
 */
export default function PrivacyNotices() {
  const { t } = useTranslation();
  const { corp } = useSession();
  const { message } = App.useApp();
  const client = useQueryClient();
  const [form] = Form.useForm<PublishForm>();
  const notices = useQuery({
    queryKey: ['privacy-notices', corp],
    queryFn: () =>
      get<{ items: Array<PrivacyNotice & { acknowledgements: number }>; current: number | null }>(
        `/api/v1/corps/${corp}/privacy/notices`,
      ),
  });
  const coverage = useQuery({
    queryKey: ['privacy-coverage', corp],
    queryFn: () => get<Coverage>(`/api/v1/corps/${corp}/privacy/coverage`),
  });
  const publish = useMutation({
    mutationFn: (v: PublishForm) =>
      post<PrivacyNotice>(`/api/v1/corps/${corp}/privacy/notices`, {
        title: v.title,
        body: v.body,
        ...(v.titleEn ? { titleEn: v.titleEn } : {}),
        ...(v.bodyEn ? { bodyEn: v.bodyEn } : {}),
        ...(v.effectiveOn ? { effectiveOn: v.effectiveOn } : {}),
      }),
    onSuccess: async (published) => {
      form.resetFields();
      await client.invalidateQueries({ queryKey: ['privacy-notices', corp] });
      await client.invalidateQueries({ queryKey: ['privacy-coverage', corp] });
      await client.invalidateQueries({ queryKey: ['privacy-notice', corp] });
      void message.success(t('privacy.admin.published', { version: published.version }));
    },
    onError: (e) => void message.error((e as Error).message),
  });
  const cov = coverage.data;
  const current = notices.data?.current ?? null;

  return (
    <Space direction="vertical" style={{ width: '100%' }} size="large">
      <Card title={t('privacy.admin.coverage')} loading={coverage.isLoading} data-testid="privacy-coverage">
        {cov && cov.version === null && (
          <Alert type="warning" showIcon message={t('privacy.admin.noNotice')} />
        )}
        {cov && (
          <>
            <Row gutter={24} style={{ margin: '16px 0' }}>
              <Col span={6}>
                <Statistic title={t('privacy.admin.employees')} value={cov.employees} />
              </Col>
              <Col span={6}>
                <Statistic
                  title={t('privacy.admin.acked')}
                  value={cov.acknowledged}
                  valueStyle={{ color: '#389e0d' }}
                />
              </Col>
              <Col span={6}>
                <div data-testid="coverage-pending">
                  <Statistic
                    title={t('privacy.admin.pending')}
                    value={cov.pending}
                    valueStyle={{ color: cov.pending ? '#cf1322' : undefined }}
                  />
                </div>
              </Col>
              <Col span={6}>
                <Progress
                  type="circle"
                  size={72}
                  percent={cov.employees ? Math.floor((cov.acknowledged / cov.employees) * 100) : 0}
                />
              </Col>
            </Row>
            <Typography.Title level={5}>{t('privacy.admin.pendingList')}</Typography.Title>
            <Table
              rowKey="userid"
              size="small"
              dataSource={cov.missing}
              pagination={{ pageSize: 20 }}
              data-testid="coverage-missing"
              columns={[
                { title: t('privacy.admin.employee'), dataIndex: 'name' },
                { title: 'userid', dataIndex: 'userid' },
                { title: t('privacy.admin.department'), dataIndex: 'department' },
                {
                  title: t('privacy.admin.account'),
                  dataIndex: 'hasAccount',
                  render: (has: boolean) =>
                    has ? (
                      <Tag color="blue">{t('privacy.admin.hasAccount')}</Tag>
                    ) : (
                      <Tag>{t('privacy.admin.noAccount')}</Tag>
                    ),
                },
              ]}
            />
            {cov.truncated && (
              <Typography.Text type="secondary">
                {t('privacy.admin.truncated', { n: cov.missing.length })}
              </Typography.Text>
            )}
          </>
        )}
      </Card>

      <Card title={t('privacy.admin.publish')}>
        <Alert type="info" showIcon message={t('privacy.admin.immutable')} style={{ marginBottom: 16 }} />
        <Form<PublishForm> form={form} layout="vertical" onFinish={(v) => publish.mutate(v)}>
          <Form.Item
            name="title"
            label={t('privacy.admin.titleLabel')}
            rules={[{ required: true, max: 200 }]}
          >
            <Input data-testid="privacy-publish-title" />
          </Form.Item>
          <Form.Item
            name="body"
            label={t('privacy.admin.bodyLabel')}
            rules={[{ required: true, max: 50000 }]}
          >
            <Input.TextArea rows={8} data-testid="privacy-publish-body" />
          </Form.Item>
          <Form.Item name="titleEn" label={t('privacy.admin.titleEn')} rules={[{ max: 200 }]}>
            <Input />
          </Form.Item>
          <Form.Item name="bodyEn" label={t('privacy.admin.bodyEn')} rules={[{ max: 50000 }]}>
            <Input.TextArea rows={4} />
          </Form.Item>
          <Form.Item
            name="effectiveOn"
            label={t('privacy.admin.effectiveOn')}
            extra={t('privacy.admin.effectiveHint')}
          >
            <Input type="date" style={{ width: 200 }} data-testid="privacy-publish-effective" />
          </Form.Item>
          <Popconfirm
            title={t('privacy.admin.confirm')}
            okText={t('privacy.admin.confirmOk')}
            onConfirm={() => form.submit()}
          >
            <Button type="primary" loading={publish.isPending} data-testid="privacy-publish">
              {t('privacy.admin.publish')}
            </Button>
          </Popconfirm>
        </Form>
      </Card>

      <Card title={t('privacy.admin.versions')}>
        <Table<PrivacyNotice & { acknowledgements: number }>
          rowKey="version"
          size="small"
          loading={notices.isLoading}
          dataSource={notices.data?.items ?? []}
          pagination={{ pageSize: 10 }}
          data-testid="privacy-versions"
          expandable={{
            expandedRowRender: (n) => (
              <Typography.Paragraph style={{ whiteSpace: 'pre-wrap', margin: 0 }}>
                {n.body}
              </Typography.Paragraph>
            ),
          }}
          columns={[
            { title: t('privacy.versionLabel'), dataIndex: 'version', width: 80 },
            { title: t('privacy.admin.titleLabel'), dataIndex: 'title' },
            {
              title: t('privacy.effectiveOn'),
              dataIndex: 'effectiveOn',
              render: (d: string, n) => (
                <Space>
                  {d}
                  {n.version === current && <Tag color="green">{t('privacy.admin.current')}</Tag>}
                  {current !== null && n.version > current && (
                    <Tag color="gold">{t('privacy.admin.upcoming')}</Tag>
                  )}
                  {current === null && <Tag color="gold">{t('privacy.admin.upcoming')}</Tag>}
                </Space>
              ),
            },
            {
              title: t('privacy.admin.publishedAt'),
              dataIndex: 'publishedAt',
              render: (d: string) => new Date(d).toLocaleString(),
            },
            { title: t('privacy.admin.acknowledgements'), dataIndex: 'acknowledgements', width: 110 },
            {
              title: 'SHA-256',
              dataIndex: 'digest',
              render: (d: string) => <Typography.Text code>{d.slice(0, 12)}</Typography.Text>,
            },
          ]}
        />
      </Card>
    </Space>
  );
}
