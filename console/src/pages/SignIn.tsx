import { Alert, Button, Card, Form, Input, Space, Typography } from 'antd';
import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, post, setCsrfToken } from '../api/client.js';
import { TotpEnrol } from '../components/TotpEnrol.js';
import { setLanguage } from '../i18n/index.js';

interface SignInResult {
  stage: 'totp' | 'enrol' | 'full';
  csrfToken: string;
}

/** Password, then the TOTP code when the account has one. */
export function SignIn({ stage }: { stage?: 'totp' | 'enrol' | 'full' }) {
  const { t, i18n } = useTranslation();
  const client = useQueryClient();
  const [step, setStep] = useState<'password' | 'totp' | 'enrol'>(
    stage === 'totp' ? 'totp' : stage === 'enrol' ? 'enrol' : 'password',
  );
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const run = async (work: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await work();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  const after = async (result: SignInResult) => {
    setCsrfToken(result.csrfToken);
    if (result.stage === 'full') await client.invalidateQueries({ queryKey: ['me'] });
    else setStep(result.stage === 'totp' ? 'totp' : 'enrol');
  };

  return (
    <div style={{ minHeight: '100vh', display: 'grid', placeItems: 'center', background: '#f5f7fa' }}>
      <Card style={{ width: 380 }}>
        <Space direction="vertical" style={{ width: '100%' }} size="large">
          <Typography.Title level={3} style={{ margin: 0 }}>
            {t('signIn.title')}
          </Typography.Title>
          {error && <Alert type="error" message={t('signIn.failed')} description={error} showIcon />}
          {step === 'password' && (
            <Form
              layout="vertical"
              onFinish={(v: { username: string; password: string }) =>
                run(async () => after(await post<SignInResult>('/api/v1/auth/sign-in', v)))
              }
            >
              <Form.Item name="username" label={t('signIn.username')} rules={[{ required: true }]}>
                <Input autoComplete="username" autoFocus />
              </Form.Item>
              <Form.Item name="password" label={t('signIn.password')} rules={[{ required: true }]}>
                <Input.Password autoComplete="current-password" />
              </Form.Item>
              <Button type="primary" htmlType="submit" block loading={busy}>
                {t('signIn.submit')}
              </Button>
            </Form>
          )}
          {step === 'totp' && (
            <Form
              layout="vertical"
              onFinish={(v: { code: string }) =>
                run(async () => after(await post<SignInResult>('/api/v1/auth/totp', v)))
              }
            >
              <Form.Item
                name="code"
                label={t('signIn.totp')}
                extra={t('signIn.totpHint')}
                rules={[{ required: true, pattern: /^\d{6}$/ }]}
              >
                <Input inputMode="numeric" autoComplete="one-time-code" maxLength={6} autoFocus />
              </Form.Item>
              <Button type="primary" htmlType="submit" block loading={busy}>
                {t('signIn.verify')}
              </Button>
            </Form>
          )}
          {step === 'enrol' && <TotpEnrol />}
          <Button type="link" onClick={() => setLanguage(i18n.language === 'en' ? 'zh-CN' : 'en')}>
            {t('app.language')}
          </Button>
        </Space>
      </Card>
    </div>
  );
}
