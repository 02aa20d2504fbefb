import { reason, request, under } from './http.ts';
import { unknownParams } from './params.ts';
import type { Rotator, RotatorContext } from './types.ts';

/**
 * `type: nacos-user` — a Nacos 2.x account (alibaba/nacos 2.4.3 UserController): a login is
 * `POST {contextPath}/v1/auth/login` with username and password (200 with an accessToken, 403
 * "user not found!" otherwise); the change is `PUT {contextPath}/v1/auth/users?username=&newPassword=`
 * with that token, allowed to the user itself or a global admin (hasPermission). Tokens issued
 * before the change stay valid until their TTL: clients holding one keep working meanwhile.
 * `contextPath` defaults to Nacos' own `/nacos` (server.servlet.contextPath).
 */
export const nacosUserRotator: Rotator = {
  type: 'nacos-user',
  params: ['contextPath'],
  validate: (spec) => [
    ...unknownParams(spec, ['contextPath']),
    ...(spec.contextPath !== undefined &&
    (typeof spec.contextPath !== 'string' || !spec.contextPath.startsWith('/'))
      ? ['contextPath must be a path starting with /']
      : []),
  ],
  login: async (ctx, password) => ((await token(ctx, password)) === undefined ? 'rejected' : 'accepted'),
  set: async (ctx, current, next) => {
    const accessToken = await token(ctx, current);
    if (!accessToken) throw new Error('Nacos refused the current credential');
    const r = await request(
      under(ctx.url, `${prefix(ctx)}/v1/auth/users`, { username: ctx.user, newPassword: next, accessToken }),
      { method: 'PUT' },
      ctx.timeoutMs,
    );
    if (r.status !== 200) throw new Error(`Nacos PUT /v1/auth/users: ${reason(r)}`);
  },
};

const prefix = (ctx: RotatorContext) =>
  (typeof ctx.spec.contextPath === 'string' ? ctx.spec.contextPath : '/nacos').replace(/\/+$/, '');

async function token(ctx: RotatorContext, password: string): Promise<string | undefined> {
  const r = await request(
    under(ctx.url, `${prefix(ctx)}/v1/auth/login`),
    {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: ctx.user, password }).toString(),
    },
    ctx.timeoutMs,
  );
  if (r.status === 403 || r.status === 401) return undefined;
  if (r.status !== 200) throw new Error(`Nacos POST /v1/auth/login: ${reason(r)}`);
  let body: { accessToken?: unknown };
  try {
    body = JSON.parse(r.text);
  } catch {
    throw new Error('Nacos POST /v1/auth/login answered 200 without JSON');
  }
  if (typeof body.accessToken !== 'string' || !body.accessToken)
    throw new Error('Nacos login answered no accessToken');
  return body.accessToken;
}
