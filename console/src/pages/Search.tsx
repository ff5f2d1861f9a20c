import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  Alert,
  App,
  Button,
  Card,
  DatePicker,
  Form,
  Input,
  InputNumber,
  List,
  Modal,
  Popconfirm,
  Select,
  Space,
  Switch,
  Tooltip,
  Typography,
} from 'antd';
import dayjs, { type Dayjs } from 'dayjs';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, del, get, post } from '../api/client.js';
import type { Page } from '../api/types.js';
import { Highlighted, MessageBody } from '../components/MessageBody.js';
import { useSession } from '../session.js';

/** The filters the search API and saved searches share. */
interface Filters {
  from?: string;
  to?: string;
  employee?: string;
  externalContact?: string;
  msgtypes?: string[];
  hasAttachment?: boolean;
}

interface SavedSearch {
  id: string;
  name: string;
  query: string;
  filters: Filters;
}

interface Criteria {
  q: string;
  filters: Filters;
}

const MSGTYPES = [
  'text',
  'image',
  'voice',
  'video',
  'file',
  'link',
  'chatrecord',
  'mixed',
  'redpacket',
  'card',
];

function searchUrl(corp: string, { q, filters }: Criteria, cursor?: string): string {
  const params = new URLSearchParams({ q, limit: '50' });
  for (const [key, value] of Object.entries(filters)) {
    if (value === undefined || value === '' || (Array.isArray(value) && !value.length)) continue;
    params.set(key, Array.isArray(value) ? value.join(',') : String(value));
  }
  if (cursor) params.set('cursor', cursor);
  return `/api/v1/corps/${corp}/messages/search?${params}`;
}

/**
 * Archive search within the viewer's scope: phrases with AND / OR / NOT, filters, more results on
 * demand, and the user's saved searches; when nothing is in scope, the grant request is right here.
 */
export default function Search() {
  const { t } = useTranslation();
  const { corp } = useSession();
  const { message } = App.useApp();
  const client = useQueryClient();
  const [q, setQ] = useState('');
  const [filters, setFilters] = useState<Filters>({});
  const [criteria, setCriteria] = useState<Criteria>();
  const [saving, setSaving] = useState(false);

  const results = useInfiniteQuery({
    queryKey: ['search', corp, criteria],
    enabled: criteria !== undefined,
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) => get<Page>(searchUrl(corp, criteria!, pageParam)),
    getNextPageParam: (last) => last.next ?? undefined,
    retry: false,
    gcTime: 0, // results are content: not kept once the page is left
  });
  const needGrant = results.error instanceof ApiError && results.error.code === 'out_of_scope';
  const run = (next: Criteria) => {
    // The same criteria again (e.g. after a grant was approved) must ask the server again.
    if (JSON.stringify(next) === JSON.stringify(criteria)) void results.refetch();
    else setCriteria(next);
  };

  const saved = useQuery({
    queryKey: ['saved-searches', corp],
    queryFn: () => get<{ items: SavedSearch[] }>(`/api/v1/corps/${corp}/saved-searches`),
  });
  const save = useMutation({
    mutationFn: (name: string) => post(`/api/v1/corps/${corp}/saved-searches`, { name, query: q, filters }),
    onSuccess: async () => {
      setSaving(false);
      await client.invalidateQueries({ queryKey: ['saved-searches', corp] });
      void message.success(t('search.saved'));
    },
    onError: (e) => void message.error((e as Error).message),
  });
  const remove = useMutation({
    mutationFn: (id: string) => del(`/api/v1/corps/${corp}/saved-searches/${id}`),
    onSuccess: () => client.invalidateQueries({ queryKey: ['saved-searches', corp] }),
  });
  const open = (s: SavedSearch) => {
    setQ(s.query);
    setFilters(s.filters);
    run({ q: s.query, filters: s.filters });
  };

  const items = results.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <Card
      title={t('nav.search')}
      extra={
        <Space>
          <Select
            aria-label={t('search.savedSearches')}
            placeholder={t('search.savedSearches')}
            style={{ minWidth: 220 }}
            value={null}
            data-testid="saved-searches"
            options={(saved.data?.items ?? []).map((s) => ({ value: s.id, label: s.name }))}
            onChange={(id: string) => {
              const found = saved.data?.items.find((s) => s.id === id);
              if (found) open(found);
            }}
            optionRender={(option) => (
              <Space style={{ width: '100%', justifyContent: 'space-between' }}>
                {option.label}
                <Popconfirm
                  title={t('search.deleteSaved')}
                  onConfirm={() => remove.mutate(String(option.value))}
                >
                  <Typography.Link onClick={(e) => e.stopPropagation()}>{t('search.delete')}</Typography.Link>
                </Popconfirm>
              </Space>
            )}
          />
          <Button onClick={() => setSaving(true)} disabled={!q.trim()} data-testid="save-search">
            {t('search.save')}
          </Button>
        </Space>
      }
    >
      <Space direction="vertical" style={{ width: '100%' }}>
        <Tooltip title={t('search.syntax')} placement="bottomLeft">
          <Input.Search
            aria-label={t('search.submit')}
            placeholder={t('search.placeholder')}
            enterButton={t('search.submit')}
            value={q}
            onChange={(e) => setQ(e.target.value)}
            onSearch={(v) => run({ q: v, filters })}
            loading={results.isFetching && !results.isFetchingNextPage}
            data-testid="search-input"
          />
        </Tooltip>
        <FilterBar filters={filters} onChange={setFilters} />
        {needGrant && <GrantRequest />}
        {results.error && !needGrant && (
          <Alert type="error" showIcon message={(results.error as Error).message} />
        )}
        {results.data && (
          <List
            data-testid="results"
            dataSource={items}
            locale={{ emptyText: t('search.none') }}
            renderItem={(m) => (
              <List.Item key={m.msgid} data-msgid={m.msgid}>
                <List.Item.Meta
                  title={`${m.senderId ?? '-'} · ${new Date(m.msgTime).toLocaleString()} · ${m.msgtype}`}
                  description={
                    m.highlight ? (
                      <Highlighted text={m.highlight.snippet} ranges={m.highlight.ranges} />
                    ) : m.content.state === 'ok' ? (
                      <MessageBody
                        message={JSON.parse(m.content.raw) as Record<string, unknown>}
                        msgid={m.msgid}
                      />
                    ) : (
                      <Typography.Text type="secondary">{m.content.state}</Typography.Text>
                    )
                  }
                />
              </List.Item>
            )}
            loadMore={
              results.hasNextPage && (
                <div style={{ textAlign: 'center', marginTop: 12 }}>
                  <Button
                    onClick={() => void results.fetchNextPage()}
                    loading={results.isFetchingNextPage}
                    data-testid="more-results"
                  >
                    {t('search.more')}
                  </Button>
                </div>
              )
            }
          />
        )}
      </Space>
      <Modal
        open={saving}
        title={t('search.save')}
        footer={null}
        onCancel={() => setSaving(false)}
        destroyOnHidden
      >
        <Form layout="vertical" onFinish={(v: { name: string }) => save.mutate(v.name)}>
          <Form.Item name="name" label={t('search.name')} rules={[{ required: true, max: 100 }]}>
            <Input data-testid="saved-name" />
          </Form.Item>
          <Button type="primary" htmlType="submit" loading={save.isPending} data-testid="saved-submit">
            {t('search.save')}
          </Button>
        </Form>
      </Modal>
    </Card>
  );
}

