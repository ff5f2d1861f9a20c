import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  Alert,
  App,
  Button,
  Col,
  Divider,
  Empty,
  Form,
  Input,
  InputNumber,
  Row,
  Select,
  Space,
  Switch,
  Table,
  Tag,
  Typography,
} from 'antd';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { get, put } from '../../api/client.js';
import { useSession } from '../../session.js';
import {
  SECRET_KINDS,
  type ConnectorSettingsValues,
  type ConnectorView,
  type SecretKind,
} from './settings-types.js';

const listKey = ['wecom-connectors'] as const;

type FormValues = ConnectorSettingsValues & { secrets: Partial<Record<SecretKind, string>> };

const DEFAULTS: FormValues = {
  wecomCorpId: '',
  sdkMode: 'native',
  sdkLibrary: null,
  apiBaseUrl: 'https://qyapi.weixin.qq.com',
  proxy: null,
  pollIntervalSeconds: 60,
  enabled: true,
  secrets: {},
};

/**
 * Corps and their WeCom connector settings. Secrets are write-only: the page shows whether each is
 * set and when it last changed, takes a new value, and never receives one.
 */
export function ConnectorSettings() {
  const { t } = useTranslation();
  const { can, corp: sessionCorp } = useSession();
  const { message } = App.useApp();
  const client = useQueryClient();
  const [form] = Form.useForm<FormValues>();
  const editable = can('capture.manage');
  const list = useQuery({
    queryKey: listKey,
    queryFn: () => get<{ items: ConnectorView[] }>('/api/v1/wecom/connectors'),
  });
  const [selected, setSelected] = useState<string | undefined>();
  const items = list.data?.items ?? [];
  const current =
    items.find((c) => c.slug === selected) ?? items.find((c) => c.slug === sessionCorp) ?? items[0];
  const sdkMode = Form.useWatch('sdkMode', form);
  useEffect(() => {
    form.resetFields();
    form.setFieldsValue({ ...DEFAULTS, ...(current?.settings ?? {}), secrets: {} });
  }, [current, form]);

  const save = useMutation({
    mutationFn: (v: FormValues) => {
      const secrets = Object.fromEntries(
        Object.entries(v.secrets ?? {}).filter(([, value]) => typeof value === 'string' && value.length > 0),
      );
      return put<ConnectorView>(`/api/v1/corps/${current!.slug}/wecom/connector`, {
        wecomCorpId: v.wecomCorpId.trim(),
        sdkMode: v.sdkMode,
        sdkLibrary: v.sdkMode === 'native' ? v.sdkLibrary?.trim() || null : null,
        apiBaseUrl: v.apiBaseUrl.trim(),
        proxy: v.proxy?.trim() || null,
        pollIntervalSeconds: v.pollIntervalSeconds,
        enabled: v.enabled,
        secrets,
      });
    },
    onSuccess: async () => {
      void message.success(t('admin.saved'));
      form.setFieldValue('secrets', {});
      await client.invalidateQueries({ queryKey: listKey });
    },
    onError: (e) => void message.error((e as Error).message),
  });

  if (!list.isLoading && items.length === 0) return <Empty />;
  const secretSet = new Map(current?.secrets.map((s) => [s.kind, s]));

  return (
    <Space direction="vertical" size="large" style={{ width: '100%' }}>
      <Table<ConnectorView>
        size="small"
        rowKey="slug"
        loading={list.isLoading}
        pagination={false}
        dataSource={items}
        rowClassName={(c) => (c.slug === current?.slug ? 'ant-table-row-selected' : '')}
        columns={[
          { title: t('admin.corp'), render: (_: unknown, c) => `${c.name} (${c.slug})` },
          {
            title: t('admin.connector.wecomCorpId'),
            render: (_: unknown, c) =>
              c.settings?.wecomCorpId ?? <Tag>{t('admin.connector.notConnected')}</Tag>,
          },
          {
            title: t('admin.connector.sdkMode'),
            render: (_: unknown, c) =>
              c.settings ? t(`admin.connector.sdkModes.${c.settings.sdkMode}`) : '—',
          },
          {
            title: t('admin.connector.pollIntervalSeconds'),
            render: (_: unknown, c) => c.settings?.pollIntervalSeconds ?? '—',
          },
          {
            title: t('admin.connector.enabled'),
            render: (_: unknown, c) =>
              c.settings ? (
                <Tag color={c.settings.enabled ? 'green' : 'default'}>
                  {c.settings.enabled ? t('admin.connector.on') : t('admin.connector.off')}
                </Tag>
              ) : (
                '—'
              ),
          },
          {
            title: t('admin.connector.secrets'),
            render: (_: unknown, c) => `${c.secrets.filter((s) => s.set).length} / ${c.secrets.length}`,
          },
          {
            title: '',
            key: 'edit',
            render: (_: unknown, c) => (
              <Button
                type="link"
                size="small"
                onClick={() => setSelected(c.slug)}
                disabled={c.slug === current?.slug}
                data-testid={`connector-edit-${c.slug}`}
              >
                {editable ? t('admin.connector.edit') : t('admin.connector.view')}
              </Button>
            ),
          },
        ]}
      />
      {current && (
        <Form<FormValues>
          form={form}
          layout="vertical"
          disabled={!editable}
          initialValues={DEFAULTS}
          onFinish={(v) => save.mutate(v)}
          data-testid="connector-form"
        >
          <Typography.Title level={5}>{`${current.name} (${current.slug})`}</Typography.Title>
          {!editable && <Alert type="info" showIcon message={t('admin.connector.readOnly')} />}
          <Row gutter={16}>
            <Col span={8}>
              <Form.Item
                name="wecomCorpId"
                label={t('admin.connector.wecomCorpId')}
                rules={[{ required: true, pattern: /^[A-Za-z0-9_-]{1,64}$/ }]}
              >
                <Input data-testid="connector-wecomCorpId" />
              </Form.Item>
            </Col>
            <Col span={8}>
              <Form.Item name="sdkMode" label={t('admin.connector.sdkMode')}>
                <Select
                  data-testid="connector-sdkMode"
                  options={(['native', 'emulator'] as const).map((m) => ({
                    value: m,
                    label: t(`admin.connector.sdkModes.${m}`),
                  }))}
                />
              </Form.Item>
            </Col>
            <Col span={8}>
              <Form.Item
                name="pollIntervalSeconds"
                label={t('admin.connector.pollIntervalSeconds')}
                rules={[{ required: true }]}
              >
                <InputNumber
                  min={5}
                  max={86400}
                  precision={0}
                  style={{ width: '100%' }}
                  data-testid="connector-poll"
                />
              </Form.Item>
            </Col>
            <Col span={12}>
              <Form.Item
                name="apiBaseUrl"
                label={t('admin.connector.apiBaseUrl')}
                rules={[{ required: true, type: 'url' }]}
              >
                <Input data-testid="connector-apiBaseUrl" />
              </Form.Item>
            </Col>
            <Col span={12}>
              <Form.Item name="proxy" label={t('admin.connector.proxy')}>
                <Input placeholder="socks5://10.0.0.1:8081" data-testid="connector-proxy" />
              </Form.Item>
            </Col>
            {sdkMode === 'native' && (
              <Col span={18}>
                <Form.Item
                  name="sdkLibrary"
                  label={t('admin.connector.sdkLibrary')}
                  rules={[{ required: true }]}
                >
                  <Input
                    placeholder="/opt/wecom/libWeWorkFinanceSdk_C.so"
                    data-testid="connector-sdkLibrary"
                  />
                </Form.Item>
              </Col>
            )}
            <Col span={6}>
              <Form.Item name="enabled" label={t('admin.connector.enabled')} valuePropName="checked">
                <Switch data-testid="connector-enabled" />
              </Form.Item>
            </Col>
          </Row>
          <Divider orientation="left">{t('admin.connector.secrets')}</Divider>
          <Typography.Paragraph type="secondary">{t('admin.connector.secretsHelp')}</Typography.Paragraph>
          <Row gutter={16}>
            {SECRET_KINDS.map((kind) => {
              const state = secretSet.get(kind);
              return (
                <Col span={12} key={kind}>
                  <Form.Item
                    name={['secrets', kind]}
                    label={
                      <Space>
                        {t(`admin.connector.secretKinds.${kind}`)}
                        <Tag color={state?.set ? 'green' : 'default'} data-testid={`secret-status-${kind}`}>
                          {state?.set ? t('admin.connector.set') : t('admin.connector.notSet')}
                        </Tag>
                        {state?.changedAt && (
                          <Typography.Text type="secondary">
                            {t('admin.connector.changedAt', {
                              at: new Date(state.changedAt).toLocaleString(),
                            })}
                          </Typography.Text>
                        )}
                      </Space>
                    }
                  >
                    <Input.Password
                      autoComplete="new-password"
                      visibilityToggle={false}
                      placeholder={state?.set ? t('admin.connector.keep') : t('admin.connector.enter')}
                      data-testid={`secret-input-${kind}`}
                    />
                  </Form.Item>
                </Col>
              );
            })}
          </Row>
          {current.rsaKeyVersions.length > 0 && (
            <Typography.Paragraph type="secondary" data-testid="connector-rsa">
              {t('admin.connector.rsaKeys', {
                versions: current.rsaKeyVersions.map((v) => `v${v}`).join(', '),
              })}
            </Typography.Paragraph>
          )}
          {editable && (
            <Button type="primary" htmlType="submit" loading={save.isPending} data-testid="connector-save">
              {t('admin.save')}
            </Button>
          )}
        </Form>
      )}
    </Space>
  );
}
