import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, App, Button, Col, Descriptions, Form, InputNumber, Row, Switch, Typography } from 'antd';
import { useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import { get, put } from '../../api/client.js';
import { useSession } from '../../session.js';
import { RATE_FIELDS, type RateField, type SamplingSettingsView } from './settings-types.js';

type FormValues = Record<RateField, number | null> & { weeklySensitive: boolean };

/** Shares are edited as percentages; `lowScoreBelow` is a priority score, edited as it is. */
const isShare = (f: RateField) => f !== 'lowScoreBelow';
const toForm = (f: RateField, v: number | null) =>
  v === null ? null : isShare(f) ? Math.round(v * 10000) / 100 : v;
const fromForm = (f: RateField, v: number | null | undefined) =>
  v === null || v === undefined ? null : isShare(f) ? Math.round(v * 100) / 10000 : v;
const shown = (f: RateField, v: number) => (isShare(f) ? `${Math.round(v * 10000) / 100}%` : String(v));

/**
 * The corp's sampling: monthly random share of ordinary posts, the weekly full review of sensitive
 * posts, rechecks and the human-review target. An empty field uses the configuration file's value.
 */
export function SamplingSettings() {
  const { t } = useTranslation();
  const { corp } = useSession();
  const { message } = App.useApp();
  const client = useQueryClient();
  const [form] = Form.useForm<FormValues>();
  const key = ['sampling-settings', corp];
  const settings = useQuery({
    queryKey: key,
    queryFn: () => get<SamplingSettingsView>(`/api/v1/corps/${corp}/review/sampling/settings`),
  });
  const data = settings.data;
  useEffect(() => {
    if (!data) return;
    form.setFieldsValue({
      ...Object.fromEntries(RATE_FIELDS.map((f) => [f, toForm(f, data.stored[f])])),
      weeklySensitive: data.stored.weeklySensitive,
    } as FormValues);
  }, [data, form]);
  const save = useMutation({
    mutationFn: (v: FormValues) =>
      put<SamplingSettingsView>(`/api/v1/corps/${corp}/review/sampling/settings`, {
        ...Object.fromEntries(RATE_FIELDS.map((f) => [f, fromForm(f, v[f])])),
        weeklySensitive: v.weeklySensitive,
      }),
    onSuccess: async () => {
      void message.success(t('admin.saved'));
      await client.invalidateQueries({ queryKey: key });
    },
    onError: (e) => void message.error((e as Error).message),
  });

  return (
    <Row gutter={24}>
      <Col span={14}>
        <Form<FormValues>
          form={form}
          layout="vertical"
          onFinish={(v) => save.mutate(v)}
          disabled={!data}
          data-testid="sampling-form"
        >
          {RATE_FIELDS.map((f) => (
            <Form.Item
              key={f}
              name={f}
              label={t(`admin.sampling.${f}`)}
              extra={data ? t('admin.sampling.default', { value: shown(f, data.defaults[f]) }) : undefined}
            >
              <InputNumber
                min={0}
                max={isShare(f) ? 100 : 1000}
                step={isShare(f) ? 1 : 0.1}
                addonAfter={isShare(f) ? '%' : undefined}
                placeholder={data ? shown(f, data.defaults[f]) : undefined}
                style={{ width: 240 }}
                data-testid={`sampling-${f}`}
              />
            </Form.Item>
          ))}
          <Form.Item
            name="weeklySensitive"
            label={t('admin.sampling.weeklySensitive')}
            extra={t('admin.sampling.weeklySensitiveHelp')}
            valuePropName="checked"
          >
            <Switch data-testid="sampling-weeklySensitive" />
          </Form.Item>
          <Button type="primary" htmlType="submit" loading={save.isPending} data-testid="sampling-save">
            {t('admin.save')}
          </Button>
        </Form>
      </Col>
      <Col span={10}>
        {data && (
          <Descriptions
            bordered
            size="small"
            column={1}
            title={t('admin.sampling.effective')}
            data-testid="sampling-effective"
          >
            {RATE_FIELDS.map((f) => (
              <Descriptions.Item key={f} label={t(`admin.sampling.${f}`)}>
                <span data-testid={`sampling-effective-${f}`}>{shown(f, data.effective[f])}</span>
                {data.stored[f] === null && (
                  <Typography.Text type="secondary">{` (${t('admin.sampling.fromConfig')})`}</Typography.Text>
                )}
              </Descriptions.Item>
            ))}
            <Descriptions.Item label={t('admin.sampling.weeklySensitive')}>
              <span data-testid="sampling-effective-weeklySensitive">
                {data.effective.weeklySensitive ? t('admin.connector.on') : t('admin.connector.off')}
              </span>
            </Descriptions.Item>
          </Descriptions>
        )}
        {data?.stored.updatedAt && (
          <Typography.Paragraph type="secondary" style={{ marginTop: 8 }}>
            {t('admin.sampling.updated', {
              at: new Date(data.stored.updatedAt).toLocaleString(),
              by: data.stored.updatedBy,
            })}
          </Typography.Paragraph>
        )}
        <Alert style={{ marginTop: 16 }} type="info" showIcon message={t('admin.sampling.slaNote')} />
      </Col>
    </Row>
  );
}