function FilterBar({ filters, onChange }: { filters: Filters; onChange: (f: Filters) => void }) {
  const { t } = useTranslation();
  const set = (patch: Partial<Filters>) => onChange({ ...filters, ...patch });
  const range: [Dayjs | null, Dayjs | null] = [
    filters.from ? dayjs(filters.from) : null,
    filters.to ? dayjs(filters.to) : null,
  ];
  return (
    <Space wrap>
      <DatePicker.RangePicker
        aria-label={t('search.period')}
        showTime
        value={range}
        onChange={(v) => set({ from: v?.[0]?.toISOString(), to: v?.[1]?.toISOString() })}
      />
      <Input
        aria-label={t('search.employee')}
        placeholder={t('search.employee')}
        style={{ width: 160 }}
        value={filters.employee}
        onChange={(e) => set({ employee: e.target.value || undefined })}
      />
      <Input
        aria-label={t('search.externalContact')}
        placeholder={t('search.externalContact')}
        style={{ width: 160 }}
        value={filters.externalContact}
        onChange={(e) => set({ externalContact: e.target.value || undefined })}
      />
      <Select
        mode="multiple"
        aria-label={t('search.msgtypes')}
        placeholder={t('search.msgtypes')}
        style={{ minWidth: 200 }}
        value={filters.msgtypes ?? []}
        onChange={(v: string[]) => set({ msgtypes: v.length ? v : undefined })}
        options={MSGTYPES.map((m) => ({ value: m, label: t(`message.${m}`, m) }))}
      />
      <Space>
        <Switch
          aria-label={t('search.hasAttachment')}
          checked={filters.hasAttachment === true}
          onChange={(on) => set({ hasAttachment: on || undefined })}
        />
        {t('search.hasAttachment')}
      </Space>
    </Space>
  );
}

/** When the search needs more than the viewer's scope: ask for a time-boxed grant (双人审批). */
function GrantRequest() {
  const { t } = useTranslation();
  const { corp, can } = useSession();
  const { message } = App.useApp();
  const [requesting, setRequesting] = useState(false);
  const request = useMutation({
    mutationFn: (v: { reason: string; durationMinutes: number }) =>
      post(`/api/v1/corps/${corp}/grants`, { actions: ['search'], ...v }),
    onSuccess: () => {
      setRequesting(false);
      void message.success(t('search.requested'));
    },
    onError: (e) => void message.error((e as Error).message),
  });
  return (
    <>
      <Alert
        type="warning"
        showIcon
        message={t('search.needGrant')}
        action={
          can('grants.request') && (
            <Button onClick={() => setRequesting(true)} data-testid="request-grant">
              {t('search.request')}
            </Button>
          )
        }
      />
      <Modal
        open={requesting}
        title={t('search.request')}
        footer={null}
        onCancel={() => setRequesting(false)}
        destroyOnHidden
      >
        <Form
          layout="vertical"
          initialValues={{ durationMinutes: 60 }}
          onFinish={(v: { reason: string; durationMinutes: number }) => request.mutate(v)}
        >
          <Form.Item name="reason" label={t('search.reason')} rules={[{ required: true, min: 10 }]}>
            <Input.TextArea rows={3} data-testid="grant-reason" />
          </Form.Item>
          <Form.Item name="durationMinutes" label={t('search.minutes')}>
            <InputNumber min={5} max={480} />
          </Form.Item>
          <Button type="primary" htmlType="submit" loading={request.isPending} data-testid="grant-submit">
            {t('search.request')}
          </Button>
        </Form>
      </Modal>
    </>
  );
}
