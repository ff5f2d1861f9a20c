import { Alert, Button } from 'antd';
import { useTranslation } from 'react-i18next';
import { useLocation, useNavigate } from 'react-router-dom';
import { useMyNotice } from '../api/self-service.js';
import { useSession } from '../session.js';

/**
 * Shown above every page while the monitoring notice in force has not been acknowledged by the
 * signed-in employee (PIPL 告知): it links to the notice.
 */
export function NoticeBanner() {
  const { t } = useTranslation();
  const { corp, can } = useSession();
  const navigate = useNavigate();
  const location = useLocation();
  const state = useMyNotice(corp, can('review.own'));
  const data = state.data;
  if (!data?.notice || data.acknowledgement || !data.employeeUserid) return null;
  return (
    <div data-testid="privacy-banner" style={{ marginBottom: 16 }}>
      <Alert
        type="warning"
        showIcon
        message={t('privacy.banner', { version: data.notice.version })}
        action={
          location.pathname !== '/me/privacy-notice' && (
            <Button size="small" type="primary" onClick={() => navigate('/me/privacy-notice')}>
              {t('privacy.read')}
            </Button>
          )
        }
      />
    </div>
  );
}
