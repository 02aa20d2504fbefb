/** Turns client-node errors (ApiException with a raw Status body, fetch errors) into one readable line. */
export interface ApiError {
  code?: number;
  reason?: string;
  message: string;
}

export function apiError(err: unknown): ApiError {
  const e = err as { code?: number; statusCode?: number; body?: unknown; message?: string };
  const code = typeof e?.code === 'number' ? e.code : e?.statusCode;
  let status: { message?: string; reason?: string } | undefined;
  if (typeof e?.body === 'string') {
    try {
      status = JSON.parse(e.body);
    } catch {
      status = { message: e.body.slice(0, 300) };
    }
  } else if (e?.body && typeof e.body === 'object') {
    status = e.body as typeof status;
  }
  const message = status?.message ?? e?.message ?? String(err);
  return {
    ...(code !== undefined ? { code } : {}),
    ...(status?.reason ? { reason: status.reason } : {}),
    message,
  };
}

export function describeApiError(err: unknown): string {
  const a = apiError(err);
  return a.code ? `${a.message} (HTTP ${a.code}${a.reason ? ` ${a.reason}` : ''})` : a.message;
}
