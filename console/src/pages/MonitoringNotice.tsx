import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Alert, App, Button, Card, Descriptions, Empty, Result, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { post } from '../api/client.js';
import { myNoticeKey, noticeText, useMyNotice, type Acknowledgement } from '../api/self-service.js';
import { useSession } from '../session.js';

/**
 * The monitoring notice in force (PIPL 告知) and its acknowledgement: a consent record with the
 * time, address and browser, once per version. The notice is shown as text, never as HTML.
 */
export default function MonitoringNotice() {
  const { t, i18n } = useTranslation();
  const { corp } = useSession();
  const { message } = App.useApp();
  const client = useQueryClient();
  const state = useMyNotice(corp);
  const acknowledge = useMutation({
    mutationFn: (version: number) =>
      post<{ acknowledgement: Acknowledgement; created: boolean }>(
        `/api/v1/corps/${corp}/me/privacy-notice/acknowledge`,
        { version },
      ),
    onSuccess: async () => {
      await client.invalidateQueries({ queryKey: myNoticeKey(corp) });
      void message.success(t('privacy.done'));
    },
    onError: (e) => void message.error((e as Error).message),
  });
  const data = state.data;
  if (state.isLoading) return <Card loading />;
  if (state.error) return <Alert type="error" showIcon message={(state.error as Error).message} />;
  if (!data?.notice)
    return (
      <Card title={t('privacy.notice')}>
        <Empty description={t('privacy.none')} />
      </Card>
    );
  const notice = data.notice;
  const shown = noticeText(notice, i18n.language);
  const ack = data.acknowledgement;
  return (
    <Card title={t('privacy.notice')} data-testid="privacy-notice">
      <Typography.Title level={4} data-testid="privacy-notice-title">
        {shown.title}
      </Typography.Title>
      <Descriptions size="small" column={2} style={{ marginBottom: 16 }}>
        <Descriptions.Item label={t('privacy.versionLabel')}>
          {t('privacy.version', { version: notice.version })}
        </Descriptions.Item>
        <Descriptions.Item label={t('privacy.effectiveOn')}>{notice.effectiveOn}</Descriptions.Item>
      </Descriptions>
      {/* Text, never markup: React escapes it; line breaks are kept by CSS. */}
      <Typography.Paragraph
        style={{ whiteSpace: 'pre-wrap', fontSize: 15, lineHeight: 1.8 }}
        data-testid="privacy-notice-body"
      >
        {shown.body}
      </Typography.Paragraph>
      {ack ? (
        <div data-testid="privacy-acknowledged">
          <Result
            status="success"
            title={t('privacy.done')}
            subTitle={t('privacy.acknowledged', {
              version: ack.version,
              time: new Date(ack.acknowledgedAt).toLocaleString(),
            })}
          />
        </div>
      ) : data.employeeUserid ? (
        <Button
          type="primary"
          size="large"
          loading={acknowledge.isPending}
          onClick={() => acknowledge.mutate(notice.version)}
          data-testid="privacy-acknowledge"
        >
          {t('privacy.acknowledge')}
        </Button>
      ) : (
        <Alert type="info" showIcon message={t('privacy.notLinked')} />
      )}
    </Card>
  );
}
