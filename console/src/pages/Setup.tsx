import { Alert, Button, Form, Input, Space, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, post, setCsrfToken } from '../api/client.js';
import { TotpEnrol } from '../components/TotpEnrol.js';

interface SetupForm {
  token: string;
  username: string;
  displayName?: string;
  password: string;
  confirm: string;
}

/** Hints in antd's default grey reach 3.4:1 on white; this one passes WCAG AA (4.5:1). */

/** Codes of the setup endpoint the page explains in the user's language. */
const EXPLAINED = new Set([
  'setup_token_invalid',
  'setup_done',
  'weak_password',
  'already_exists',
  'csrf_failed',
]);

/**
 * First-run setup of a deployment without an administrator: the one-time setup token from the
 * server's start-up log, the first administrator's account, then mandatory TOTP enrolment.
 */
export function Setup({ onSignIn, onCreated }: { onSignIn(): void; onCreated(): void }) {
  const { t } = useTranslation();
  const [form] = Form.useForm<SetupForm>();
  const [created, setCreated] = useState<string | null>(null);
  const [error, setError] = useState<{ code: string; message: string } | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (v: SetupForm) => {
    setBusy(true);
    setError(null);
    try {
      const session = await post<{ stage: string; csrfToken: string }>('/api/v1/auth/setup', {
        token: v.token.trim(),
        username: v.username.trim(),
        displayName: v.displayName?.trim() || undefined,
        password: v.password,
      });
      setCsrfToken(session.csrfToken);
      onCreated();
      setCreated(v.username.trim().toLowerCase());
    } catch (e) {
      setError(
        e instanceof ApiError
          ? { code: e.code, message: e.message }
          : { code: 'unknown', message: String(e) },
      );
    } finally {
      setBusy(false);
    }
  };

  if (created)
    return (
      <Space direction="vertical" style={{ width: '100%' }} data-testid="setup-enrol">
        <Alert type="success" showIcon message={t('setup.created', { username: created })} />
        <TotpEnrol />
      </Space>
    );

  return (
    <Space direction="vertical" style={{ width: '100%' }} data-testid="setup">
      <Typography.Paragraph style={{ margin: 0 }}>{t('setup.intro')}</Typography.Paragraph>
      {error && (
        <Alert
          type="error"
          showIcon
          message={t('setup.failed')}
          description={EXPLAINED.has(error.code) ? t(`setup.errors.${error.code}`) : error.message}
          data-testid="setup-error"
        />
      )}
      <Form form={form} layout="vertical" onFinish={submit} requiredMark={false}>
        <Form.Item
          name="token"
          label={t('setup.token')}
          extra={t('setup.tokenHint')}
          rules={[{ required: true, whitespace: true, message: t('setup.required') }]}
        >
          <Input.Password autoComplete="off" autoFocus data-testid="setup-token" />
        </Form.Item>
        <Form.Item
          name="username"
          label={t('setup.username')}
          extra={t('setup.usernameHint')}
          rules={[
            { required: true, message: t('setup.required') },
            { pattern: /^[a-zA-Z0-9][a-zA-Z0-9._@-]{1,63}$/, message: t('setup.usernameRule') },
          ]}
        >
          <Input autoComplete="username" data-testid="setup-username" />
        </Form.Item>
        <Form.Item name="displayName" label={t('setup.displayName')} rules={[{ max: 100 }]}>
          <Input autoComplete="name" data-testid="setup-display-name" />
        </Form.Item>
        <Form.Item
          name="password"
          label={t('setup.password')}
          extra={t('setup.passwordHint')}
          rules={[
            { required: true, message: t('setup.required') },
            {
              validator: async (_rule, value: string | undefined) => {
                const length = [...(value ?? '')].length;
                if (length > 0 && length < 12) throw new Error(t('setup.passwordShort'));
                if (length > 128) throw new Error(t('setup.passwordLong'));
                const username = (form.getFieldValue('username') as string | undefined)?.trim().toLowerCase();
                if (value && username && value.toLowerCase().includes(username))
                  throw new Error(t('setup.passwordUsername'));
              },
            },
          ]}
        >
          <Input.Password autoComplete="new-password" data-testid="setup-password" />
        </Form.Item>
        <Form.Item
          name="confirm"
          label={t('setup.confirm')}
          dependencies={['password']}
          rules={[
            { required: true, message: t('setup.required') },
            ({ getFieldValue }) => ({
              validator: async (_rule, value: string | undefined) => {
                if (value && value !== getFieldValue('password')) throw new Error(t('setup.mismatch'));
              },
            }),
          ]}
        >
          <Input.Password autoComplete="new-password" data-testid="setup-confirm" />
        </Form.Item>
        <Button type="primary" htmlType="submit" block loading={busy} data-testid="setup-submit">
          {t('setup.submit')}
        </Button>
      </Form>
      <Button type="link" onClick={onSignIn} style={{ padding: 0 }} data-testid="setup-sign-in">
        {t('setup.haveAccount')}
      </Button>
    </Space>
  );
}
