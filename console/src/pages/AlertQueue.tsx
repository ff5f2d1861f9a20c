import {
  useInfiniteQuery,
  useMutation,
  useQuery,
  useQueryClient,
  type InfiniteData,
} from '@tanstack/react-query';
import { useVirtualizer } from '@tanstack/react-virtual';
import { App, Button, Card, Checkbox, Empty, Select, Space, Spin, Tag, Typography, theme } from 'antd';
import { memo, useCallback, useEffect, useMemo, useRef, useState, type CSSProperties } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router-dom';
import { get, post } from '../api/client.js';
import type { Alert, ReviewQueue } from '../api/types.js';
import { useSession } from '../session.js';

export const SEVERITY_COLOR = { low: 'default', medium: 'blue', high: 'orange', critical: 'red' } as const;

type SlaState = 'overdue' | 'due_soon' | 'on_track';
interface QueueAlert extends Alert {
  /** Where the alert stands against its deadlines (null once closed), by the server's clock. */
  slaState: SlaState | null;
}
interface AlertPage {
  items: QueueAlert[];
  nextCursor: string | null;
  total: number;
  totalExact: boolean;
}

const STATUSES = ['open', 'in_review', 'awaiting_second', 'escalated', 'closed'] as const;
const UNCLOSED = STATUSES.filter((s) => s !== 'closed');
const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
/** Alerts per request; the next page is asked for while a quarter of this is still below. */
const PAGE = 100;
const ROW_HEIGHT = 40;
/** The claim route takes at most this many ids at once. */
const CLAIM_BATCH = 500;
const COLUMNS = '44px 88px 76px minmax(140px, 1fr) 96px 72px 250px 76px';
const SLA_COLOR = { overdue: 'red', due_soon: 'orange' } as const;

/**
 * The reviewer's queue: filters, a total, infinite loading by cursor into a virtualised list (the
 * DOM holds only the rows in view), bulk select and claim, and J/K/Enter/C/X on the keyboard.
 */
