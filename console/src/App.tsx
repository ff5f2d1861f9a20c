import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { App as AntApp, ConfigProvider, Spin } from 'antd';
import enUS from 'antd/locale/en_US';
import zhCN from 'antd/locale/zh_CN';
import { lazy, Suspense } from 'react';
import { useTranslation } from 'react-i18next';
import { BrowserRouter, Navigate, Route, Routes } from 'react-router-dom';
import { ApiError } from './api/client.js';
import { Shell } from './components/Shell.js';
import { SignIn } from './pages/SignIn.js';
import { SessionProvider, useMe } from './session.js';

// One chunk per page: the first load carries only the shell.
const Dashboard = lazy(() => import('./pages/Dashboard.js'));
const AlertQueue = lazy(() => import('./pages/AlertQueue.js'));
const AlertDetail = lazy(() => import('./pages/AlertDetail.js'));
const Search = lazy(() => import('./pages/Search.js'));
const Grants = lazy(() => import('./pages/Grants.js'));
const MyNotices = lazy(() => import('./pages/MyNotices.js'));
const Conversation = lazy(() => import('./pages/Conversation.js'));
const Policies = lazy(() => import('./pages/Policies.js'));
const Cases = lazy(() => import('./pages/Cases.js'));
const CaseDetail = lazy(() => import('./pages/CaseDetail.js'));
const AuditLog = lazy(() => import('./pages/AuditLog.js'));
const CaptureHealth = lazy(() => import('./pages/CaptureHealth.js'));
const Admin = lazy(() => import('./pages/Admin.js'));
const MyConversations = lazy(() => import('./pages/MyConversations.js'));
const MonitoringNotice = lazy(() => import('./pages/MonitoringNotice.js'));
const PrivacyNotices = lazy(() => import('./pages/PrivacyNotices.js'));

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      refetchOnWindowFocus: false,
      staleTime: 10_000,
      // A refusal or a bad request will not change on retry (and each refused read is audited).
      retry: (failures, error) => !(error instanceof ApiError && error.status < 500) && failures < 2,
    },
  },
});

export function App() {
  const { i18n } = useTranslation();
  return (
    <ConfigProvider
      locale={i18n.language === 'en' ? enUS : zhCN}
      // WCAG AA asks 4.5:1 for text: Ant Design's blue-6 gives white button text and links 4.0:1
      // and its hint grey 3.4:1, so blue-7 and a darker grey.
      theme={{
        token: { colorPrimary: '#0958d9', colorLink: '#0958d9', colorTextDescription: 'rgba(0, 0, 0, 0.65)' },
      }}
      button={{ autoInsertSpace: false }}
    >
      <AntApp>
        <QueryClientProvider client={queryClient}>
          <BrowserRouter>
            <Root />
          </BrowserRouter>
        </QueryClientProvider>
      </AntApp>
    </ConfigProvider>
  );
}

function Root() {
  const me = useMe();
  if (me.isLoading) return <Spin fullscreen />;
  if (!me.data || me.data.stage !== 'full') return <SignIn stage={me.data?.stage} />;
  const can = (permission: string) => me.data!.permissions.includes(permission);
  const home = homeOf(can);
  return (
    <SessionProvider me={me.data}>
      <Shell>
        <Suspense fallback={<Spin />}>
          <Routes>
            <Route path="/" element={<Navigate to={home} replace />} />
            <Route path="/dashboard" element={<Dashboard />} />
            <Route path="/review/alerts" element={<AlertQueue />} />
            <Route path="/review/alerts/:id" element={<AlertDetail />} />
            <Route path="/search" element={<Search />} />
            <Route path="/grants" element={<Grants />} />
            <Route path="/me/notices" element={<MyNotices />} />
            <Route path="/me/conversations" element={<MyConversations />} />
            <Route path="/me/privacy-notice" element={<MonitoringNotice />} />
            {can('privacy.manage') && <Route path="/privacy" element={<PrivacyNotices />} />}
            <Route path="/conversations/:id" element={<Conversation />} />
            <Route path="/policies" element={<Policies />} />
            {can('review.read') && <Route path="/review/cases" element={<Cases />} />}
            {can('review.read') && <Route path="/review/cases/:id" element={<CaseDetail />} />}
            {(can('audit.read') || can('audit.verify')) && <Route path="/audit" element={<AuditLog />} />}
            {can('capture.read') && <Route path="/capture" element={<CaptureHealth />} />}
            {(can('users.manage') || can('config.manage')) && <Route path="/admin" element={<Admin />} />}
            <Route path="*" element={<Navigate to={home} replace />} />
          </Routes>
        </Suspense>
      </Shell>
    </SessionProvider>
  );
}

/** The first page this user may see: reviewers' dashboard, else the page of their main duty. */
function homeOf(can: (permission: string) => boolean): string {
  if (can('review.read')) return '/dashboard';
  if (can('audit.read')) return '/audit';
  if (can('users.manage')) return '/admin';
  if (can('capture.read')) return '/capture';
  return '/me/notices';
}
