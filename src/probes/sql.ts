import pg from 'pg';
import type { CheckSpec } from '../catalog/types.ts';
import { checkText, describeText, type TextExpect, validateText } from './expect.ts';
import { clip, expectKeys, expectOf, optionalString, requireString, unknownKeys } from './params.ts';
import { type Outcome, type Probe, type ProbeContext, pass, wrong } from './types.ts';

const TEXT = ['equals', 'matches', 'contains'];

/** `type: sql` — runs `query` on a PostgreSQL endpoint and checks the first column of the rows. */
export const sqlProbe: Probe = {
  type: 'sql',
  usesEndpoint: true,
  params: ['query', 'database', 'expect'],
  validate: (check) => [
    ...unknownKeys(check, sqlProbe.params),
    ...requireString(check, 'query'),
    ...optionalString(check, 'database'),
    ...expectKeys(check, TEXT),
    ...validateText(check.expect, ['expect']),
  ],
  describe: (check) => {
    const e = describeText(expectOf(check) as TextExpect);
    return e ? `${check.query} → ${e}` : `${check.query} succeeds`;
  },
  run: async (ctx: ProbeContext): Promise<Outcome> => {
    const url = new URL(ctx.url!);
    if (typeof ctx.check.database === 'string') url.pathname = `/${ctx.check.database}`;
    const key = `sql ${url}`;
    const connect = async () => {
      const client = new pg.Client({
        connectionString: url.toString(),
        connectionTimeoutMillis: Math.max(1, ctx.timeoutMs),
        application_name: 'kindling-verify',
      });
      // a dropped session is forgotten: the next attempt opens a new one
      client.on('error', () => ctx.scope?.forget(key));
      try {
        await client.connect();
      } catch (err) {
        await client.end().catch(() => {});
        throw err;
      }
      return client;
    };
    const close = (c: pg.Client) => c.end().catch(() => {});
    const client = ctx.scope ? await ctx.scope.reuse(key, connect, close) : await connect();
    const onAbort = () => (ctx.scope ? ctx.scope.forget(key) : void close(client));
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    try {
      const res = await client.query({
        text: String(ctx.check.query),
        rowMode: 'array',
        query_timeout: Math.max(1, ctx.timeoutMs),
      } as pg.QueryConfig);
      const column = res.rows.map((r: unknown[]) => (r[0] === null ? 'NULL' : String(r[0])));
      return judge(ctx.check, column);
    } catch (err) {
      ctx.scope?.forget(key);
      throw err;
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
      if (!ctx.scope) await close(client);
    }
  },
};

function judge(check: CheckSpec, column: string[]): Outcome {
  const shown = column.length === 1 ? clip(column[0]!) : clip(column.join(', '));
  const spec = expectOf(check) as TextExpect;
  // `matches`/`equals` on one row read the cell; `contains` reads the column as a list
  const actual = column.length === 1 && spec.contains === undefined ? column[0]! : column;
  const why = checkText(actual, spec);
  return why ? wrong(why, shown) : pass(shown);
}
