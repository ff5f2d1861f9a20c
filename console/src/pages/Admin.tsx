import { Card, Tabs } from 'antd';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router-dom';
import { ConnectorSettings } from '../components/admin/ConnectorSettings.js';
import { KeyringStatus } from '../components/admin/KeyringStatus.js';
import { QueueSettings } from '../components/admin/QueueSettings.js';
import { SamplingSettings } from '../components/admin/SamplingSettings.js';
import { UsersTable } from '../components/admin/UsersTable.js';
import { useSession } from '../session.js';

/**
 * Administration: users, roles and scopes ('users.manage'); review queues and sampling
 * ('config.manage'); WeCom connectors ('capture.read', changed with 'capture.manage'); keyring
 * status and rotation ('keys.manage').
 */
export default function Admin() {
  const { t } = useTranslation();
  const { can } = useSession();
  const [params, setParams] = useSearchParams();
  const items = [
    can('users.manage') && { key: 'users', label: t('admin.users'), children: <UsersTable /> },
    can('config.manage') && { key: 'queues', label: t('admin.queues'), children: <QueueSettings /> },
    can('config.manage') && {
      key: 'sampling',
      label: t('admin.samplingTab'),
      children: <SamplingSettings />,
    },
    can('capture.read') && {
      key: 'connectors',
      label: t('admin.connectors'),
      children: <ConnectorSettings />,
    },
    can('keys.manage') && { key: 'keys', label: t('admin.keyring'), children: <KeyringStatus /> },
  ].filter((x) => x !== false);
  const active = items.find((i) => i.key === params.get('tab'))?.key ?? items[0]?.key;
  return (
    <Card title={t('admin.title')}>
      <Tabs items={items} activeKey={active} onChange={(tab) => setParams({ tab })} destroyOnHidden />
    </Card>
  );
}