export default function AlertQueue() {
  const { t, i18n } = useTranslation();
  const { corp } = useSession();
  const navigate = useNavigate();
  const { message } = App.useApp();
  const { token } = theme.useToken();
  const client = useQueryClient();
  const [status, setStatus] = useState<string[]>(UNCLOSED);
  const [mine, setMine] = useState(false);
  const [category, setCategory] = useState<string[]>([]);
  const [severity, setSeverity] = useState<string[]>([]);
  const [queue, setQueue] = useState<string | undefined>();
  const [sla, setSla] = useState<'overdue' | 'due_soon' | undefined>();
  const [selected, setSelected] = useState<string[]>([]);
  const [cursor, setCursor] = useState(0);
  const scroller = useRef<HTMLDivElement>(null);

  const filters = useMemo(() => {
    const f: Record<string, string> = {};
    if (status.length) f.status = status.join(',');
    if (mine) f.assignee = 'me';
    if (category.length) f.category = category.join(',');
    if (severity.length) f.severity = severity.join(',');
    if (queue) f.queue = queue;
    if (sla) f.sla = sla;
    return f;
  }, [status, mine, category, severity, queue, sla]);

  const alerts = useInfiniteQuery({
    queryKey: ['alerts', corp, filters],
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) =>
      get<AlertPage>(
        `/api/v1/corps/${corp}/review/alerts?${new URLSearchParams({
          ...filters,
          limit: String(PAGE),
          ...(pageParam ? { cursor: pageParam } : {}),
        })}`,
      ),
    getNextPageParam: (last) => last.nextCursor,
  });
  const queues = useQuery({
    queryKey: ['queues', corp],
    queryFn: () => get<{ items: ReviewQueue[] }>(`/api/v1/corps/${corp}/review/queues`),
  });
  const knownCategories = useQuery({
    queryKey: ['alert-categories', corp],
    queryFn: () =>
      get<{ items: Array<{ category: string; open: number }> }>(`/api/v1/corps/${corp}/review/categories`),
  });
  const rows = useMemo(() => alerts.data?.pages.flatMap((p) => p.items) ?? [], [alerts.data]);
  const latest = alerts.data?.pages.at(-1);

  // A new filter starts at the top with nothing selected.
  useEffect(() => {
    setCursor(0);
    setSelected([]);
    scroller.current?.scrollTo({ top: 0 });
  }, [filters]);

  const claim = useMutation({
    mutationFn: async (ids: string[]) => {
      const claimed: Alert[] = [];
      for (let i = 0; i < ids.length; i += CLAIM_BATCH)
        claimed.push(
          ...(
            await post<{ items: Alert[] }>(`/api/v1/corps/${corp}/review/alerts/claim`, {
              ids: ids.slice(i, i + CLAIM_BATCH),
            })
          ).items,
        );
      return claimed;
    },
    onSuccess: async (claimed) => {
      setSelected([]);
      // The loaded rows change in place (no refetch of every loaded page, no jump); the lists
      // are refetched the next time they are shown.
      const byId = new Map(claimed.map((a) => [a.id, a]));
      client.setQueriesData<InfiniteData<AlertPage>>({ queryKey: ['alerts', corp] }, (data) =>
        data
          ? {
              ...data,
              pages: data.pages.map((p) => ({
                ...p,
                items: p.items.map((a) => (byId.has(a.id) ? { ...a, ...byId.get(a.id)! } : a)),
              })),
            }
          : data,
      );
      await client.invalidateQueries({ queryKey: ['alerts'], refetchType: 'none' });
      void message.success(t('alerts.claimed', { n: claimed.length }));
    },
    onError: (e) => void message.error(String((e as Error).message)),
  });

  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 10,
  });
  const visible = virtualizer.getVirtualItems();
  const lastVisible = visible.at(-1)?.index ?? -1;
  const { hasNextPage, isFetching, fetchNextPage } = alerts;

  // The next page is fetched while the reader (or the keyboard cursor) nears the end.
  useEffect(() => {
    if (rows.length && lastVisible >= rows.length - PAGE / 4 && hasNextPage && !isFetching)
      void fetchNextPage();
  }, [lastVisible, rows.length, hasNextPage, isFetching, fetchNextPage]);

  // The current row stays in view as J/K move it.
  useEffect(() => {
    if (cursor < rows.length) virtualizer.scrollToIndex(cursor, { align: 'auto' });
    // Only when the cursor moves: new rows arriving must not pull the view back.
  }, [cursor]);

  const open = useCallback((a: Alert | undefined) => a && navigate(`/review/alerts/${a.id}`), [navigate]);
  const toggle = useCallback(
    (id: string) => setSelected((s) => (s.includes(id) ? s.filter((x) => x !== id) : [...s, id])),
    [],
  );

  // J/K move, Enter opens, C claims and X selects the current row.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      const target = e.target as HTMLElement;
      if (target.closest('textarea, [contenteditable], .ant-select, .ant-modal')) return;
      if (target.closest('input') && !target.closest('input[type="checkbox"]')) return;
      const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
      const current = rows[cursor];
      if (!current) return;
      if (key === 'j') setCursor((c) => Math.min(c + 1, rows.length - 1));
      else if (key === 'k') setCursor((c) => Math.max(c - 1, 0));
      else if (key === 'Enter' && !target.closest('button, a')) open(current);
      else if (key === 'c') claim.mutate([current.id]);
      else if (key === 'x') toggle(current.id);
      else return;
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  // Every category in the reviewer's scope (with its open count), plus any typed in.
  const categories = useMemo(() => {
    const open = new Map((knownCategories.data?.items ?? []).map((c) => [c.category, c.open]));
    return [...new Set([...open.keys(), ...category])].sort().map((c) => ({
      value: c,
      label: `${t(`categories.${c}`, c)}${open.has(c) ? ` (${open.get(c)})` : ''}`,
    }));
  }, [category, knownCategories.data, t]);

  const number = new Intl.NumberFormat(i18n.language);
  const allSelected = rows.length > 0 && selected.length === rows.length;
  const isSelected = useMemo(() => new Set(selected), [selected]);
  const grid = useMemo(() => gridStyle(token.colorBorderSecondary), [token.colorBorderSecondary]);

  return (
    <Card
      title={t('alerts.queue')}
      extra={
        <Space wrap>
          <Button
            disabled={!selected.length}
            loading={claim.isPending}
            onClick={() => claim.mutate(selected)}
            data-testid="bulk-claim"
          >
            {t('alerts.claim')} {selected.length ? `(${selected.length})` : ''}
          </Button>
        </Space>
      }
    >
      <Space wrap style={{ marginBottom: 12 }}>
        <Select
          mode="multiple"
          aria-label={t('alerts.status')}
          placeholder={t('alerts.status')}
          style={{ minWidth: 300 }}
          value={status}
          onChange={setStatus}
          options={STATUSES.map((s) => ({ value: s, label: t(`status.${s}`) }))}
          data-testid="filter-status"
        />
        <Select
          mode="multiple"
          aria-label={t('alerts.severity')}
          placeholder={t('alerts.severity')}
          style={{ minWidth: 140 }}
          value={severity}
          onChange={setSeverity}
          options={SEVERITIES.map((s) => ({ value: s, label: t(`severity.${s}`) }))}
          data-testid="filter-severity"
        />
        <Select
          mode="tags"
          aria-label={t('alerts.category')}
          placeholder={t('alerts.category')}
          style={{ minWidth: 160 }}
          value={category}
          onChange={setCategory}
          options={categories}
          data-testid="filter-category"
        />
        <Select
          allowClear
          aria-label={t('alerts.queueFilter')}
          placeholder={t('alerts.queueFilter')}
          style={{ minWidth: 140 }}
          value={queue}
          onChange={setQueue}
          options={(queues.data?.items ?? []).map((q) => ({ value: q.id, label: q.name }))}
          data-testid="filter-queue"
        />
        <Select
          allowClear
          aria-label={t('alerts.sla')}
          placeholder={t('alerts.sla')}
          style={{ minWidth: 130 }}
          value={sla}
          onChange={setSla}
          options={(['overdue', 'due_soon'] as const).map((s) => ({
            value: s,
            label: t(`alerts.slaState.${s}`),
          }))}
          data-testid="filter-sla"
        />
        <Button type={mine ? 'primary' : 'default'} aria-pressed={mine} onClick={() => setMine(!mine)}>
          {t('alerts.mine')}
        </Button>
      </Space>
      <Space style={{ width: '100%', justifyContent: 'space-between', marginBottom: 8 }}>
        <Typography.Text strong data-testid="alert-total">
          {latest
            ? t('alerts.total', { n: `${number.format(latest.total)}${latest.totalExact ? '' : '+'}` })
            : '\u00a0'}
        </Typography.Text>
        <Typography.Text type="secondary">
          {t('alerts.loaded', { n: number.format(rows.length) })} · {t('alerts.shortcuts')}
        </Typography.Text>
      </Space>
      <div
        role="table"
        aria-label={t('alerts.queue')}
        aria-rowcount={latest ? latest.total + 1 : undefined}
        data-testid="alert-list"
        style={{ border: `1px solid ${token.colorBorderSecondary}`, borderRadius: token.borderRadius }}
      >
        <div role="rowgroup">
          <div
            role="row"
            aria-rowindex={1}
            style={{ ...grid, height: ROW_HEIGHT, background: token.colorFillAlter, fontWeight: 600 }}
          >
            <div role="columnheader">
              <Checkbox
                aria-label={t('alerts.selectAll')}
                checked={allSelected}
                indeterminate={selected.length > 0 && !allSelected}
                onChange={() => setSelected(allSelected ? [] : rows.map((r) => r.id))}
              />
            </div>
            <div role="columnheader">#</div>
            <div role="columnheader">{t('alerts.severity')}</div>
            <div role="columnheader">{t('alerts.category')}</div>
            <div role="columnheader">{t('alerts.status')}</div>
            <div role="columnheader">{t('alerts.priority')}</div>
            <div role="columnheader">{t('alerts.due')}</div>
            <div role="columnheader">
              <span style={SR_ONLY}>{t('alerts.open')}</span>
            </div>
          </div>
        </div>
        <div
          ref={scroller}
          data-testid="alert-scroller"
          style={{ height: 600, overflowY: 'auto', position: 'relative', contain: 'strict' }}
        >
          {alerts.isLoading ? (
            <div style={{ padding: 48, textAlign: 'center' }}>
              <Spin />
            </div>
          ) : rows.length === 0 ? (
            <Empty style={{ padding: 48 }} description={t('alerts.empty')} />
          ) : (
            <div role="rowgroup" style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
              {visible.map((v) => (
                <QueueRow
                  key={rows[v.index]!.id}
                  alert={rows[v.index]!}
                  index={v.index}
                  top={v.start}
                  current={v.index === cursor}
                  checked={isSelected.has(rows[v.index]!.id)}
                  onCursor={setCursor}
                  onToggle={toggle}
                  onOpen={open}
                />
              ))}
            </div>
          )}
        </div>
      </div>
      <div style={{ height: 28, paddingTop: 6, textAlign: 'center' }} aria-live="polite">
        {alerts.isFetchingNextPage && (
          <Typography.Text type="secondary" data-testid="loading-more">
            <Spin size="small" /> {t('alerts.loadingMore')}
          </Typography.Text>
        )}
      </div>
    </Card>
  );
}

