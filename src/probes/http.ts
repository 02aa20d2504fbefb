import type { CheckSpec } from '../catalog/types.ts';
import {
  checkJson,
  checkText,
  describeJson,
  describeText,
  isObject,
  validateJson,
  validateRegex,
} from './expect.ts';
import { clip, expectKeys, expectOf, optionalString, unknownKeys } from './params.ts';
import { authFailed, notReady, type Outcome, type ParamProblem, type Probe, pass, wrong } from './types.ts';

const EXPECT_KEYS = ['status', 'body', 'contains', 'matches', 'json'];
/** Answers that mean "not ready yet" (Nacos/Milvus answer 500 while starting, ES 408 before its wait). */
const NOT_READY_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);
const MAX_BODY = 1024 * 1024;

/**
 * `type: http` — `GET path` on the endpoint; `expect`: `status` (a code or a list, default 200),
 * `body` (the whole body), `contains`/`matches` (on the body), `json` (see expect.ts).
 * `auth: basic` sends the endpoint's credentials (default: when it has them); `auth: form` POSTs them
 * as a `username`/`password` form (login APIs); `auth: none` never.
 */
export const httpProbe: Probe = {
  type: 'http',
  usesEndpoint: true,
  params: ['path', 'method', 'auth', 'headers', 'expect'],
  validate: (check) => [
    ...unknownKeys(check, httpProbe.params),
    ...optionalString(check, 'path'),
    ...validatePath(check),
    ...(check.method !== undefined && !['GET', 'HEAD', 'POST'].includes(String(check.method))
      ? [{ path: ['method'], message: 'must be GET, HEAD or POST' }]
      : []),
    ...(check.auth !== undefined && !['basic', 'none', 'form'].includes(String(check.auth))
      ? [{ path: ['auth'], message: 'must be basic, form or none' }]
      : []),
    ...(check.auth === 'form' && check.method !== undefined && check.method !== 'POST'
      ? [{ path: ['method'], message: 'auth: form posts the credentials: method must be POST' }]
      : []),
    ...(check.headers !== undefined &&
    !(isObject(check.headers) && Object.values(check.headers).every((v) => typeof v === 'string'))
      ? [{ path: ['headers'], message: 'must be a map of header → text' }]
      : []),
    ...expectKeys(check, EXPECT_KEYS),
    ...validateExpect(check),
  ],
  describe: (check) => {
    const e = expectOf(check);
    const parts = [`HTTP ${statusList(check).join('|')}`];
    if (e.body !== undefined) parts.push(`body ${JSON.stringify(e.body)}`);
    const t = describeText({
      contains: e.contains as string[] | undefined,
      matches: e.matches as string | undefined,
    });
    if (t) parts.push(`body ${t}`);
    if (isObject(e.json)) parts.push(describeJson(e.json));
    return `${check.method ?? 'GET'} ${check.path ?? '/'} → ${parts.join(', ')}`;
  },
  run: async (ctx): Promise<Outcome> => {
    const req = httpRequest(ctx.check, new URL(ctx.url!));
    if ('kind' in req) return req;
    const res = await fetch(req.target, {
      method: req.method,
      headers: req.headers,
      ...(req.body !== undefined ? { body: req.body } : {}),
      signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(Math.max(1, ctx.timeoutMs))]),
      redirect: 'follow',
    });
    const body = await readBody(res);
    return judge(ctx.check, res.status, body);
  },
};

export interface HttpRequest {
  target: URL;
  method: string;
  headers: Record<string, string>;
  body?: string;
}

/**
 * The request a check sends to an endpoint URL (pure). Credentials come from the endpoint (the
 * catalog's Secret references): `auth: basic` (default when there are any) as a Basic header,
 * `auth: form` as a POSTed `username=…&password=…` form, the way login APIs take them.
 */
