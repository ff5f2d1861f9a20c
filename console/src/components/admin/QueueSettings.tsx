import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { App, Button, Col, Divider, Empty, Form, Input, InputNumber, Row, Select, Switch } from 'antd';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { get, put } from '../../api/client.js';
import type { ReviewQueue } from '../../api/types.js';
import { useSession } from '../../session.js';

const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
const SOURCES = ['detection', 'sampling', 'recheck'] as const;
const NEW = '__new__';

interface QueueForm {
  name: string;
  position: number;
  categories: string[];
  severities: string[];
  sources: string[];
  departmentIds: string[];
  policyIds: string[];
  firstActionHours: number;
  resolutionHours: number;
  remindBeforeHours: number;
  confirmNeedsSecond: boolean;
  dualReviewSeverities: string[];
}

const DEFAULTS: QueueForm = {
  name: '',
  position: 100,
  categories: [],
  severities: [],
  sources: [],
  departmentIds: [],
  policyIds: [],
  firstActionHours: 24,
  resolutionHours: 24,
  remindBeforeHours: 4,
  confirmNeedsSecond: true,
  dualReviewSeverities: ['high', 'critical'],
};

const toForm = (q: ReviewQueue): QueueForm => ({
  ...q,
  categories: q.categories ?? [],
  severities: q.severities ?? [],
  sources: q.sources ?? [],
  departmentIds: (q.departmentIds ?? []).map(String),
  policyIds: (q.policyIds ?? []).map(String),
});
const orNull = <T,>(list: T[]) => (list.length ? list : null);
const numbers = (list: string[]) => orNull(list.map(Number).filter(Number.isInteger));

/** A review queue's routing filters, SLA, reminder and dual-review (双人复核) rules. */
export function QueueSettings() {
  const { t } = useTranslation();
  const { corp, can } = useSession();
  const { message } = App.useApp();
  const client = useQueryClient();
  const [form] = Form.useForm<QueueForm>();
  const [selected, setSelected] = useState<string>(NEW);
  // Reading queues needs 'review.read'; without it an administrator can still write one by name.
  const queues = useQuery({
    queryKey: ['queues', corp],
    queryFn: () => get<{ items: ReviewQueue[] }>(`/api/v1/corps/${corp}/review/queues`),
    enabled: can('review.read'),
  });
  const current = queues.data?.items.find((q) => q.name === selected);
  useEffect(() => form.setFieldsValue(current ? toForm(current) : DEFAULTS), [current, form]);
  const save = useMutation({
    mutationFn: (v: QueueForm) =>
      put<ReviewQueue>(`/api/v1/corps/${corp}/review/queues/${encodeURIComponent(v.name.trim())}`, {
        position: v.position,
        categories: orNull(v.categories),
        severities: orNull(v.severities),
        sources: orNull(v.sources),
        departmentIds: numbers(v.departmentIds),
        policyIds: numbers(v.policyIds),
        firstActionHours: v.firstActionHours,
        resolutionHours: v.resolutionHours,
        remindBeforeHours: v.remindBeforeHours,
        confirmNeedsSecond: v.confirmNeedsSecond,
        dualReviewSeverities: v.dualReviewSeverities,
      }),
    onSuccess: async (q) => {
      void message.success(t('admin.saved'));
      await client.invalidateQueries({ queryKey: ['queues', corp] });
      setSelected(q.name);
    },
    onError: (e) => void message.error((e as Error).message),
  });
  const severityOptions = SEVERITIES.map((s) => ({ value: s, label: t(`severity.${s}`) }));
  const tags = (name: keyof QueueForm, label: string) => (
    <Form.Item name={name} label={label}>
      <Select mode="tags" open={false} tokenSeparators={[',', ' ']} data-testid={`queue-${name}`} />
    </Form.Item>
  );
  return (
    <Row gutter={24}>
      <Col span={6}>
        {can('review.read') ? (
          <Select
            style={{ width: '100%' }}
            value={selected}
            onChange={setSelected}
            loading={queues.isLoading}
            aria-label={t('admin.queue')}
            data-testid="queue-select"
            options={[
              { value: NEW, label: `+ ${t('admin.newQueue')}` },
              ...(queues.data?.items ?? []).map((q) => ({ value: q.name, label: q.name })),
            ]}
          />
        ) : (
          <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} />
        )}
      </Col>
      <Col span={18}>
        <Form<QueueForm>
          form={form}
          layout="vertical"
          initialValues={DEFAULTS}
          onFinish={(v) => save.mutate(v)}
          data-testid="queue-form"
        >
          <Row gutter={16}>
            <Col span={12}>
              <Form.Item
                name="name"
                label={t('admin.queueName')}
                rules={[{ required: true, max: 100, whitespace: true }]}
              >
                <Input disabled={selected !== NEW} data-testid="queue-name" />
              </Form.Item>
            </Col>
            <Col span={12}>
              <Form.Item name="position" label={t('admin.position')} rules={[{ required: true }]}>
                <InputNumber precision={0} style={{ width: '100%' }} />
              </Form.Item>
            </Col>
          </Row>
          <Divider orientation="left">{t('admin.routing')}</Divider>
          <Row gutter={16}>
            <Col span={12}>{tags('categories', t('admin.categories'))}</Col>
            <Col span={12}>
              <Form.Item name="severities" label={t('admin.severities')}>
                <Select mode="multiple" options={severityOptions} />
              </Form.Item>
            </Col>
            <Col span={8}>
              <Form.Item name="sources" label={t('admin.sources')}>
                <Select
                  mode="multiple"
                  options={SOURCES.map((s) => ({ value: s, label: t(`admin.sourceNames.${s}`) }))}
                />
              </Form.Item>
            </Col>
            <Col span={8}>{tags('departmentIds', t('admin.departmentIds'))}</Col>
            <Col span={8}>{tags('policyIds', t('admin.policyIds'))}</Col>
          </Row>
          <Divider orientation="left">{t('admin.sla')}</Divider>
          <Row gutter={16}>
            {(
              [
                ['firstActionHours', 720],
                ['resolutionHours', 2160],
                ['remindBeforeHours', 720],
              ] as const
            ).map(([name, max]) => (
              <Col span={8} key={name}>
                <Form.Item name={name} label={t(`admin.${name}`)} rules={[{ required: true }]}>
                  <InputNumber
                    min={name === 'remindBeforeHours' ? 0 : 1}
                    max={max}
                    precision={0}
                    style={{ width: '100%' }}
                    data-testid={`queue-${name}`}
                  />
                </Form.Item>
              </Col>
            ))}
          </Row>
          <Divider orientation="left">{t('admin.dualReview')}</Divider>
          <Form.Item name="confirmNeedsSecond" label={t('admin.confirmNeedsSecond')} valuePropName="checked">
            <Switch data-testid="queue-confirmNeedsSecond" />
          </Form.Item>
          <Form.Item name="dualReviewSeverities" label={t('admin.dualReviewSeverities')}>
            <Select mode="multiple" options={severityOptions} data-testid="queue-dual" />
          </Form.Item>
          <Button type="primary" htmlType="submit" loading={save.isPending} data-testid="queue-save">
            {t('admin.save')}
          </Button>
        </Form>
      </Col>
    </Row>
  );
}
