/** The API's one error shape. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

let csrfToken: string | undefined;

/** The session's synchronizer token, sent on every state-changing request. */
export function setCsrfToken(token: string | undefined): void {
  csrfToken = token;
}

function headersFor(method: string, body: unknown, accept: string): Record<string, string> {
  const headers: Record<string, string> = { accept };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  return headers;
}

async function send(method: string, url: string, body: unknown, accept: string): Promise<Response> {
  return fetch(url, {
    method,
    headers: headersFor(method, body, accept),
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function failure(response: Response): Promise<ApiError> {
  const type = response.headers.get('content-type') ?? '';
  const payload: unknown = type.includes('json') ? await response.json() : await response.text();
  const error = (payload as { error?: { code: string; message: string } } | null)?.error;
  return new ApiError(
    response.status,
    error?.code ?? 'http_error',
    error?.message ?? String(response.status),
  );
}

/** JSON over fetch with the session cookie; errors become ApiError with the server's code. */
export async function api<T>(method: string, url: string, body?: unknown): Promise<T> {
  const response = await send(method, url, body, 'application/json');
  if (!response.ok) throw await failure(response);
  if (response.status === 204) return undefined as T;
  const type = response.headers.get('content-type') ?? '';
  return (type.includes('json') ? await response.json() : await response.text()) as T;
}

export const get = <T>(url: string) => api<T>('GET', url);
export const post = <T>(url: string, body: unknown = {}) => api<T>('POST', url, body);
export const put = <T>(url: string, body: unknown) => api<T>('PUT', url, body);
export const del = <T>(url: string) => api<T>('DELETE', url);

/**
 * POSTs and saves the binary answer (an evidence ZIP) as a file through an object URL; its bytes
 * are never parsed or rendered by the console.
 */
export async function download(url: string, body: unknown, fallbackName: string): Promise<string> {
  const response = await send('POST', url, body, 'application/zip, application/json');
  if (!response.ok) throw await failure(response);
  const disposition = response.headers.get('content-disposition') ?? '';
  const name = /filename="([^"]+)"/.exec(disposition)?.[1] ?? fallbackName;
  const href = URL.createObjectURL(await response.blob());
  try {
    const link = document.createElement('a');
    link.href = href;
    link.download = name;
    link.rel = 'noopener';
    document.body.appendChild(link);
    link.click();
    link.remove();
  } finally {
    setTimeout(() => URL.revokeObjectURL(href), 10_000);
  }
  return name;
}
