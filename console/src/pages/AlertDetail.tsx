import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  Alert as Notice,
  App,
  Button,
  Card,
  Col,
  Descriptions,
  Form,
  Input,
  Radio,
  Row,
  Space,
  Tag,
  Timeline,
} from 'antd';
import { useTranslation } from 'react-i18next';
import { useParams } from 'react-router-dom';
import { get, post } from '../api/client.js';
import type { AlertDetail as Detail } from '../api/types.js';
import { ChatView } from '../components/ChatView.js';
import { useSession } from '../session.js';
import { SEVERITY_COLOR } from './AlertQueue.js';

const DISPOSITIONS = [
  'violation_confirmed',
  'compliant',
  'questionable',
  'false_positive',
  'escalated',
] as const;

/** One alert: the conversation around its hits, the decision form (dual review) and the history. */
export default function AlertDetail() {
  const { id } = useParams();
  const { t } = useTranslation();
  const { corp, can } = useSession();
  const { message } = App.useApp();
  const client = useQueryClient();
  const detail = useQuery({
    queryKey: ['alert', corp, id],
    queryFn: () => get<Detail>(`/api/v1/corps/${corp}/review/alerts/${id}`),
  });
  const decide = useMutation({
    mutationFn: (v: { disposition: string; comment?: string }) =>
      post(`/api/v1/corps/${corp}/review/alerts/decide`, { ids: [id], ...v }),
    onSuccess: async () => {
      await client.invalidateQueries({ queryKey: ['alert', corp, id] });
      void message.success(t('alert.submit'));
    },
    onError: (e) => void message.error((e as Error).message),
  });
  if (!detail.data)
    return <Card loading={detail.isLoading}>{detail.error ? String(detail.error) : null}</Card>;
  const { alert, hits, decisions, context } = detail.data;
  const highlights: Record<string, Array<{ start: number; end: number }>> = {};
  for (const h of hits)
    if (h.start !== null && h.end !== null) (highlights[h.msgid] ??= []).push({ start: h.start, end: h.end });
  for (const ranges of Object.values(highlights)) ranges.sort((a, b) => a.start - b.start);

  return (
    <Row gutter={16}>
      <Col span={15}>
        <Card title={`${t('alert.context')} · #${alert.id}`}>
          <ChatView messages={context} highlights={highlights} focus={new Set(alert.msgids)} />
        </Card>
      </Col>
      <Col span={9}>
        <Space direction="vertical" style={{ width: '100%' }}>
          <Card>
            <Descriptions column={1} size="small">
              <Descriptions.Item label={t('alerts.severity')}>
                <Tag color={SEVERITY_COLOR[alert.severity]}>{t(`severity.${alert.severity}`)}</Tag>
              </Descriptions.Item>
              <Descriptions.Item label={t('alerts.category')}>
                {t(`categories.${alert.category}`, alert.category)}
              </Descriptions.Item>
              <Descriptions.Item label={t('alerts.status')}>
                <span data-testid="alert-status">{t(`status.${alert.status}`)}</span>
              </Descriptions.Item>
              <Descriptions.Item label={t('alert.hits')}>
                {hits.map((h, i) => (
                  <Tag key={i}>{`${h.term} · ${h.ruleId}`}</Tag>
                ))}
              </Descriptions.Item>
            </Descriptions>
            {alert.status === 'awaiting_second' && (
              <Notice type="info" showIcon message={t('alert.awaiting')} />
            )}
          </Card>
          {can('review.decide') && alert.status !== 'closed' && (
            <Card title={t('alert.decide')}>
              <Form
                layout="vertical"
                onFinish={(v: { disposition: string; comment?: string }) => decide.mutate(v)}
              >
                <Form.Item name="disposition" rules={[{ required: true }]}>
                  {/* antd passes role through but does not type it; without it the group's
                      aria-required (from the form rule) is not allowed on a plain div. */}
                  <Radio.Group {...{ role: 'radiogroup' }} aria-label={t('alert.decide')}>
                    <Space direction="vertical">
                      {DISPOSITIONS.map((d) => (
                        <Radio key={d} value={d} data-testid={`disposition-${d}`}>
                          {t(`alert.dispositions.${d}`)}
                        </Radio>
                      ))}
                    </Space>
                  </Radio.Group>
                </Form.Item>
                <Form.Item name="comment" label={t('alert.comment')}>
                  <Input.TextArea rows={3} />
                </Form.Item>
                <Button type="primary" htmlType="submit" loading={decide.isPending} data-testid="decide">
                  {t('alert.submit')}
                </Button>
              </Form>
            </Card>
          )}
          <Card title={t('alert.history')}>
            <Timeline
              data-testid="alert-history"
              items={decisions.map((d) => ({
                color: d.stage === 'comment' ? 'gray' : 'blue',
                children: `${new Date(d.createdAt).toLocaleString()} · #${d.reviewerId} · ${t(`alert.stages.${d.stage}`, d.stage)}${d.disposition ? ` · ${t(`alert.dispositions.${d.disposition}`, d.disposition)}` : ''}${d.comment ? ` · ${d.comment}` : ''}`,
              }))}
            />
            {can('review.decide') && <CommentBox alertId={alert.id} />}
          </Card>
        </Space>
      </Col>
    </Row>
  );
}

/** A note in the alert's review trail without deciding anything (audited like a decision). */
function CommentBox({ alertId }: { alertId: string }) {
  const { t } = useTranslation();
  const { corp } = useSession();
  const { message } = App.useApp();
  const client = useQueryClient();
  const [form] = Form.useForm<{ text: string }>();
  const add = useMutation({
    mutationFn: (text: string) => post(`/api/v1/corps/${corp}/review/alerts/${alertId}/comments`, { text }),
    onSuccess: async () => {
      form.resetFields();
      await client.invalidateQueries({ queryKey: ['alert', corp, alertId] });
    },
    onError: (e) => void message.error((e as Error).message),
  });
  return (
    <Form form={form} layout="inline" onFinish={(v) => add.mutate(v.text)} style={{ marginTop: 8 }}>
      <Form.Item name="text" rules={[{ required: true, whitespace: true, max: 4000 }]} style={{ flex: 1 }}>
        <Input
          aria-label={t('alert.addComment')}
          placeholder={t('alert.commentPlaceholder')}
          data-testid="comment-text"
        />
      </Form.Item>
      <Button htmlType="submit" loading={add.isPending} data-testid="comment-add">
        {t('alert.addComment')}
      </Button>
    </Form>
  );
}
