import { Alert, App, Button, Space, Typography } from 'antd';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, get } from '../api/client.js';
import { useSession } from '../session.js';

interface AttachmentInfo {
  id: string;
  path: string;
  kind: string;
  status: string;
  type: string | null;
  size: number | null;
}

// Only these sniffed types are shown inline, as a blob of an explicit MIME type: an <img> or
// <video> never runs script, and SVG/HTML (which could) never get here.
const INLINE: Record<string, string> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
  mp4: 'video/mp4',
};
const VOICE = new Set(['amr', 'silk']);

/** Fetches one stored file through the access service (each fetch is audited there). */
async function fetchAttachment(corp: string, msgid: string, a: AttachmentInfo): Promise<Blob> {
  const response = await fetch(
    `/api/v1/corps/${corp}/messages/${encodeURIComponent(msgid)}/attachments/${a.id}`,
    { credentials: 'same-origin' },
  );
  if (!response.ok) {
    const body = (await response.json().catch(() => null)) as { error?: { code: string; message: string } };
    throw new ApiError(response.status, body?.error?.code ?? 'http_error', body?.error?.message ?? '');
  }
  const bytes = await response.arrayBuffer();
  return new Blob([bytes], { type: INLINE[a.type ?? ''] ?? 'application/octet-stream' });
}

function saveAs(blob: Blob, name: string): void {
  const href = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = href;
  link.download = name;
  link.rel = 'noopener';
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(href), 10_000);
}

/** One fetched file: images and MP4 inline, AMR/SILK voice explained, anything else saved. */
function Shown({ a, blob, name }: { a: AttachmentInfo; blob: Blob; name: string }) {
  const { t } = useTranslation();
  const [url, setUrl] = useState<string>();
  useEffect(() => {
    const href = URL.createObjectURL(blob);
    setUrl(href);
    return () => URL.revokeObjectURL(href);
  }, [blob]);
  const save = (
    <Button size="small" onClick={() => saveAs(blob, name)}>
      {t('message.download')}
    </Button>
  );
  if (!url) return null;
  if (a.type === 'mp4')
    return <video data-testid="media-video" src={url} controls style={{ maxWidth: 360, maxHeight: 240 }} />;
  if (a.type && INLINE[a.type])
    return (
      <img
        data-testid="media-image"
        src={url}
        alt={t('message.image')}
        style={{ maxWidth: 360, maxHeight: 360 }}
      />
    );
  if (VOICE.has(a.type ?? ''))
    return (
      <Alert
        type="info"
        showIcon
        data-testid="media-voice"
        message={t('media.voiceFormat', { format: a.type!.toUpperCase() })}
        action={save}
      />
    );
  return save;
}

/**
 * The media of one message, fetched only when the viewer asks (every fetch is an audited read):
 * its stored files shown inline where that is safe, otherwise offered as a download; files that
 * are not stored say why.
 */
export function MediaView({ msgid, label }: { msgid: string; label: string }) {
  const { t } = useTranslation();
  const { corp } = useSession();
  const { message } = App.useApp();
  const [files, setFiles] = useState<Array<{ a: AttachmentInfo; blob?: Blob }>>();
  const [busy, setBusy] = useState(false);

  const open = async () => {
    setBusy(true);
    try {
      const detail = await get<{ attachments: AttachmentInfo[] }>(
        `/api/v1/corps/${corp}/messages/${encodeURIComponent(msgid)}`,
      );
      setFiles(
        await Promise.all(
          detail.attachments.map(async (a) =>
            a.status === 'stored' ? { a, blob: await fetchAttachment(corp, msgid, a) } : { a },
          ),
        ),
      );
    } catch (e) {
      void message.error((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  if (!files)
    return (
      <Button size="small" loading={busy} onClick={() => void open()} data-testid="media-open">
        {t('media.open', { label })}
      </Button>
    );
  if (files.length === 0) return <Typography.Text type="secondary">{t('media.none')}</Typography.Text>;
  return (
    <Space direction="vertical">
      {files.map(({ a, blob }) =>
        blob ? (
          <Shown key={a.id} a={a} blob={blob} name={`${msgid}-${a.id}.${a.type ?? 'bin'}`} />
        ) : (
          <Typography.Text key={a.id} type="secondary" data-testid="media-missing">
            {t(`media.status.${a.status}`, { defaultValue: a.status })}
          </Typography.Text>
        ),
      )}
    </Space>
  );
}