export function httpRequest(check: CheckSpec, endpoint: URL): HttpRequest | Outcome {
  const base = new URL(endpoint);
  const username = decodeURIComponent(base.username);
  const password = decodeURIComponent(base.password);
  base.username = '';
  base.password = '';
  // a path in the endpoint URL is a prefix (a proxy, an ingress path); the check's path goes under it
  const rel = new URL(String(check.path ?? '/'), 'http://x');
  const target = new URL(base);
  target.pathname = base.pathname.replace(/\/$/, '') + rel.pathname;
  target.search = rel.search;
  const headers: Record<string, string> = { ...((check.headers as Record<string, string>) ?? {}) };
  if (check.auth === 'form') {
    if (!username && !password)
      return authFailed('this check needs credentials (auth: form) and the endpoint has none');
    headers['content-type'] = 'application/x-www-form-urlencoded';
    const body = new URLSearchParams({ username, password }).toString();
    return { target, method: 'POST', headers, body };
  }
  if (check.auth !== 'none' && (username || password)) {
    headers.authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  } else if (check.auth === 'basic') {
    return authFailed('this check needs credentials (auth: basic) and the endpoint has none');
  }
  return { target, method: String(check.method ?? 'GET'), headers };
}

/** Decides pass / fail / not-ready from a status and body (pure). */
export function judge(check: CheckSpec, status: number, body: string): Outcome {
  const e = expectOf(check);
  const wanted = statusList(check);
  const seen = `HTTP ${status}${body ? ` ${clip(body, 120)}` : ''}`;
  if (!wanted.includes(status)) {
    const why = `expected HTTP ${wanted.join('|')}, got ${status}`;
    if (status === 401 || status === 403) return authFailed(`authentication failed: ${why}`, seen);
    if (NOT_READY_STATUS.has(status)) return notReady(why, seen);
    return wrong(why, seen);
  }
  if (e.body !== undefined && body !== String(e.body))
    return wrong(`expected body ${JSON.stringify(e.body)}`, seen);
  const textWhy = checkText(body, {
    contains: e.contains as string[] | undefined,
    matches: e.matches as string | undefined,
  });
  if (textWhy) return wrong(`body ${textWhy}`, seen);
  if (isObject(e.json)) {
    let doc: unknown;
    try {
      doc = JSON.parse(body);
    } catch {
      return wrong('expected a JSON body', seen);
    }
    const problems = checkJson(doc, e.json);
    if (problems.length) return wrong(problems.join('; '), clip(problems.join('; '), 400));
  }
  return pass(`HTTP ${status}${body ? ` ${clip(body, 80)}` : ''}`);
}

function statusList(check: CheckSpec): number[] {
  const s = expectOf(check).status;
  if (s === undefined) return [200];
  return (Array.isArray(s) ? s : [s]).map(Number);
}

function validatePath(check: CheckSpec): ParamProblem[] {
  const p = check.path;
  if (typeof p === 'string' && !p.startsWith('/')) return [{ path: ['path'], message: 'must start with /' }];
  return [];
}

function validateExpect(check: CheckSpec): ParamProblem[] {
  const e = expectOf(check);
  const problems: ParamProblem[] = [];
  if (e.status !== undefined) {
    const list = Array.isArray(e.status) ? e.status : [e.status];
    if (!list.every((s) => Number.isInteger(s) && (s as number) >= 100 && (s as number) <= 599))
      problems.push({ path: ['expect', 'status'], message: 'must be an HTTP status code or a list of them' });
  }
  if (e.body !== undefined && typeof e.body !== 'string')
    problems.push({ path: ['expect', 'body'], message: 'must be text (the whole body)' });
  if (
    e.contains !== undefined &&
    !(Array.isArray(e.contains) && e.contains.every((c) => typeof c === 'string'))
  )
    problems.push({ path: ['expect', 'contains'], message: 'must be a list of text' });
  if (e.matches !== undefined) problems.push(...validateRegex(e.matches, ['expect', 'matches']));
  problems.push(...validateJson(e.json, ['expect', 'json']));
  return problems;
}

async function readBody(res: Response): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.length;
    if (size >= MAX_BODY) {
      await reader.cancel();
      break;
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}
