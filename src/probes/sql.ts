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
    const client = new pg.Client({
      connectionString: url.toString(),
      connectionTimeoutMillis: Math.max(1, ctx.timeoutMs),
      query_timeout: Math.max(1, ctx.timeoutMs),
      application_name: 'kindling-verify',
    });
    client.on('error', () => {}); // a connection dropped after the answer is not this check's concern
    const onAbort = () => void client.end().catch(() => {});
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    try {
      await client.connect();
      const res = await client.query({ text: String(ctx.check.query), rowMode: 'array' });
      const column = res.rows.map((r: unknown[]) => (r[0] === null ? 'NULL' : String(r[0])));
      return judge(ctx.check, column);
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
      await client.end().catch(() => {});
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
