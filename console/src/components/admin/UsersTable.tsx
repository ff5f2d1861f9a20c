import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { App, Button, Space, Table, Tag, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { del, get, post } from '../../api/client.js';
import type { RoleAssignment, UserAccount } from '../../api/types.js';
import { useSession } from '../../session.js';
import { AddRole } from './AddRole.js';
import { CreateUser } from './CreateUser.js';

export const usersKey = ['users'] as const;

/** Every account with its roles and scopes, state and TOTP; disable, sign out, add/remove roles. */
export function UsersTable() {
  const { t } = useTranslation();
  const { me } = useSession();
  const { message, modal } = App.useApp();
  const client = useQueryClient();
  const [addingRole, setAddingRole] = useState<UserAccount | null>(null);
  const users = useQuery({
    queryKey: usersKey,
    queryFn: () => get<{ items: UserAccount[] }>('/api/v1/users'),
  });
  const act = useMutation({
    mutationFn: ({ path, method = 'POST' }: { path: string; method?: 'POST' | 'DELETE' }) =>
      method === 'DELETE'
        ? del(`/api/v1/users/${path}`)
        : post<{ sessionsEnded?: number }>(`/api/v1/users/${path}`),
    onSuccess: async (result) => {
      const ended = (result as { sessionsEnded?: number } | undefined)?.sessionsEnded;
      void message.success(ended === undefined ? t('admin.saved') : t('admin.signedOut', { n: ended }));
      await client.invalidateQueries({ queryKey: usersKey });
    },
    onError: (e) => void message.error((e as Error).message),
  });
  const corpName = (id: number | null) =>
    id === null ? t('admin.global') : (me.corps.find((c) => c.id === id)?.slug ?? `#${id}`);
  const roleLabel = (r: RoleAssignment) =>
    `${t(`roles.${r.role}`, r.role)} · ${corpName(r.corpId)}${r.departmentId === null ? '' : ` · ${t('admin.department')} #${r.departmentId}`}`;

  return (
    <>
      <Space style={{ marginBottom: 12 }}>
        <CreateUser />
      </Space>
      <Table<UserAccount>
        rowKey="id"
        size="small"
        loading={users.isLoading}
        dataSource={users.data?.items ?? []}
        pagination={{ pageSize: 50, hideOnSinglePage: true }}
        data-testid="users"
        columns={[
          { title: '#', dataIndex: 'id', width: 60 },
          {
            title: t('admin.username'),
            key: 'username',
            render: (_, u) => (
              <Space direction="vertical" size={0}>
                <Typography.Text strong>{u.username}</Typography.Text>
                {u.displayName && <Typography.Text type="secondary">{u.displayName}</Typography.Text>}
              </Space>
            ),
          },
          {
            title: t('admin.corp'),
            key: 'corp',
            width: 150,
            render: (_, u) => (
              <Space direction="vertical" size={0}>
                <span>{u.corpId === null ? '—' : corpName(u.corpId)}</span>
                {u.employeeUserid && <Typography.Text type="secondary">{u.employeeUserid}</Typography.Text>}
              </Space>
            ),
          },
          {
            title: t('admin.roles'),
            key: 'roles',
            render: (_, u) => (
              <Space size={[0, 4]} wrap>
                {u.roles.map((r) => (
                  <Tag
                    key={r.id}
                    closable={u.id !== me.user.id}
                    data-testid={`role-${u.username}-${r.role}`}
                    onClose={(e) => {
                      e.preventDefault();
                      modal.confirm({
                        title: t('admin.removeRoleConfirm', { role: roleLabel(r) }),
                        onOk: () => act.mutateAsync({ path: `${u.id}/roles/${r.id}`, method: 'DELETE' }),
                      });
                    }}
                  >
                    {roleLabel(r)}
                  </Tag>
                ))}
              </Space>
            ),
          },
          {
            title: t('admin.state'),
            key: 'state',
            width: 190,
            render: (_, u) => (
              <Space size={[0, 4]} wrap data-testid={`state-${u.username}`}>
                {u.disabled ? (
                  <Tag color="red">{t('admin.disabled')}</Tag>
                ) : (
                  <Tag color="green">{t('admin.active')}</Tag>
                )}
                {u.locked && <Tag color="orange">{t('admin.locked')}</Tag>}
                {u.totpEnrolled ? <Tag color="blue">{t('admin.totp')}</Tag> : <Tag>{t('admin.noTotp')}</Tag>}
              </Space>
            ),
          },
          {
            title: '',
            key: 'actions',
            width: 260,
            render: (_, u) =>
              u.id === me.user.id ? null : (
                <Space size={4}>
                  <Button
                    size="small"
                    danger={!u.disabled}
                    onClick={() => act.mutate({ path: `${u.id}/${u.disabled ? 'enable' : 'disable'}` })}
                    data-testid={`toggle-${u.username}`}
                  >
                    {u.disabled ? t('admin.enable') : t('admin.disable')}
                  </Button>
                  <Button
                    size="small"
                    data-testid={`sign-out-${u.username}`}
                    onClick={() =>
                      modal.confirm({
                        title: t('admin.signOutConfirm'),
                        content: u.username,
                        onOk: () => act.mutateAsync({ path: `${u.id}/sign-out` }),
                      })
                    }
                  >
                    {t('admin.signOut')}
                  </Button>
                  <Button
                    size="small"
                    onClick={() => setAddingRole(u)}
                    data-testid={`add-role-${u.username}`}
                  >
                    {t('admin.addRole')}
                  </Button>
                </Space>
              ),
          },
        ]}
      />
      <AddRole user={addingRole} onClose={() => setAddingRole(null)} />
    </>
  );
}
