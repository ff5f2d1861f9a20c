import { useQuery } from '@tanstack/react-query';
import { Card, Col, Descriptions, Statistic, Tag } from 'antd';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { ApiError, get } from '../../api/client.js';
import type { CaptureHealth } from '../../api/types.js';
import { useSession } from '../../session.js';

export interface SlaFigures {
  breached: number;
  breachRate: number | null;
  openOverdue: number;
}
export interface SamplingCoverage {
  monthlyRandom?: { achievedRate: number | null; configuredRate: number };
  weeklySensitive?: { minCoverage: number | null };
}

const percent = (v: number | null | undefined) =>
  v === null || v === undefined ? '—' : `${(v * 100).toFixed(1)}%`;
const CAPTURE_COLOR = { ok: 'green', warning: 'orange', critical: 'red', not_started: 'default' } as const;

/** SLA status, sampling coverage and (for those who may see it) capture health, side by side. */
export function StatusCards({ sla, sampling }: { sla?: SlaFigures; sampling?: SamplingCoverage }) {
  const { t } = useTranslation();
  const { can } = useSession();
  const span = can('capture.read') ? 8 : 12;
  return (
    <>
      <Col span={span}>
        <Card title={t('dashboard.sla')} data-testid="dashboard-sla">
          <Descriptions column={1} size="small">
            <Descriptions.Item label={t('dashboard.overdue')}>{sla?.openOverdue ?? 0}</Descriptions.Item>
            <Descriptions.Item label={t('dashboard.breached')}>{sla?.breached ?? 0}</Descriptions.Item>
            <Descriptions.Item label={t('dashboard.breachRate')}>
              {percent(sla?.breachRate)}
            </Descriptions.Item>
          </Descriptions>
        </Card>
      </Col>
      <Col span={span}>
        <Card title={t('dashboard.sampling')} data-testid="dashboard-sampling">
          <Descriptions column={1} size="small">
            <Descriptions.Item label={t('dashboard.monthly')}>
              {`${percent(sampling?.monthlyRandom?.achievedRate)} / ${percent(sampling?.monthlyRandom?.configuredRate)}`}
            </Descriptions.Item>
            <Descriptions.Item label={t('dashboard.weekly')}>
              {percent(sampling?.weeklySensitive?.minCoverage)}
            </Descriptions.Item>
          </Descriptions>
        </Card>
      </Col>
      {can('capture.read') && (
        <Col span={8}>
          <CaptureCard />
        </Col>
      )}
    </>
  );
}

function CaptureCard() {
  const { t } = useTranslation();
  const { corp } = useSession();
  const health = useQuery({
    queryKey: ['capture', corp],
    queryFn: () => get<CaptureHealth>(`/api/v1/corps/${corp}/capture-health`),
  });
  const h = health.data;
  const missing = health.error instanceof ApiError && health.error.status === 404;
  return (
    <Card
      title={t('dashboard.capture')}
      extra={<Link to="/capture">{t('nav.capture')}</Link>}
      loading={health.isLoading}
      data-testid="dashboard-capture"
    >
      {h ? (
        <>
          <Tag color={CAPTURE_COLOR[h.status]}>{t(`capture.statuses.${h.status}`)}</Tag>
          <Statistic
            title={t('dashboard.quarantined')}
            value={h.envelopes.quarantined + h.envelopes.held_key}
            valueStyle={{ fontSize: 20 }}
          />
          <div>{`${t('dashboard.lastPull')}: ${h.cursor.lastPullAt ? new Date(h.cursor.lastPullAt).toLocaleString() : '—'}`}</div>
        </>
      ) : (
        missing && t('dashboard.noCapture')
      )}
    </Card>
  );
}
