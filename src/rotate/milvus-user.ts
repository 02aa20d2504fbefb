import { reason, request, under } from './http.ts';
import { unknownParams } from './params.ts';
import type { Login, Rotator, RotatorContext } from './types.ts';

/**
 * `type: milvus-user` — a Milvus user (root by default) over the RESTful API v2 that Milvus 2.4
 * serves on its gRPC port: `POST /v2/vectordb/users/update_password` {userName, password,
 * newPassword} with `Authorization: Bearer user:password` (Milvus RESTful reference "Update User
 * Password"; zilliztech/zdoc update-user-password-v2). A login is `POST /v2/vectordb/users/describe`
 * for the user itself. Refusals: HTTP 401 with code 1800 ErrNeedAuthenticate (milvus-io/milvus
 * internal/distributed/proxy/httpserver handler_v2.go checkAuthorizationV2), or code 1800 in a
 * 200 body from older proxies. With authorization disabled Milvus accepts every credential, which
 * the finish step reports (the old one is still accepted).
 */
export const milvusUserRotator: Rotator = {
  type: 'milvus-user',
  params: [],
  validate: (spec) => unknownParams(spec, []),
  login: async (ctx, password) => {
    const r = await post(ctx, password, '/v2/vectordb/users/describe', { userName: ctx.user });
    if (r.status === 401 || r.code === 1800) return 'rejected' as Login;
    if (r.status === 200 && r.code === 0) return 'accepted';
    throw new Error(`Milvus POST /v2/vectordb/users/describe: ${reason(r)}`);
  },
  set: async (ctx, current, next) => {
    const r = await post(ctx, current, '/v2/vectordb/users/update_password', {
      userName: ctx.user,
      password: current,
      newPassword: next,
    });
    if (r.status !== 200 || r.code !== 0)
      throw new Error(`Milvus POST /v2/vectordb/users/update_password: ${reason(r)}`);
  },
};

async function post(ctx: RotatorContext, password: string, path: string, body: object) {
  // the catalog's endpoint is the gRPC port (scheme tcp, as target kube resolves it); Milvus 2.4
  // serves the RESTful API as HTTP/1.1 on that same port
  const base = ctx.url.protocol === 'tcp:' ? new URL(`http://${ctx.url.host}${ctx.url.pathname}`) : ctx.url;
  const r = await request(
    under(base, path),
    {
      method: 'POST',
      headers: { authorization: `Bearer ${ctx.user}:${password}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    },
    ctx.timeoutMs,
  );
  let code: number | undefined;
  try {
    const c = (JSON.parse(r.text) as { code?: unknown }).code;
    code = typeof c === 'number' ? c : undefined;
  } catch {}
  return { ...r, code };
}
