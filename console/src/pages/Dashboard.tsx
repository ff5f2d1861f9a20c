import { useQuery } from '@tanstack/react-query';
import { Card, Col, Row, Statistic } from 'antd';
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { get } from '../api/client.js';
import { Chart } from '../components/Chart.js';
import { StatusCards, type SamplingCoverage } from '../components/dashboard/StatusCards.js';
import { useSession } from '../session.js';

interface Metrics {
  alerts: { total: number; byCategory: Record<string, number>; byStatus: Record<string, number> };
  daily: Array<{ day: string; severity: string; alerts: number }>;
  departmentDays: Array<{ department: string; day: string; alerts: number }>;
  sla: { breached: number; breachRate: number | null; openOverdue: number };
  appeals: { appealRate: number | null };
}
interface SamplingReport extends SamplingCoverage {
  humanReview?: { ratio: number | null; target: number };
}

const SEVERITIES = ['low', 'medium', 'high', 'critical'];
const COLORS = ['#8c8c8c', '#1677ff', '#fa8c16', '#f5222d'];

/**
 * Alerts over time by severity, by category, SLA status, a department heatmap, sampling coverage,
 * the human-review ratio and capture health.
 */
export default function Dashboard() {
  const { t } = useTranslation();
  const { corp, can } = useSession();
  const to = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  const from = new Date(Date.now() - 30 * 86_400_000).toISOString().slice(0, 10);
  const metrics = useQuery({
    queryKey: ['metrics', corp, from],
    queryFn: () => get<Metrics>(`/api/v1/corps/${corp}/review/metrics?from=${from}&to=${to}`),
    enabled: can('reports.read'),
  });
  const sampling = useQuery({
    queryKey: ['sampling', corp, from],
    queryFn: () => get<SamplingReport>(`/api/v1/corps/${corp}/review/sampling/report?from=${from}&to=${to}`),
    enabled: can('reports.read'),
  });
  const m = metrics.data;
  const charts = useMemo(() => {
    if (!m) return null;
    const days = [...new Set(m.daily.map((d) => d.day))];
    const trend = {
      tooltip: { trigger: 'axis' },
      legend: { data: SEVERITIES.map((s) => t(`severity.${s}`)) },
      xAxis: { type: 'category', data: days },
      yAxis: { type: 'value', minInterval: 1 },
      series: SEVERITIES.map((s, i) => ({
        name: t(`severity.${s}`),
        type: 'bar',
        stack: 'all',
        color: COLORS[i],
        data: days.map((d) => m.daily.find((x) => x.day === d && x.severity === s)?.alerts ?? 0),
      })),
    };
    const categories = Object.entries(m.alerts.byCategory).sort((a, b) => b[1] - a[1]);
    const byCategory = {
      tooltip: {},
      xAxis: { type: 'value', minInterval: 1 },
      yAxis: { type: 'category', data: categories.map((c) => t(`categories.${c[0]}`, c[0])) },
      series: [{ type: 'bar', data: categories.map((c) => c[1]), color: '#1677ff' }],
    };
    const departments = [...new Set(m.departmentDays.map((d) => d.department))];
    const heatDays = [...new Set(m.departmentDays.map((d) => d.day))].sort();
    const heatmap = {
      tooltip: { position: 'top' },
      grid: { left: 120 },
      xAxis: { type: 'category', data: heatDays },
      yAxis: { type: 'category', data: departments },
      visualMap: {
        min: 0,
        max: Math.max(1, ...m.departmentDays.map((d) => d.alerts)),
        orient: 'horizontal',
        left: 'center',
        bottom: 0,
      },
      series: [
        {
          type: 'heatmap',
          data: m.departmentDays.map((d) => [
            heatDays.indexOf(d.day),
            departments.indexOf(d.department),
            d.alerts,
          ]),
        },
      ],
    };
    return { trend, byCategory, heatmap };
  }, [m, t]);

  const ratio = sampling.data?.humanReview?.ratio;
  return (
    <Row gutter={[16, 16]} data-testid="dashboard">
      <Col span={8}>
        <Card>
          <Statistic title={t('nav.alerts')} value={m?.alerts.total ?? 0} loading={metrics.isLoading} />
        </Card>
      </Col>
      <Col span={8}>
        <Card>
          <Statistic
            title={t('dashboard.appealRate')}
            value={m?.appeals.appealRate === null || !m ? '—' : `${(m.appeals.appealRate * 100).toFixed(1)}%`}
          />
        </Card>
      </Col>
      <Col span={8}>
        <Card>
          <Statistic
            title={t('dashboard.humanReview')}
            value={ratio === undefined || ratio === null ? '—' : `${(ratio * 100).toFixed(1)}%`}
          />
        </Card>
      </Col>
      <StatusCards sla={m?.sla} sampling={sampling.data} />
      <Col span={14}>
        <Card title={t('dashboard.bySeverity')}>
          {charts && <Chart option={charts.trend} testId="chart-trend" />}
        </Card>
      </Col>
      <Col span={10}>
        <Card title={t('dashboard.byCategory')}>
          {charts && <Chart option={charts.byCategory} testId="chart-category" />}
        </Card>
      </Col>
      <Col span={24}>
        <Card title={t('dashboard.heatmap')}>
          {charts && <Chart option={charts.heatmap} height={320} testId="chart-heatmap" />}
        </Card>
      </Col>
    </Row>
  );
}
