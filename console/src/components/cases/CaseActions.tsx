import { Button, Card, Form, Input, Space, Tabs } from 'antd';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { Case } from '../../api/types.js';
import { useCaseAction } from './useCaseAction.js';

/** A reviewer's actions on a case: a note, the legal hold (with a reason), closing it. */
export function CaseActions({ value }: { value: Case }) {
  const { t } = useTranslation();
  const open = value.status === 'open';
  const items = [
    open && { key: 'note', label: t('cases.addNote'), children: <NoteForm caseId={value.id} /> },
    {
      key: 'hold',
      label: value.legalHold ? t('cases.releaseHold') : t('cases.setHold'),
      children: <HoldForm value={value} />,
    },
    open && { key: 'close', label: t('cases.close'), children: <CloseForm caseId={value.id} /> },
  ].filter(Boolean) as Array<{ key: string; label: string; children: ReactNode }>;
  return (
    <Card size="small">
      <Tabs items={items} size="small" />
    </Card>
  );
}

function NoteForm({ caseId }: { caseId: string }) {
  const { t } = useTranslation();
  const note = useCaseAction(caseId, 'notes');
  const [form] = Form.useForm<{ text: string }>();
  return (
    <Form
      form={form}
      layout="vertical"
      onFinish={(v) => note.mutate(v, { onSuccess: () => form.resetFields() })}
    >
      <Form.Item
        name="text"
        label={t('cases.note')}
        rules={[{ required: true, whitespace: true, max: 10000 }]}
      >
        <Input.TextArea rows={3} data-testid="case-note" />
      </Form.Item>
      <Button type="primary" htmlType="submit" loading={note.isPending} data-testid="case-note-submit">
        {t('cases.addNote')}
      </Button>
    </Form>
  );
}

function HoldForm({ value }: { value: Case }) {
  const { t } = useTranslation();
  const hold = useCaseAction(value.id, 'hold');
  const [form] = Form.useForm<{ reason: string }>();
  return (
    <Form
      form={form}
      layout="vertical"
      onFinish={(v) =>
        hold.mutate({ hold: !value.legalHold, reason: v.reason }, { onSuccess: () => form.resetFields() })
      }
    >
      <Form.Item
        name="reason"
        label={t('cases.holdReason')}
        rules={[{ required: true, whitespace: true, min: 5, max: 2000 }]}
      >
        <Input.TextArea rows={2} data-testid="case-hold-reason" />
      </Form.Item>
      <Space>
        <Button
          type="primary"
          danger={!value.legalHold}
          htmlType="submit"
          loading={hold.isPending}
          data-testid="case-hold-submit"
        >
          {value.legalHold ? t('cases.releaseHold') : t('cases.setHold')}
        </Button>
      </Space>
    </Form>
  );
}

function CloseForm({ caseId }: { caseId: string }) {
  const { t } = useTranslation();
  const close = useCaseAction(caseId, 'close');
  return (
    <Form layout="vertical" onFinish={(v: { summary: string }) => close.mutate(v)}>
      <Form.Item
        name="summary"
        label={t('cases.closeSummary')}
        rules={[{ required: true, whitespace: true, max: 10000 }]}
      >
        <Input.TextArea rows={3} data-testid="case-close-summary" />
      </Form.Item>
      <Button htmlType="submit" loading={close.isPending} data-testid="case-close-submit">
        {t('cases.close')}
      </Button>
    </Form>
  );
}
