/**
 * Bounded HTTP calls for the API-based sources (etcd's gateway, Elasticsearch): every request has
 * a deadline, so a server that accepts the connection and never answers fails with the URL named
 * instead of hanging the backup.
 */
import { httpAuth } from './endpoint.ts';

export interface HttpAnswer {
  status: number;
  text: string;
  /** Parsed JSON body, or undefined when the body is not JSON. */
  json: unknown;
}

export const DEFAULT_HTTP_TIMEOUT_MS = 30_000;

/** One request with a JSON body (or none); resolves with the status and body, rejects on network errors and the deadline. */
export async function httpRequest(
  base: URL,
  method: string,
  path: string,
  opts: { body?: unknown; timeoutMs?: number; what?: string } = {},
): Promise<HttpAnswer> {
  const { origin, headers } = httpAuth(base);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS;
  const where = `${method} ${origin}${path.split('?')[0]}`;
  let res: Response;
  let text: string;
  try {
    res = await fetch(`${origin}${path}`, {
      method,
      headers: { ...headers, ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    text = await res.text();
  } catch (err) {
    throw new Error(`${opts.what ?? where}: ${networkReason(err, timeoutMs)}`, { cause: err });
  }
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json };
}

/** `fetch failed` says nothing: name the deadline or the socket error underneath. */
export function networkReason(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `no answer within ${timeoutMs / 1000}s`;
  const cause = e?.cause;
  if (cause?.code) return `${cause.code}${cause.message ? ` (${cause.message})` : ''}`;
  return e?.message ?? String(err);
}
