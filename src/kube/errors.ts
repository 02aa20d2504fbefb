/** Turns client-node errors (ApiException with a raw Status body, fetch errors) into one readable line. */
export interface ApiError {
  code?: number;
  reason?: string;
  message: string;
}

export function apiError(err: unknown): ApiError {
  const e = err as { code?: number; statusCode?: number; body?: unknown; message?: string };
  // a DOMException (AbortSignal.timeout's TimeoutError) has a numeric legacy `code` too: not HTTP
  const code = typeof e?.code === 'number' && !(err instanceof DOMException) ? e.code : e?.statusCode;
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
  if (a.code) return `${a.message} (HTTP ${a.code}${a.reason ? ` ${a.reason}` : ''})`;
  // fetch's "fetch failed" hides the reason in `cause`: say it
  const cause = connectionCause(err);
  return cause && !a.message.includes(cause) ? `${a.message}: ${cause}` : a.message;
}

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS|ERR_SSL|EPROTO/;

/**
 * Why a connection failed, from the error or its `cause` chain (undici wraps the socket error in
 * "fetch failed"): refused, DNS, timeout, or a TLS certificate problem, with the system code.
 */
export function connectionCause(err: unknown): string | undefined {
  for (
    let e = err as { code?: unknown; name?: string; message?: string; cause?: unknown } | undefined, i = 0;
    e && i < 6;
    e = e.cause as typeof e, i++
  ) {
    const code = typeof e.code === 'string' ? e.code : undefined;
    if (e.name === 'TimeoutError' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ETIMEDOUT')
      return `timed out${code ? ` (${code})` : ''}`;
    if (code === 'ECONNREFUSED') return 'connection refused (ECONNREFUSED)';
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `host not found (${code})`;
    if (code === 'ECONNRESET' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH')
      return `${e.message ?? code} (${code})`;
    if (code && TLS_CODES.test(code))
      return `TLS certificate problem: ${e.message ?? code} (${code}); check the cluster's certificate-authority-data in the kubeconfig`;
  }
  return undefined;
}

/**
 * A 422 because a Job's pod template changed: batch/v1 keeps it immutable (kubernetes/kubernetes
 * `pkg/apis/batch/validation/validation.go` ValidateJobSpecUpdate: `spec.template: ... field is
 * immutable`). The only way to change it is to replace the Job.
 */
export function isImmutableJobTemplate(kind: string, err: unknown): boolean {
  const a = apiError(err);
  return kind === 'Job' && a.code === 422 && /spec\.template\b[^\n]*field is immutable/.test(a.message);
}
