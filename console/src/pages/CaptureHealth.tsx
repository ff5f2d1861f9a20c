import { useQuery } from '@tanstack/react-query';
import { Alert as Notice, Card, Col, Descriptions, Empty, Progress, Row, Space, Statistic, Tag } from 'antd';
import type { TFunction } from 'i18next';
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, get } from '../api/client.js';
import type { CaptureHealth as Health } from '../api/types.js';
import { Chart } from '../components/Chart.js';
import { QuarantineTable } from '../components/capture/QuarantineTable.js';
import { useSession } from '../session.js';

/** WeCom serves archived messages for this many days (WECOM_WINDOW_DAYS in src/wecom/connector/health.ts). */
const WINDOW_DAYS = 3;
const STATUS_COLOR = { ok: 'green', warning: 'orange', critical: 'red', not_started: 'default' } as const;

/** Capture health per corp: the lag against WeCom's window, continuity, decrypt and media failures. */
export default function CaptureHealth() {
  const { t } = useTranslation();
  const { corp } = useSession();
  const health = useQuery({
    queryKey: ['capture-health', corp],
    queryFn: async () => {
      try {
        return await get<Health>(`/api/v1/corps/${corp}/capture-health`);
      } catch (e) {
        if (e instanceof ApiError && e.status === 404) return null;
        throw e;
      }
    },
    refetchInterval: 60_000,
  });
  const h = health.data;
  const chart = useMemo(() => (h ? keyVersionChart(h, t) : null), [h, t]);
  if (health.isLoading || health.error)
    return <Card loading={health.isLoading}>{health.error ? String(health.error) : null}</Card>;
  if (!h)
    return (
      <Card title={t('capture.title')}>
        <Empty description={t('capture.notConfigured')} />
      </Card>
    );
  const remaining = h.windowRemainingSeconds;
  const percent =
    remaining === null ? 0 : Math.max(0, Math.min(100, (remaining / (WINDOW_DAYS * 86_400)) * 100));
  return (
    <Row gutter={[16, 16]} data-testid="capture">
      <Col span={8}>
        <Card title={`${t('capture.title')} · ${h.wecomCorpId}`}>
          <Space direction="vertical" style={{ width: '100%' }}>
            <Space>
              <Tag color={STATUS_COLOR[h.status]} data-testid="capture-status">
                {t(`capture.statuses.${h.status}`)}
              </Tag>
              {!h.enabled && <Tag>{t('capture.disabled')}</Tag>}
            </Space>
            <div>{t('capture.window')}</div>
            <Progress
              percent={Math.round(percent)}
              status={h.status === 'critical' ? 'exception' : h.status === 'warning' ? 'normal' : 'success'}
              format={() => <span data-testid="capture-window">{duration(remaining, t)}</span>}
            />
            <Notice type="info" message={t('capture.windowHint', { days: WINDOW_DAYS })} />
            <Descriptions column={1} size="small">
              <Descriptions.Item label={t('capture.lastPull')}>{time(h.cursor.lastPullAt)}</Descriptions.Item>
              <Descriptions.Item label={t('capture.lastNew')}>{time(h.cursor.lastNewAt)}</Descriptions.Item>
              <Descriptions.Item label={t('capture.newest')}>{time(h.newestMessageAt)}</Descriptions.Item>
            </Descriptions>
            {h.cursor.lastError && (
              <Notice
                type="error"
                showIcon
                message={`${t('capture.lastError')} · ${time(h.cursor.lastErrorAt)}`}
                description={h.cursor.lastError}
                data-testid="capture-error"
              />
            )}
          </Space>
        </Card>
      </Col>
      <Col span={16}>
        <Card title={t('capture.continuity')}>
          <Row gutter={16}>
            <Col span={6}>
              <Statistic title={t('capture.cursor')} value={h.cursor.seq} groupSeparator="" />
            </Col>
            <Col span={6}>
              <Statistic title={t('capture.pulledTotal')} value={h.cursor.pulledTotal} />
            </Col>
            {(['pending', 'archived'] as const).map((s) => (
              <Col span={6} key={s}>
                <Statistic title={t(`capture.envelopes.${s}`)} value={h.envelopes[s]} />
              </Col>
            ))}
          </Row>
          <Row gutter={16} style={{ marginTop: 16 }}>
            {(['held_key', 'quarantined'] as const).map((s) => (
              <Col span={6} key={s}>
                <Statistic
                  title={t(`capture.envelopes.${s}`)}
                  value={h.envelopes[s]}
                  valueStyle={h.envelopes[s] ? { color: '#cf1322' } : undefined}
                />
              </Col>
            ))}
            <Col span={6}>
              <Statistic title={t('capture.unknownTypes')} value={h.unknownTypes} />
            </Col>
          </Row>
        </Card>
        <Card title={t('capture.media')} style={{ marginTop: 16 }}>
          <Row gutter={16} data-testid="capture-media">
            {(['pending', 'stored', 'failed', 'expired'] as const).map((s) => (
              <Col span={6} key={s}>
                <Statistic
                  title={t(`capture.mediaStates.${s}`)}
                  value={h.media[s]}
                  valueStyle={s === 'failed' && h.media.failed ? { color: '#cf1322' } : undefined}
                />
              </Col>
            ))}
          </Row>
        </Card>
      </Col>
      <Col span={24}>
        <Card title={t('capture.byKeyVersion')}>
          {h.decryptProblemsByKeyVersion.length ? (
            chart && <Chart option={chart} height={240} testId="chart-key-versions" />
          ) : (
            <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} />
          )}
        </Card>
      </Col>
      <Col span={24}>
        <QuarantineTable />
      </Col>
    </Row>
  );
}

const time = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : '—');

function duration(seconds: number | null, t: TFunction): string {
  if (seconds === null) return '—';
  if (seconds <= 0) return t('capture.expired');
  const hours = Math.floor(seconds / 3600);
  return hours >= 24
    ? t('capture.days', { d: Math.floor(hours / 24), h: hours % 24 })
    : t('capture.hours', { h: hours });
}

function keyVersionChart(h: Health, t: TFunction) {
  const versions = h.decryptProblemsByKeyVersion.map((v) =>
    v.publickeyVer === null ? t('capture.unknownVersion') : `v${v.publickeyVer}`,
  );
  return {
    tooltip: { trigger: 'axis' },
    legend: { data: [t('capture.envelopes.held_key'), t('capture.envelopes.quarantined')] },
    xAxis: { type: 'category', name: t('capture.keyVersion'), data: versions },
    yAxis: { type: 'value', minInterval: 1 },
    series: [
      {
        name: t('capture.envelopes.held_key'),
        type: 'bar',
        stack: 'all',
        color: '#fa8c16',
        data: h.decryptProblemsByKeyVersion.map((v) => v.held),
      },
      {
        name: t('capture.envelopes.quarantined'),
        type: 'bar',
        stack: 'all',
        color: '#f5222d',
        data: h.decryptProblemsByKeyVersion.map((v) => v.quarantined),
      },
    ],
  };
}
