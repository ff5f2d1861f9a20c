import { useQuery } from '@tanstack/react-query';
import { Alert as Notice, Card, Col, Descriptions, Row, Space, Timeline, Typography } from 'antd';
import type { TFunction } from 'i18next';
import { useTranslation } from 'react-i18next';
import { useParams } from 'react-router-dom';
import { get } from '../api/client.js';
import type { Case, CaseEvent } from '../api/types.js';
import { CaseActions } from '../components/cases/CaseActions.js';
import { CaseAlerts, CaseParticipants } from '../components/cases/CaseLinks.js';
import { CaseTags } from '../components/cases/CaseTags.js';
import { EvidenceExport } from '../components/cases/EvidenceExport.js';
import { caseKey } from '../components/cases/useCaseAction.js';
import { useSession } from '../session.js';

const EVENT_COLOR: Record<string, string> = {
  hold_set: 'red',
  hold_released: 'green',
  closed: 'gray',
  evidence_exported: 'purple',
};

/** One case: its timeline, alerts, participants, the reviewer's actions and the evidence export. */
export default function CaseDetail() {
  const { id = '' } = useParams();
  const { t } = useTranslation();
  const { corp, can } = useSession();
  const detail = useQuery({
    queryKey: caseKey(corp, id),
    queryFn: () => get<Case>(`/api/v1/corps/${corp}/review/cases/${id}`),
  });
  const c = detail.data;
  if (!c) return <Card loading={detail.isLoading}>{detail.error ? String(detail.error) : null}</Card>;
  const decide = can('review.decide');
  return (
    <Row gutter={16}>
      <Col span={15}>
        <Space direction="vertical" style={{ width: '100%' }}>
          <Card
            title={
              <Space>
                <span>{`#${c.id}`}</span>
                <Typography.Text data-testid="case-title-text">{c.title}</Typography.Text>
              </Space>
            }
            extra={<CaseTags value={c} />}
          >
            <Descriptions column={3} size="small">
              <Descriptions.Item label={t('cases.createdAt')}>
                {new Date(c.createdAt).toLocaleString()}
              </Descriptions.Item>
              <Descriptions.Item label={t('cases.alerts')}>{c.alertIds.length}</Descriptions.Item>
              <Descriptions.Item label={t('cases.participants')}>{c.participants.length}</Descriptions.Item>
            </Descriptions>
            {c.legalHold && <Notice type="warning" showIcon message={t('cases.holdOn')} />}
            {c.status === 'closed' && <Notice type="info" showIcon message={t('cases.closedNotice')} />}
          </Card>
          <Card title={t('cases.timeline')}>
            <Timeline data-testid="case-timeline" items={c.timeline.map((e) => timelineItem(e, t))} />
          </Card>
        </Space>
      </Col>
      <Col span={9}>
        <Space direction="vertical" style={{ width: '100%' }}>
          <CaseAlerts value={c} editable={decide && c.status === 'open'} />
          <CaseParticipants value={c} editable={decide && c.status === 'open'} />
          {decide && <CaseActions value={c} />}
          {decide && <EvidenceExport caseId={c.id} />}
        </Space>
      </Col>
    </Row>
  );
}

function timelineItem(e: CaseEvent, t: TFunction) {
  return {
    key: e.id,
    color: EVENT_COLOR[e.kind] ?? 'blue',
    children: (
      <div data-testid={`case-event-${e.kind}`}>
        <Typography.Text type="secondary">
          {`${new Date(e.createdAt).toLocaleString()} · ${e.actorId ? `#${e.actorId}` : 'system'}`}
        </Typography.Text>
        <div>
          <Typography.Text strong>{t(`cases.events.${e.kind}`, e.kind)}</Typography.Text>
        </div>
        {e.body && (
          <Typography.Paragraph style={{ whiteSpace: 'pre-wrap', margin: 0 }}>{e.body}</Typography.Paragraph>
        )}
      </div>
    ),
  };
}
