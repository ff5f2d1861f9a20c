import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Alert as Notice, App, Button, Form, Input, Modal, Select, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { post } from '../../api/client.js';
import type { UserAccount } from '../../api/types.js';
import { useSession } from '../../session.js';
import { ROLE_NAMES } from './roles.js';

interface NewUser {
  username: string;
  displayName?: string;
  corp?: string;
  employeeUserid?: string;
  roles?: string[];
}

/** Creates an account; the server generates the password, shown here exactly once. */
export function CreateUser() {
  const { t } = useTranslation();
  const { me } = useSession();
  const { message } = App.useApp();
  const client = useQueryClient();
  const [open, setOpen] = useState(false);
  const [created, setCreated] = useState<{ username: string; password: string } | null>(null);
  const [form] = Form.useForm<NewUser>();
  const create = useMutation({
    mutationFn: (v: NewUser) =>
      post<{ user: UserAccount; password?: string }>('/api/v1/users', {
        username: v.username.trim(),
        ...(v.displayName ? { displayName: v.displayName } : {}),
        // The account's own corp only comes with the employee it is (a database rule); the corp
        // otherwise scopes the roles.
        ...(v.corp && v.employeeUserid ? { corp: v.corp, employeeUserid: v.employeeUserid.trim() } : {}),
        roles: (v.roles ?? []).map((role) => ({ role, ...(v.corp ? { corp: v.corp } : {}) })),
      }),
    onSuccess: async (r) => {
      setOpen(false);
      form.resetFields();
      if (r.password) setCreated({ username: r.user.username, password: r.password });
      else void message.success(t('admin.created'));
      await client.invalidateQueries({ queryKey: ['users'] });
    },
    onError: (e) => void message.error((e as Error).message),
  });
  return (
    <>
      <Button type="primary" onClick={() => setOpen(true)} data-testid="user-create">
        {t('admin.create')}
      </Button>
      <Modal
        open={open}
        title={t('admin.create')}
        onCancel={() => setOpen(false)}
        onOk={() => form.submit()}
        confirmLoading={create.isPending}
        destroyOnHidden
      >
        <Form form={form} layout="vertical" onFinish={(v) => create.mutate(v)} data-testid="user-form">
          <Form.Item
            name="username"
            label={t('admin.username')}
            rules={[{ required: true, pattern: /^[a-z0-9][a-z0-9._@-]{1,63}$/ }]}
          >
            <Input autoComplete="off" data-testid="user-username" />
          </Form.Item>
          <Form.Item name="displayName" label={t('admin.displayName')}>
            <Input data-testid="user-display-name" />
          </Form.Item>
          <Form.Item name="corp" label={t('admin.corp')} extra={t('admin.corpHint')}>
            <Select
              allowClear
              placeholder={t('admin.global')}
              data-testid="user-corp"
              options={me.corps.map((c) => ({ value: c.slug, label: `${c.name} (${c.slug})` }))}
            />
          </Form.Item>
          <Form.Item
            name="employeeUserid"
            label={t('admin.employeeUserid')}
            extra={t('admin.employeeHint')}
            dependencies={['corp']}
            rules={[
              ({ getFieldValue }) => ({
                validator: (_, v?: string) =>
                  !v || getFieldValue('corp')
                    ? Promise.resolve()
                    : Promise.reject(new Error(t('admin.employeeHint'))),
              }),
            ]}
          >
            <Input data-testid="user-employee" />
          </Form.Item>
          <Form.Item name="roles" label={t('admin.roles')}>
            <Select
              mode="multiple"
              data-testid="user-roles"
              options={ROLE_NAMES.map((r) => ({ value: r, label: t(`roles.${r}`, r) }))}
            />
          </Form.Item>
        </Form>
      </Modal>
      <Modal
        open={created !== null}
        title={t('admin.created')}
        onCancel={() => setCreated(null)}
        footer={
          <Button type="primary" onClick={() => setCreated(null)} data-testid="password-done">
            OK
          </Button>
        }
      >
        <Notice type="warning" showIcon message={t('admin.passwordOnce')} />
        <Typography.Paragraph style={{ marginTop: 12 }}>
          {created?.username}
          <br />
          <Typography.Text code copyable data-testid="generated-password">
            {created?.password}
          </Typography.Text>
        </Typography.Paragraph>
      </Modal>
    </>
  );
}
