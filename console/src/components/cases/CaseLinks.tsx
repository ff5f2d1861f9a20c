import { Button, Card, Form, Input, List, Space } from 'antd';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import type { Case } from '../../api/types.js';
import { useCaseAction } from './useCaseAction.js';

/** The case's alerts, each a link to its detail; reviewers add more by number. */
export function CaseAlerts({ value, editable }: { value: Case; editable: boolean }) {
  const { t } = useTranslation();
  const add = useCaseAction(value.id, 'alerts');
  const [form] = Form.useForm<{ id: string }>();
  return (
    <Card title={t('cases.alerts')} size="small">
      <List
        size="small"
        dataSource={value.alertIds}
        data-testid="case-alerts-list"
        renderItem={(alertId) => (
          <List.Item>
            <Link
              to={`/review/alerts/${alertId}`}
              data-testid={`case-alert-${alertId}`}
            >{`#${alertId}`}</Link>
          </List.Item>
        )}
      />
      {editable && (
        <Form
          form={form}
          layout="inline"
          style={{ marginTop: 8 }}
          onFinish={(v) => add.mutate({ ids: [v.id] }, { onSuccess: () => form.resetFields() })}
        >
          <Form.Item name="id" rules={[{ required: true, pattern: /^\d+$/ }]}>
            <Input placeholder={t('cases.alertId')} style={{ width: 140 }} aria-label={t('cases.alertId')} />
          </Form.Item>
          <Button htmlType="submit" loading={add.isPending}>
            {t('cases.addAlert')}
          </Button>
        </Form>
      )}
    </Card>
  );
}

/** Who works on the case, and in what role. */
export function CaseParticipants({ value, editable }: { value: Case; editable: boolean }) {
  const { t } = useTranslation();
  const add = useCaseAction(value.id, 'participants');
  const [form] = Form.useForm<{ userId: string; role?: string }>();
  return (
    <Card title={t('cases.participants')} size="small">
      <List
        size="small"
        dataSource={value.participants}
        renderItem={(p) => (
          <List.Item>
            <Space>
              <span>{`#${p.userId}`}</span>
              <span>{p.role}</span>
            </Space>
          </List.Item>
        )}
      />
      {editable && (
        <Form
          form={form}
          layout="inline"
          style={{ marginTop: 8 }}
          onFinish={(v) =>
            add.mutate(
              { userId: v.userId, ...(v.role ? { role: v.role } : {}) },
              { onSuccess: () => form.resetFields() },
            )
          }
        >
          <Form.Item name="userId" rules={[{ required: true, pattern: /^\d+$/ }]}>
            <Input placeholder={t('cases.userId')} style={{ width: 100 }} aria-label={t('cases.userId')} />
          </Form.Item>
          <Form.Item name="role">
            <Input placeholder="investigator" style={{ width: 120 }} aria-label={t('cases.role')} />
          </Form.Item>
          <Button htmlType="submit" loading={add.isPending}>
            {t('cases.addParticipant')}
          </Button>
        </Form>
      )}
    </Card>
  );
}
