import { useMutation, useQueryClient } from '@tanstack/react-query';
import { App, Form, InputNumber, Modal, Select } from 'antd';
import { useTranslation } from 'react-i18next';
import { post } from '../../api/client.js';
import type { UserAccount } from '../../api/types.js';
import { useSession } from '../../session.js';
import { ROLE_NAMES } from './roles.js';

interface RoleForm {
  role: string;
  corp?: string;
  departmentId?: number;
}

/** Adds a role to a user, global or scoped to a corp (and a department subtree). */
export function AddRole({ user, onClose }: { user: UserAccount | null; onClose(): void }) {
  const { t } = useTranslation();
  const { me } = useSession();
  const { message } = App.useApp();
  const client = useQueryClient();
  const [form] = Form.useForm<RoleForm>();
  const add = useMutation({
    mutationFn: (v: RoleForm) =>
      post(`/api/v1/users/${user!.id}/roles`, {
        role: v.role,
        ...(v.corp ? { corp: v.corp } : {}),
        ...(v.departmentId === undefined || v.departmentId === null ? {} : { departmentId: v.departmentId }),
      }),
    onSuccess: async () => {
      void message.success(t('admin.saved'));
      form.resetFields();
      onClose();
      await client.invalidateQueries({ queryKey: ['users'] });
    },
    onError: (e) => void message.error((e as Error).message),
  });
  return (
    <Modal
      open={user !== null}
      title={`${t('admin.addRole')} · ${user?.username ?? ''}`}
      onCancel={onClose}
      onOk={() => form.submit()}
      confirmLoading={add.isPending}
      destroyOnHidden
    >
      <Form form={form} layout="vertical" onFinish={(v) => add.mutate(v)} data-testid="role-form">
        <Form.Item name="role" label={t('cases.role')} rules={[{ required: true }]}>
          <Select
            data-testid="role-select"
            options={ROLE_NAMES.map((r) => ({ value: r, label: t(`roles.${r}`, r) }))}
          />
        </Form.Item>
        <Form.Item name="corp" label={t('admin.corp')}>
          <Select
            allowClear
            placeholder={t('admin.global')}
            options={me.corps.map((c) => ({ value: c.slug, label: `${c.name} (${c.slug})` }))}
          />
        </Form.Item>
        <Form.Item name="departmentId" label={t('admin.departmentId')}>
          <InputNumber min={1} precision={0} style={{ width: '100%' }} />
        </Form.Item>
      </Form>
    </Modal>
  );
}
