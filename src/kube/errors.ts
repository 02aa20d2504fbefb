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

/**
 * A 422 because a Job's pod template changed: batch/v1 keeps it immutable (kubernetes/kubernetes
 * `pkg/apis/batch/validation/validation.go` ValidateJobSpecUpdate: `spec.template: ... field is
 * immutable`). The only way to change it is to replace the Job.
 */
export function isImmutableJobTemplate(kind: string, err: unknown): boolean {
  const a = apiError(err);
  return kind === 'Job' && a.code === 422 && /spec\.template\b[^\n]*field is immutable/.test(a.message);
}
