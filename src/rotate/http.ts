import { within } from './params.ts';

/** One bounded HTTP request for the HTTP rotators; the body is read (and size-capped) here. */
export async function request(
  url: URL,
  init: { method: string; headers?: Record<string, string>; body?: string },
  timeoutMs: number,
): Promise<{ status: number; text: string }> {
  const res = await within(
    timeoutMs,
    `${init.method} ${url.pathname}`,
    fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' }),
  );
  const text = (await within(timeoutMs, `reading ${url.pathname}`, res.text())).slice(0, 4096);
  return { status: res.status, text };
}

export const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** `base` with `path` appended to its own path (an endpoint URL may carry a prefix). */
export function under(base: URL, path: string, query: Record<string, string> = {}): URL {
  const u = new URL(base);
  u.username = '';
  u.password = '';
  u.pathname = `${u.pathname.replace(/\/+$/, '')}${path}`;
  u.search = new URLSearchParams(query).toString();
  return u;
}

/** A short reason from an error body, never echoing more than a line. */
export function reason(r: { status: number; text: string }): string {
  let msg = r.text;
  try {
    const j = JSON.parse(r.text) as { message?: unknown; data?: unknown };
    msg = String(j.message ?? j.data ?? r.text);
  } catch {}
  return `HTTP ${r.status}${msg ? `: ${msg.split('\n')[0]!.slice(0, 200)}` : ''}`;
}