const gridStyle = (border: string): CSSProperties => ({
  display: 'grid',
  gridTemplateColumns: COLUMNS,
  alignItems: 'center',
  columnGap: 8,
  padding: '0 8px',
  borderBottom: `1px solid ${border}`,
});

/** One row of the list; re-rendered only when its own alert, place or state changes. */
const QueueRow = memo(function QueueRow(props: {
  alert: QueueAlert;
  index: number;
  top: number;
  current: boolean;
  checked: boolean;
  onCursor: (index: number) => void;
  onToggle: (id: string) => void;
  onOpen: (a: Alert) => void;
}) {
  const { alert: r, index, current, checked } = props;
  const { t, i18n } = useTranslation();
  const { token } = theme.useToken();
  return (
    <div
      role="row"
      aria-rowindex={index + 2}
      aria-current={current || undefined}
      data-testid="alert-row"
      data-index={index}
      data-alert-id={r.id}
      onClick={() => props.onCursor(index)}
      onDoubleClick={() => props.onOpen(r)}
      style={{
        ...gridStyle(token.colorBorderSecondary),
        position: 'absolute',
        top: 0,
        left: 0,
        right: 0,
        height: ROW_HEIGHT,
        transform: `translateY(${props.top}px)`,
        cursor: 'default',
        background: current ? token.controlItemBgActive : checked ? token.controlItemBgHover : undefined,
        boxShadow: current ? `inset 3px 0 0 ${token.colorPrimary}` : undefined,
      }}
    >
      <div role="cell">
        <Checkbox
          aria-label={t('alerts.selectOne', { id: r.id })}
          checked={checked}
          onChange={() => props.onToggle(r.id)}
        />
      </div>
      <div role="cell">{r.id}</div>
      <div role="cell">
        <Tag color={SEVERITY_COLOR[r.severity]}>{t(`severity.${r.severity}`)}</Tag>
      </div>
      <div role="cell" style={{ overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }}>
        {t(`categories.${r.category}`, r.category)}
      </div>
      <div role="cell">{t(`status.${r.status}`)}</div>
      <div role="cell">{Number(r.priority.toFixed(2))}</div>
      <div role="cell">
        <Space size={4}>
          <span>{new Date(r.resolutionDue).toLocaleString(i18n.language)}</span>
          {r.slaState && r.slaState !== 'on_track' && (
            <Tag color={SLA_COLOR[r.slaState]} data-testid={`sla-${r.slaState}`}>
              {t(`alerts.slaState.${r.slaState}`)}
            </Tag>
          )}
        </Space>
      </div>
      <div role="cell">
        <Button size="small" onClick={() => props.onOpen(r)}>
          {t('alerts.open')}
        </Button>
      </div>
    </div>
  );
});

/** Visually hidden, still read by screen readers. */
const SR_ONLY: CSSProperties = {
  position: 'absolute',
  width: 1,
  height: 1,
  overflow: 'hidden',
  clip: 'rect(0 0 0 0)',
  whiteSpace: 'nowrap',
};
