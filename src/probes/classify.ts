import { redact } from '../util/redact.ts';
import { authFailed, notReady, type Outcome } from './types.ts';

/** Socket-level error codes that mean "not there yet": retry until the deadline. */
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ABORT_ERR',
  // PostgreSQL SQLSTATE: cannot_connect_now ("the database system is starting up"), too_many_connections
  '57P03',
  '53300',
]);

/** Codes and words that mean the credentials were refused: fail at once. */
const AUTH_CODES = new Set(['28P01', '28000', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied']);
const AUTH_TEXT =
  /\b(NOAUTH|WRONGPASS|authentication failed|password authentication|invalid password|SASL authentication|Unauthorized|access denied|invalid credentials|invalid access key|signature does not match)\b/i;

/** Text that says "still starting" in any of the stack's services' words. */
export const TRANSIENT_TEXT =
  /(connection refused|connection reset|socket hang up|ECONNREFUSED|ECONNRESET|ETIMEDOUT|timed? ?out|starting up|is starting|not ready|not yet ready|LOADING|the database system is|Connection terminated|no such host|container not found|is not running|ContainerCreating|PodInitializing|no ready pod|other side closed)/i;

/** Thrown where the way to a service is not there yet (no ready pod to forward to, ...): retried. */
export class NotReadyError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NotReadyError';
  }
}

/** Classifies an error thrown by a probe: authentication → fail at once, transient → retry, else fail. */
export function classifyError(err: unknown): Outcome {
  const message = describeError(err);
  if (err instanceof NotReadyError) return notReady(message);
  const codes = errorCodes(err);
  if (codes.some((c) => AUTH_CODES.has(c)) || AUTH_TEXT.test(message))
    return authFailed(`authentication failed: ${message}`);
  if (codes.some((c) => TRANSIENT_CODES.has(c)) || TRANSIENT_TEXT.test(message)) return notReady(message);
  return { kind: 'fail', reason: 'error', message };
}

/** Every `code`/`name` along an error's cause chain (and inside AggregateErrors). */
function errorCodes(err: unknown, depth = 0): string[] {
  if (!err || typeof err !== 'object' || depth > 5) return [];
  const e = err as {
    code?: unknown;
    name?: unknown;
    cause?: unknown;
    originalError?: unknown;
    errors?: unknown[];
    Code?: unknown;
  };
  const own = [e.code, e.name, e.Code].filter((x): x is string => typeof x === 'string');
  const nested = [e.cause, e.originalError, ...(Array.isArray(e.errors) ? e.errors : [])].flatMap((c) =>
    errorCodes(c, depth + 1),
  );
  return [...own, ...nested];
}

/** One line describing an error and its causes, secrets removed. */
export function describeError(err: unknown): string {
  const parts: string[] = [];
  let cur: unknown = err;
  for (let i = 0; cur && i < 4; i++) {
    if (cur instanceof AggregateError && cur.errors.length) {
      parts.push(cur.errors.map((e) => (e instanceof Error ? e.message : String(e))).join('; '));
      break;
    }
    const msg = cur instanceof Error ? cur.message : String(cur);
    const code = (cur as { code?: unknown }).code;
    const text =
      typeof code === 'string' && msg && !msg.includes(code) ? `${msg} (${code})` : msg || String(code ?? '');
    if (text && !parts.some((p) => p.includes(text))) parts.push(text);
    cur = (cur as { cause?: unknown }).cause;
  }
  return redact(parts.join(': ') || 'unknown error')
    .replace(/\s+/g, ' ')
    .trim();
}
