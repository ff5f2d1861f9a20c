import { useQuery } from '@tanstack/react-query';
import { Card } from 'antd';
import { useTranslation } from 'react-i18next';
import { useParams } from 'react-router-dom';
import { get } from '../api/client.js';
import type { Page } from '../api/types.js';
import { ChatView } from '../components/ChatView.js';
import { useSession } from '../session.js';

/** A conversation as the access service lets the viewer see it (masked, pseudonymised). */
export default function Conversation() {
  const { id } = useParams();
  const { t } = useTranslation();
  const { corp } = useSession();
  const page = useQuery({
    queryKey: ['conversation', corp, id],
    queryFn: () => get<Page>(`/api/v1/corps/${corp}/conversations/${id}/messages?limit=500`),
  });
  return (
    <Card title={`${t('alert.context')} #${id}`} loading={page.isLoading}>
      {page.error ? String((page.error as Error).message) : <ChatView messages={page.data?.items ?? []} />}
    </Card>
  );
}
