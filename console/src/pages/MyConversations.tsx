import { useInfiniteQuery } from '@tanstack/react-query';
import { Alert, Avatar, Button, Card, Empty, List, Space, Tag, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router-dom';
import { ApiError, get } from '../api/client.js';
import type { ConversationList, ConversationSummary } from '../api/self-service.js';
import { useSession } from '../session.js';

/** Who the viewer talked with, as the access service names them (pseudonyms carry no name). */
function counterpartsOf(c: ConversationSummary): string {
  const names = c.counterparts.map((p) => (p.name ? `${p.name} (${p.id})` : p.id));
  const more = c.memberCount - 1 - c.counterparts.length;
  return more > 0 ? `${names.join('、')} +${more}` : names.join('、');
}

/**
 * Employee self-service: the conversations of one's own WeCom account, read through the content
 * access service (its scope, masking and pseudonyms; every listing audited). Opens one in the
 * conversation viewer.
 */
export default function MyConversations() {
  const { t } = useTranslation();
  const { corp } = useSession();
  const navigate = useNavigate();
  const list = useInfiniteQuery({
    queryKey: ['my-conversations', corp],
    queryFn: ({ pageParam }) =>
      get<ConversationList>(
        `/api/v1/corps/${corp}/conversations?mine=true&limit=50${
          pageParam ? `&cursor=${encodeURIComponent(pageParam)}` : ''
        }`,
      ),
    initialPageParam: '',
    getNextPageParam: (last) => last.next ?? undefined,
    retry: false,
  });
  const items = list.data?.pages.flatMap((p) => p.items) ?? [];
  const notLinked = list.error instanceof ApiError && list.error.code === 'out_of_scope';
  return (
    <Card title={t('myConversations.title')} data-testid="my-conversations">
      <Typography.Paragraph type="secondary">{t('myConversations.hint')}</Typography.Paragraph>
      {notLinked ? (
        <Empty description={t('myConversations.notLinked')} />
      ) : list.error ? (
        <Alert type="error" showIcon message={(list.error as Error).message} />
      ) : (
        <>
          <List<ConversationSummary>
            loading={list.isLoading}
            dataSource={items}
            locale={{ emptyText: <Empty description={t('myConversations.none')} /> }}
            renderItem={(c) => (
              <List.Item
                key={c.id}
                data-testid={`conversation-${c.id}`}
                actions={[
                  <Button
                    key="open"
                    type="link"
                    onClick={() => navigate(`/conversations/${c.id}`)}
                    data-testid={`open-conversation-${c.id}`}
                  >
                    {t('myConversations.open')}
                  </Button>,
                ]}
              >
                <List.Item.Meta
                  avatar={
                    <Avatar style={{ background: c.kind === 'external' ? '#87d068' : '#1677ff' }}>
                      {(c.counterparts[0]?.name ?? c.counterparts[0]?.id ?? '?').slice(0, 1)}
                    </Avatar>
                  }
                  title={
                    <Space>
                      <Typography.Text data-testid="conversation-counterparts">
                        {c.title ?? counterpartsOf(c)}
                      </Typography.Text>
                      <Tag>{t(`myConversations.kinds.${c.kind}`)}</Tag>
                    </Space>
                  }
                  description={
                    <Space split="·">
                      {c.title && <span>{counterpartsOf(c)}</span>}
                      <span>
                        {t('myConversations.last')}: {new Date(c.lastMessageAt).toLocaleString()}
                      </span>
                    </Space>
                  }
                />
              </List.Item>
            )}
          />
          {list.hasNextPage && (
            <Button onClick={() => void list.fetchNextPage()} loading={list.isFetchingNextPage}>
              {t('myConversations.more')}
            </Button>
          )}
        </>
      )}
    </Card>
  );
}
