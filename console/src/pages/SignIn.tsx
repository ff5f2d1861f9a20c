import { QrcodeOutlined, SafetyCertificateOutlined } from '@ant-design/icons';
import { Alert, Button, Card, Divider, Form, Input, Space, Spin, Typography } from 'antd';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router-dom';
import { ApiError, get, post, setCsrfToken } from '../api/client.js';
import { TotpEnrol } from '../components/TotpEnrol.js';
import { setLanguage } from '../i18n/index.js';
import { Setup } from './Setup.js';

interface SignInResult {
  stage: 'totp' | 'enrol' | 'full';
  csrfToken: string;
}

/** GET /api/v1/auth/methods: how one may sign in here, and whether the first-run setup is open. */
interface SignInMethods {
  password: boolean;
  oidc: { id: string; name: string; startUrl: string }[];
  wecom: { corp: string; name: string; startUrl: string }[];
  setupRequired: boolean;
}

/** Error codes of sign-in (password, TOTP, single sign-on) the page explains in the user's language. */
const EXPLAINED = new Set([
  'invalid_credentials',
  'too_many_attempts',
  'account_disabled',
  'csrf_failed',
  'sso_refused',
  'sso_failed',
  'sso_no_account',
  'sso_identity_conflict',
  'sso_state_invalid',
  'sso_unavailable',
  'sso_not_configured',
  'wecom_not_member',
  'wecom_code_invalid',
  'wecom_code_expired',
  'wecom_unavailable',
  'employee_inactive',
]);

interface ShownError {
  title: string;
  text: string;
}

/**
 * Password, then the TOTP code when the account has one; single sign-on (OIDC, WeCom QR / OAuth)
 * as full-page redirects to the server's start endpoints. A failed single sign-on comes back as
 * `/?error=<code>`. On a fresh deployment without an administrator it offers the first-run setup.
 */
export function SignIn({ stage }: { stage?: 'totp' | 'enrol' | 'full' }) {
  const { t, i18n } = useTranslation();
  const client = useQueryClient();
  const [params, setParams] = useSearchParams();
  const [step, setStep] = useState<'password' | 'totp' | 'enrol'>(
    stage === 'totp' ? 'totp' : stage === 'enrol' ? 'enrol' : 'password',
  );
  const explain = (code: string, fallback: string) =>
    EXPLAINED.has(code) ? t(`signIn.errors.${code}`) : fallback;
  // A single sign-on that failed at the server: read once, then dropped from the address bar.
  const [error, setError] = useState<ShownError | null>(() => {
    const code = params.get('error');
    if (!code) return null;
    return {
      title: t('signIn.ssoFailed'),
      text: /^[a-z0-9_]{1,64}$/.test(code)
        ? explain(code, t('signIn.errors.unknown'))
        : t('signIn.errors.unknown'),
    };
  });
  useEffect(() => {
    if (params.has('error')) {
      const rest = new URLSearchParams(params);
      rest.delete('error');
      setParams(rest, { replace: true });
    }
  }, [params, setParams]);
  const [busy, setBusy] = useState(false);
  const methods = useQuery({
    queryKey: ['auth-methods'],
    queryFn: () => get<SignInMethods>('/api/v1/auth/methods'),
    staleTime: Infinity,
    retry: false,
  });
  // The user's choice (sign in instead, or back to the setup) and, once the administrator exists,
  // a latch that keeps the setup page up through its TOTP enrolment.
  const [setupOpen, setSetupOpen] = useState<boolean | null>(null);

  const run = async (work: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await work();
    } catch (e) {
      setError({
        title: t('signIn.failed'),
        text: e instanceof ApiError ? explain(e.code, e.message) : String(e),
      });
    } finally {
      setBusy(false);
    }
  };
  const after = async (result: SignInResult) => {
    setCsrfToken(result.csrfToken);
    if (result.stage === 'full') await client.invalidateQueries({ queryKey: ['me'] });
    else setStep(result.stage === 'totp' ? 'totp' : 'enrol');
  };
  const sso = methods.data ? [...methods.data.oidc, ...methods.data.wecom] : [];
  const setup = setupOpen ?? Boolean(methods.data?.setupRequired && !stage);
  // Until the methods arrive nothing is shown, so a fresh deployment's setup page does not flash past.
  const deciding = setupOpen === null && methods.isLoading && !stage;

  return (
    <div style={{ minHeight: '100vh', display: 'grid', placeItems: 'center', background: '#f5f7fa' }}>
      <Card style={{ width: setup ? 460 : 380 }}>
        <Space direction="vertical" style={{ width: '100%' }} size="large">
          <Typography.Title level={3} style={{ margin: 0 }}>
            {setup ? t('setup.title') : t('signIn.title')}
          </Typography.Title>
          {error && !setup && (
            <Alert
              type="error"
              message={error.title}
              description={error.text}
              showIcon
              data-testid="sign-in-error"
            />
          )}
          {deciding && <Spin />}
          {setup && <Setup onSignIn={() => setSetupOpen(false)} onCreated={() => setSetupOpen(true)} />}
          {!setup && !deciding && step === 'password' && (
            <>
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
              {sso.length > 0 && (
                <>
                  <Divider plain style={{ margin: 0 }}>
                    {t('signIn.or')}
                  </Divider>
                  <Space direction="vertical" style={{ width: '100%' }}>
                    {/* Links, not buttons: each is a full-page navigation to the server's start endpoint. */}
                    {methods.data?.oidc.map((m) => (
                      <Button
                        key={m.id}
                        href={m.startUrl}
                        block
                        icon={<SafetyCertificateOutlined />}
                        data-testid={`sso-${m.id}`}
                      >
                        {t('signIn.oidc', { name: m.name })}
                      </Button>
                    ))}
                    {methods.data?.wecom.map((m) => (
                      <Button
                        key={m.corp}
                        href={m.startUrl}
                        block
                        icon={<QrcodeOutlined />}
                        data-testid={`sso-wecom-${m.corp}`}
                      >
                        {t('signIn.wecom', { name: m.name })}
                      </Button>
                    ))}
                    {methods.data?.wecom.length ? (
                      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                        {t('signIn.wecomHint')}
                      </Typography.Text>
                    ) : null}
                  </Space>
                </>
              )}
              {methods.data?.setupRequired && !stage && (
                <Button type="link" onClick={() => setSetupOpen(true)} style={{ padding: 0 }}>
                  {t('setup.open')}
                </Button>
              )}
            </>
          )}
          {!setup && step === 'totp' && (
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
          {!setup && step === 'enrol' && <TotpEnrol />}
          <Button type="link" onClick={() => setLanguage(i18n.language === 'en' ? 'zh-CN' : 'en')}>
            {t('app.language')}
          </Button>
        </Space>
      </Card>
    </div>
  );
}
