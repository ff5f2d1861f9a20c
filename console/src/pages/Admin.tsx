import { Card, Tabs } from 'antd';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router-dom';
import { QueueSettings } from '../components/admin/QueueSettings.js';
import { UsersTable } from '../components/admin/UsersTable.js';
import { useSession } from '../session.js';

/** Administration: users, roles and scopes ('users.manage'); review queues ('config.manage'). */
export default function Admin() {
  const { t } = useTranslation();
  const { can } = useSession();
  const [params, setParams] = useSearchParams();
  const items = [
    can('users.manage') && { key: 'users', label: t('admin.users'), children: <UsersTable /> },
    can('config.manage') && { key: 'queues', label: t('admin.queues'), children: <QueueSettings /> },
  ].filter((x) => x !== false);
  const active = items.find((i) => i.key === params.get('tab'))?.key ?? items[0]?.key;
  return (
    <Card title={t('admin.title')}>
      <Tabs items={items} activeKey={active} onChange={(tab) => setParams({ tab })} destroyOnHidden />
    </Card>
  );
}
