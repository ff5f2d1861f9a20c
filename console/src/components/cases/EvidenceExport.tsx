import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert as Notice, App, Button, Card, Form, Select } from 'antd';
import { Link } from 'react-router-dom';
import { useTranslation } from 'react-i18next';
import { download, get } from '../../api/client.js';
import type { Grant } from '../../api/types.js';
import { useSession } from '../../session.js';
import { caseKey } from './useCaseAction.js';

/**
 * The signed evidence package (证据包) under one of the viewer's own active export grants. The ZIP
 * is fetched as a blob and saved through an object URL: the console never opens or renders it.
 */
export function EvidenceExport({ caseId }: { caseId: string }) {
  const { t } = useTranslation();
  const { corp, me, can } = useSession();
  const { message } = App.useApp();
  const client = useQueryClient();
  const [form] = Form.useForm<{ grant: string }>();
  const grants = useQuery({
    queryKey: ['grants', corp, 'active', me.user.id],
    queryFn: () =>
      get<{ items: Grant[] }>(`/api/v1/corps/${corp}/grants?status=active&requester=${me.user.id}`),
    enabled: can('grants.request'),
  });
  const usable = (grants.data?.items ?? []).filter(
    (g) => g.requesterId === me.user.id && g.actions.includes('export'),
  );
  const exportIt = useMutation({
    mutationFn: (grant: string) =>
      download(
        `/api/v1/corps/${corp}/review/cases/${caseId}/evidence`,
        { grant },
        `evidence-${corp}-case-${caseId}.zip`,
      ),
    onSuccess: async (name) => {
      void message.success(t('cases.downloaded', { name }));
      await client.invalidateQueries({ queryKey: caseKey(corp, caseId) });
    },
    onError: (e) => void message.error((e as Error).message),
  });
  return (
    <Card title={t('cases.evidence')} size="small" data-testid="evidence">
      {!grants.isLoading && usable.length === 0 ? (
        <Notice
          type="info"
          showIcon
          message={t('cases.noGrant')}
          action={can('grants.request') ? <Link to="/grants">{t('nav.grants')}</Link> : undefined}
        />
      ) : (
        <Form form={form} layout="vertical" onFinish={(v) => exportIt.mutate(v.grant)}>
          <Form.Item
            name="grant"
            label={t('cases.grant')}
            extra={t('cases.grantHint')}
            rules={[{ required: true }]}
          >
            <Select
              data-testid="evidence-grant"
              loading={grants.isLoading}
              options={usable.map((g) => ({
                value: g.id,
                label: `#${g.id} · ${g.reason}${g.validUntil ? ` · ${new Date(g.validUntil).toLocaleString()}` : ''}`,
              }))}
            />
          </Form.Item>
          <Button
            type="primary"
            htmlType="submit"
            loading={exportIt.isPending}
            data-testid="evidence-download"
          >
            {t('cases.download')}
          </Button>
        </Form>
      )}
    </Card>
  );
}
