import { checkText, describeText, type TextExpect, validateText } from './expect.ts';
import { clip, expectKeys, expectOf, stringList, unknownKeys } from './params.ts';
import { type Reply, redisCommands } from './resp.ts';
import { authFailed, notReady, type Outcome, type Probe, pass, wrong } from './types.ts';

/** `type: redis` — sends `command` (after AUTH/SELECT from the URL) and checks the reply. */
export const redisProbe: Probe = {
  type: 'redis',
  usesEndpoint: true,
  params: ['command', 'expect'],
  validate: (check) => [
    ...unknownKeys(check, redisProbe.params),
    ...stringList(check, 'command', true),
    ...expectKeys(check, ['equals', 'matches', 'contains']),
    ...validateText(check.expect, ['expect']),
  ],
  describe: (check) => {
    const e = describeText(expectOf(check) as TextExpect);
    return `${(check.command as string[]).join(' ')}${e ? ` → ${e}` : ' answers'}`;
  },
  run: async (ctx): Promise<Outcome> => {
    const url = ctx.url!;
    const pre: string[][] = [];
    const password = url.password ? decodeURIComponent(url.password) : '';
    const user = url.username ? decodeURIComponent(url.username) : '';
    if (password) pre.push(user ? ['AUTH', user, password] : ['AUTH', password]);
    const db = url.pathname.replace(/^\//, '');
    if (db) pre.push(['SELECT', db]);
    const command = (ctx.check.command as (string | number)[]).map(String);
    const replies = await redisCommands(url, [...pre, command], {
      signal: ctx.signal,
      timeoutMs: ctx.timeoutMs,
    });
    for (const r of replies) {
      if (isError(r)) return judgeError(r.error);
    }
    const reply = replies.at(-1)!;
    const flat = flatten(reply);
    const shown = clip(Array.isArray(reply) ? flat.join(' ') : (flat[0] ?? 'nil'));
    const spec = expectOf(ctx.check) as TextExpect;
    const actual = Array.isArray(reply) ? flat : (flat[0] ?? '');
    const why = checkText(actual, spec);
    return why ? wrong(why, shown) : pass(shown);
  },
};

function judgeError(error: string): Outcome {
  if (/^(NOAUTH|WRONGPASS)\b|invalid password|ERR AUTH/i.test(error))
    return authFailed(`authentication failed: ${error}`, error);
  if (/^(LOADING|BUSY|MASTERDOWN|TRYAGAIN)\b/.test(error)) return notReady(error, error);
  return wrong(`error reply: ${error}`, error);
}

function isError(r: Reply): r is { error: string } {
  return typeof r === 'object' && r !== null && !Array.isArray(r);
}

function flatten(r: Reply): string[] {
  if (Array.isArray(r)) return r.flatMap(flatten);
  if (r === null) return [];
  if (isError(r)) return [r.error];
  return [String(r)];
}
