import { useQueryClient } from '@tanstack/react-query';
import { Alert, Button, Form, Input, QRCode, Space, Typography } from 'antd';
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, post, setCsrfToken } from '../api/client.js';

/** First sign-in of a role that needs TOTP: scan the QR code, confirm one code, and continue. */
export function TotpEnrol() {
  const { t } = useTranslation();
  const client = useQueryClient();
  const [enrolment, setEnrolment] = useState<{ secret: string; uri: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  // One enrolment per mount: each call replaces the pending secret, so a second call (StrictMode
  // runs effects twice in development builds) would leave a QR code the server no longer accepts.
  const started = useRef(false);
  useEffect(() => {
    if (started.current) return;
    started.current = true;
    post<{ secret: string; uri: string }>('/api/v1/auth/totp/enroll').then(setEnrolment, (e: Error) =>
      setError(e.message),
    );
  }, []);
  const confirm = async ({ code }: { code: string }) => {
    try {
      const r = await post<{ session?: { csrfToken: string } }>('/api/v1/auth/totp/confirm', { code });
      if (r.session) setCsrfToken(r.session.csrfToken);
      await client.invalidateQueries({ queryKey: ['me'] });
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
  };
  return (
    <Space direction="vertical" style={{ width: '100%' }}>
      <Typography.Text>{t('signIn.enrol')}</Typography.Text>
      {error && <Alert type="error" showIcon message={error} />}
      {enrolment && (
        <>
          <QRCode value={enrolment.uri} size={180} bordered={false} />
          <Typography.Text copyable code data-testid="totp-secret">
            {enrolment.secret}
          </Typography.Text>
          <Form layout="vertical" onFinish={confirm}>
            <Form.Item name="code" label={t('signIn.totp')} rules={[{ required: true, pattern: /^\d{6}$/ }]}>
              <Input
                inputMode="numeric"
                autoComplete="one-time-code"
                maxLength={6}
                data-testid="totp-enrol-code"
              />
            </Form.Item>
            <Button type="primary" htmlType="submit" block data-testid="totp-enrol-confirm">
              {t('signIn.verify')}
            </Button>
          </Form>
        </>
      )}
    </Space>
  );
}
