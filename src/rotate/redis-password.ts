import { type Reply, redisCommands } from '../probes/resp.ts';
import { unknownParams } from './params.ts';
import type { Login, Rotator, RotatorContext } from './types.ts';

const isError = (r: Reply | undefined): r is { error: string } =>
  typeof r === 'object' && r !== null && !Array.isArray(r);

/**
 * `type: redis-password` — the default user's password of a Redis server: `CONFIG SET requirepass`
 * in the running server, then `CONFIG REWRITE` so the config file (and a restart) keeps it. Since
 * Redis 6 requirepass only sets the default user's password (redis/redis redis.conf, "requirepass");
 * CONFIG REWRITE fails on a server started without a config file, and then the change is undone at
 * once so the server never runs with a password a restart would forget. Connections already
 * authenticated stay authenticated.
 */
export const redisPasswordRotator: Rotator = {
  type: 'redis-password',
  params: [],
  validate: (spec) => unknownParams(spec, []),
  login: async (ctx, password) => {
    const replies = await run(ctx, [...auth(password), ['PING']]);
    const last = replies.at(-1);
    if (isError(replies[0]) || isError(last)) {
      const e = isError(replies[0]) ? replies[0].error : (last as { error: string }).error;
      // NOAUTH: a password is required; WRONGPASS: wrong; "without any password configured": the
      // server has none, so this credential is not the server's
      if (/^(NOAUTH|WRONGPASS|ERR .*(invalid password|without any password configured))/i.test(e))
        return 'rejected' as Login;
      throw new Error(`Redis answered ${e}`);
    }
    return 'accepted';
  },
  set: async (ctx, current, next) => {
    const replies = await run(ctx, [
      ...auth(current),
      ['CONFIG', 'SET', 'requirepass', next],
      // on kube the restart passes the Secret's password as --requirepass (manifests/base/redis.yaml)
      ctx.restartCarries ? ['PING'] : ['CONFIG', 'REWRITE'],
    ]);
    const [setReply, rewrite] = replies.slice(-2);
    if (isError(setReply)) throw new Error(`CONFIG SET requirepass failed: ${setReply.error}`);
    if (isError(rewrite)) {
      const undo = await run(ctx, [...auth(next), ['CONFIG', 'SET', 'requirepass', current]]);
      const undone = !isError(undo.at(-1));
      throw new Error(
        `CONFIG REWRITE failed (${rewrite.error}): a restart would lose the new password, so it was ${undone ? 'set back' : 'NOT set back (the server now requires the pending password)'}; run redis-server with a writable config file`,
      );
    }
  },
};

const auth = (password: string): string[][] => (password ? [['AUTH', password]] : []);

function run(ctx: RotatorContext, commands: string[][]): Promise<Reply[]> {
  const url = new URL(ctx.url);
  url.username = '';
  url.password = '';
  return redisCommands(url, commands, {
    signal: AbortSignal.timeout(ctx.timeoutMs),
    timeoutMs: ctx.timeoutMs,
  });
}
