import {
  AlertOutlined,
  AuditOutlined,
  BellOutlined,
  CloudSyncOutlined,
  CommentOutlined,
  DashboardOutlined,
  ExperimentOutlined,
  FileProtectOutlined,
  FolderOpenOutlined,
  KeyOutlined,
  SafetyCertificateOutlined,
  SearchOutlined,
  SettingOutlined,
  SolutionOutlined,
} from '@ant-design/icons';
import { Button, Layout, Menu, Select, Space, Typography, Watermark } from 'antd';
import { useEffect, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { useLocation, useNavigate } from 'react-router-dom';
import { markText } from '../../../src/access/content/invisible-mark.js';
import { post } from '../api/client.js';
import { setLanguage } from '../i18n/index.js';
import { useSession } from '../session.js';
import { NoticeBanner } from './NoticeBanner.js';

/** The frame of every signed-in page: navigation by permission, corp switcher, watermark. */
export function Shell({ children }: { children: ReactNode }) {
  const { t, i18n } = useTranslation();
  const session = useSession();
  const navigate = useNavigate();
  const location = useLocation();
  const items = [
    session.can('review.read') && {
      key: '/dashboard',
      icon: <DashboardOutlined />,
      label: t('nav.dashboard'),
    },
    session.can('review.read') && { key: '/review/alerts', icon: <AlertOutlined />, label: t('nav.alerts') },
    session.can('review.read') && {
      key: '/review/cases',
      icon: <FolderOpenOutlined />,
      label: t('nav.cases'),
    },
    session.can('content.read') && { key: '/search', icon: <SearchOutlined />, label: t('nav.search') },
    session.can('grants.request') && { key: '/grants', icon: <KeyOutlined />, label: t('nav.grants') },
    session.can('config.manage') && {
      key: '/policies',
      icon: <ExperimentOutlined />,
      label: t('nav.policies'),
    },
    (session.can('audit.read') || session.can('audit.verify')) && {
      key: '/audit',
      icon: <FileProtectOutlined />,
      label: t('nav.audit'),
    },
    session.can('capture.read') && {
      key: '/capture',
      icon: <CloudSyncOutlined />,
      label: t('nav.capture'),
    },
    (session.can('users.manage') || session.can('config.manage')) && {
      key: '/admin',
      icon: <SettingOutlined />,
      label: t('nav.admin'),
    },
    session.can('review.own') && { key: '/me/notices', icon: <BellOutlined />, label: t('nav.notices') },
    session.can('content.read.own') && {
      key: '/me/conversations',
      icon: <CommentOutlined />,
      label: t('nav.myConversations'),
    },
    session.can('review.own') && {
      key: '/me/privacy-notice',
      icon: <SolutionOutlined />,
      label: t('nav.monitoringNotice'),
    },
    session.can('privacy.manage') && {
      key: '/privacy',
      icon: <SafetyCertificateOutlined />,
      label: t('nav.privacy'),
    },
  ].filter(Boolean) as Array<{ key: string; icon: ReactNode; label: string }>;
  const selected = items.find((i) => location.pathname.startsWith(i.key))?.key;
  useCopyMark(session.me.user.id);
  const stamp = useMinute();

  return (
    <Layout style={{ minHeight: '100vh' }}>
      <Layout.Sider width={208} theme="light" breakpoint="lg">
        <div style={{ padding: '16px 20px', fontWeight: 600, fontSize: 16 }}>
          <AuditOutlined /> {t('app.name')}
        </div>
        <Menu
          mode="inline"
          items={items}
          selectedKeys={selected ? [selected] : []}
          onClick={(e) => navigate(e.key)}
        />
      </Layout.Sider>
      <Layout>
        <Layout.Header
          style={{ background: '#fff', padding: '0 24px', display: 'flex', justifyContent: 'flex-end' }}
        >
          <Space>
            {session.me.corps.length > 1 && (
              <Select
                aria-label="corp"
                value={session.corp}
                onChange={(v) => session.setCorp(v)}
                options={session.me.corps.map((c) => ({ value: c.slug, label: c.name }))}
                style={{ width: 200 }}
              />
            )}
            <Typography.Text data-testid="current-user">{session.me.user.username}</Typography.Text>
            <Button type="link" onClick={() => setLanguage(i18n.language === 'en' ? 'zh-CN' : 'en')}>
              {t('app.language')}
            </Button>
            <Button
              onClick={async () => {
                await post('/api/v1/auth/sign-out');
                await session.refresh();
              }}
            >
              {t('app.signOut')}
            </Button>
          </Space>
        </Layout.Header>
        {/* 水印: who is looking and when, tiled over everything that can show content (print too). */}
        <Watermark
          content={[`${session.me.user.username} #${session.me.user.id}`, stamp]}
          font={{ color: 'rgba(0,0,0,0.08)', fontSize: 14 }}
          gap={[120, 120]}
        >
          <Layout.Content style={{ padding: 24, minHeight: 'calc(100vh - 64px)' }} data-testid="content">
            <NoticeBanner />
            {children}
          </Layout.Content>
        </Watermark>
      </Layout>
    </Layout>
  );
}

function useMinute(): string {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const timer = setInterval(() => setNow(new Date()), 60_000);
    return () => clearInterval(timer);
  }, []);
  return now.toISOString().slice(0, 16).replace('T', ' ');
}

/** Text copied from the console carries an invisible mark naming the viewer (溯源). */
function useCopyMark(userId: string) {
  useEffect(() => {
    const onCopy = (event: ClipboardEvent) => {
      const text = window.getSelection()?.toString() ?? '';
      if (!text || !event.clipboardData) return;
      event.clipboardData.setData(
        'text/plain',
        markText(text, { userId, minute: Math.floor(Date.now() / 60_000) }),
      );
      event.preventDefault();
    };
    document.addEventListener('copy', onCopy);
    return () => document.removeEventListener('copy', onCopy);
  }, [userId]);
}
