import { useQuery } from '@tanstack/react-query';
import { Alert as Notice, Button, Card, Descriptions, List, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { ApiError, get } from '../../api/client.js';
import type { AuditCheckpoint, AuditVerification } from '../../api/types.js';

/** Recomputes the audit chain on the server and shows ok, or the first bad entry and why. */
export function VerifyPanel() {
  const { t } = useTranslation();
  const verify = useQuery({
    queryKey: ['audit-verify'],
    queryFn: () => get<AuditVerification>('/api/v1/audit/verify'),
    staleTime: 0,
  });
  const checkpoint = useQuery({
    queryKey: ['audit-checkpoint'],
    queryFn: async () => {
      try {
        return await get<AuditCheckpoint>('/api/v1/audit/checkpoints/latest');
      } catch (e) {
        if (e instanceof ApiError && e.status === 404) return null;
        throw e;
      }
    },
  });
  const r = verify.data;
  return (
    <Card
      title={t('audit.verify')}
      loading={verify.isLoading}
      data-testid="audit-verify"
      extra={
        <Button
          loading={verify.isFetching}
          onClick={() => {
            void verify.refetch();
            void checkpoint.refetch();
          }}
          data-testid="audit-verify-again"
        >
          {t('audit.verifyAgain')}
        </Button>
      }
    >
      {verify.error && <Notice type="error" showIcon message={(verify.error as Error).message} />}
      {r && (
        <>
          <Notice
            type={r.ok ? 'success' : 'error'}
            showIcon
            data-testid="audit-verify-status"
            message={r.ok ? t('audit.verifyOk') : t('audit.verifyBad')}
            description={
              r.firstProblem && (
                <Typography.Text data-testid="audit-first-bad">
                  {`${t('audit.firstBad')}: #${r.firstProblem.seq} (${r.firstProblem.kind}) ${r.firstProblem.message}`}
                </Typography.Text>
              )
            }
          />
          <Descriptions size="small" column={4} style={{ marginTop: 12 }}>
            <Descriptions.Item label={t('audit.checked')}>
              <span data-testid="audit-checked">{r.checked}</span>
            </Descriptions.Item>
            <Descriptions.Item label={t('audit.range')}>
              {r.first ? `#${r.first} – #${r.last}` : '—'}
            </Descriptions.Item>
            <Descriptions.Item label={t('audit.checkpoints')}>
              {`${r.checkpointsChecked} / ${r.checkpointsChecked + r.checkpointsSkipped}`}
            </Descriptions.Item>
            <Descriptions.Item label={t('audit.latestCheckpoint')}>
              {checkpoint.data
                ? `#${checkpoint.data.id} · ${t('audit.treeSize')} ${checkpoint.data.treeSize} · ${new Date(checkpoint.data.createdAt).toLocaleString()}`
                : t('audit.noCheckpoint')}
            </Descriptions.Item>
          </Descriptions>
          {r.problems.length > 1 && (
            <List
              size="small"
              header={t('audit.problems')}
              dataSource={r.problems.slice(0, 10)}
              renderItem={(p) => <List.Item>{`#${p.seq} ${p.kind}: ${p.message}`}</List.Item>}
            />
          )}
        </>
      )}
    </Card>
  );
}
