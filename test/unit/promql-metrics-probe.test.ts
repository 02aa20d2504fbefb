import { describe, expect, it } from 'vitest';
import type { CheckSpec } from '../../src/catalog/types.ts';
import { judgeSeries, metricsProbe, parseCompare, parseQueryAnswer } from '../../src/probes/metrics.ts';
import { metricsTable } from '../../src/report/verify-summary.ts';

const check = (extra: Partial<CheckSpec> = {}): CheckSpec => ({
  name: 'connections',
  type: 'metrics',
  query: 'pg_stat_activity_count',
  ...extra,
});
const s = (value: number, metric: Record<string, string> = {}) => ({ metric, value });

describe('metrics check: parameters', () => {
  it('needs a query and takes only comparisons as values', () => {
    const problems = metricsProbe.validate({
      name: 'x',
      type: 'metrics',
      expect: { value: 'about 3', minSeries: -1, every: 1 },
    });
    expect(problems.map((p) => p.path.join('.'))).toEqual(
      expect.arrayContaining(['query', 'expect.value', 'expect.minSeries', 'expect.every']),
    );
    expect(metricsProbe.validate(check({ expect: { value: '< 200', minSeries: 2 } }))).toEqual([]);
    const syntax = metricsProbe.validate(check({ query: 'sum(rate(x[5m])', targets: 'up{' }));
    expect(syntax.map((p) => `${p.path[0]}: ${p.message}`)).toEqual([
      'query: PromQL syntax error at column 16: the expression ends too early',
      expect.stringMatching(/^targets: PromQL syntax error at column/),
    ]);
  });

  it('a query with targets must keep "instance" (series are matched to targets on it)', () => {
    const drops = metricsProbe.validate(check({ query: 'max by (cluster) (x)', targets: 'up{service="x"}' }));
    expect(drops.map((p) => p.message)).toEqual([expect.stringContaining('drops the "instance" label')]);
    expect(
      metricsProbe.validate(check({ query: 'max by (cluster, instance) (x)', targets: 'up{service="x"}' })),
    ).toEqual([]);
    const lazy = check({
      query: 'max by (cluster) (x)',
      targets: 'up{service="x"}',
      expect: { minSeries: 0 },
    });
    expect(metricsProbe.validate(lazy)).toEqual([]);
  });

  it('parses the six comparisons', () => {
    expect(parseCompare('>= 0')).toEqual({ op: '>=', bound: 0 });
    expect(parseCompare('<1.5e3')).toEqual({ op: '<', bound: 1500 });
    expect(parseCompare('= 3')).toBeUndefined();
  });
});

describe('metrics check: verdicts', () => {
  it('passes with series that satisfy the comparison, naming their values', () => {
    const out = judgeSeries(check({ expect: { value: '< 200' } }), [s(3, { pod: 'postgres-0' })]);
    expect(out).toEqual({ kind: 'pass', actual: '1 series: 3 (postgres-0)' });
  });

  it('no series is not ready yet (retried), a value out of range is a definite failure', () => {
    expect(judgeSeries(check(), []).kind).toBe('not-ready');
    const out = judgeSeries(check({ expect: { value: '< 200' } }), [s(250, { pod: 'postgres-0' })]);
    expect(out).toMatchObject({ kind: 'fail', reason: 'wrong-value' });
    expect(out.kind === 'fail' && out.message).toContain('not < 200');
  });

  it('names a down target and a target without series (for every target)', () => {
    const c = check({ targets: 'up{service="postgres"}' });
    const up = [
      s(1, { instance: 'a:9187', pod: 'postgres-0' }),
      s(0, { instance: 'b:9187', pod: 'postgres-1' }),
    ];
    const down = judgeSeries(c, [s(1, { instance: 'a:9187' })], up);
    expect(down.kind).toBe('not-ready');
    expect(down.kind !== 'pass' && down.message).toContain('target postgres-1 down');
    const missing = judgeSeries(c, [s(1, { instance: 'a:9187' })], [up[0]!, s(1, { instance: 'b:9187' })]);
    expect(missing.kind !== 'pass' && missing.message).toContain('from target b:9187');
    expect(judgeSeries(c, [s(1, { instance: 'a:9187' })], [up[0]!]).kind).toBe('pass');
    // minSeries 0 (a family that appears with first use): the targets must be up, series may be absent
    const lazy = check({ targets: 'up{service="milvus"}', expect: { minSeries: 0 } });
    expect(judgeSeries(lazy, [], [s(1, { instance: 'm:9091' })]).kind).toBe('pass');
    expect(judgeSeries(lazy, [], [s(0, { instance: 'm:9091' })]).kind).toBe('not-ready');
  });
});

describe('metrics check: Prometheus answers', () => {
  it('reads a vector and a scalar', () => {
    const vec = parseQueryAnswer(
      'up',
      200,
      '{"status":"success","data":{"resultType":"vector","result":[{"metric":{"pod":"p"},"value":[1,"0.5"]}]}}',
    );
    expect(vec).toEqual({ samples: [{ metric: { pod: 'p' }, value: 0.5 }] });
    expect(
      parseQueryAnswer('1', 200, '{"status":"success","data":{"resultType":"scalar","result":[1,"1"]}}'),
    ).toEqual({ samples: [{ metric: {}, value: 1 }] });
  });

  it('a query Prometheus cannot parse fails at once with its error; 503 is retried', () => {
    const bad = parseQueryAnswer(
      'rate(x[',
      400,
      '{"status":"error","errorType":"bad_data","error":"1:8: parse error: unclosed left bracket"}',
    );
    expect(bad).toMatchObject({
      outcome: { kind: 'fail', message: expect.stringContaining('unclosed left bracket') },
    });
    expect(parseQueryAnswer('up', 503, 'Service Unavailable')).toMatchObject({
      outcome: { kind: 'not-ready' },
    });
    expect(
      parseQueryAnswer('x[5m]', 200, '{"status":"success","data":{"resultType":"matrix","result":[]}}'),
    ).toMatchObject({
      outcome: { kind: 'fail' },
    });
  });
});

describe('verify summary: the seed metrics table', () => {
  const row = (status: 'pass' | 'fail' | 'skip', actual: string | undefined, message = '') => ({
    component: 'redis',
    check: 'metric-memory',
    type: 'metrics',
    status,
    attempts: 1,
    durationMs: 3,
    actual,
    message,
    history: [],
  });
  it('one row per metrics check with its current value; none without metrics checks', () => {
    expect(metricsTable([{ ...row('pass', '1 series: 0.25 (redis-0)'), type: 'redis' }])).toEqual([]);
    const t = metricsTable([
      row('pass', '1 series: 0.25 (redis-0)'),
      row('fail', undefined, 'target redis-0 down'),
      row('skip', undefined),
    ]);
    expect(t.slice(4, 7)).toEqual([
      '| ✅ | redis | memory | 0.25 (redis-0) |',
      '| ❌ | redis | memory | target redis-0 down |',
      '| ⏭️ | redis | memory | not checked |',
    ]);
  });
});

describe('metrics checks running together ask Prometheus once (label_replace … or …)', () => {
  async function fakePrometheus() {
    const { createServer } = await import('node:http');
    const seen: string[] = [];
    // answers like Prometheus for `up{…}`, `x`, a scalar `1`, and combinations of them tagged with
    // label_replace(…, "__kindling_query", "N", "", "") joined by `or` (any other query: bad_data)
    const answer = (
      q: string,
    ): { metric: Record<string, string>; value: [number, string] }[] | 'scalar' | 'bad' => {
      const tagged = [...q.matchAll(/label_replace\(\((.+?)\), "__kindling_query", "(\d+)", "", ""\)/g)];
      if (tagged.length) {
        const parts = tagged.map(([, inner, i]) => ({ r: answer(inner!), i: i! }));
        if (parts.some((p) => !Array.isArray(p.r))) return 'bad';
        return parts.flatMap((p) =>
          (p.r as { metric: Record<string, string>; value: [number, string] }[]).map((x) => ({
            ...x,
            metric: { ...x.metric, __kindling_query: p.i },
          })),
        );
      }
      if (q.startsWith('up')) return [{ metric: { instance: 'r:9121', pod: 'redis-0' }, value: [1, '1'] }];
      if (q === '1') return 'scalar';
      if (/^[a-z]$/.test(q)) return [{ metric: { instance: 'r:9121', pod: 'redis-0', q }, value: [1, '5'] }];
      return 'bad';
    };
    const server = createServer((req, res) => {
      const q = new URL(req.url!, 'http://x').searchParams.get('query')!;
      seen.push(q);
      const r = answer(q);
      res.writeHead(r === 'bad' ? 400 : 200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(
          r === 'bad'
            ? { status: 'error', errorType: 'bad_data', error: 'parse error' }
            : {
                status: 'success',
                data:
                  r === 'scalar'
                    ? { resultType: 'scalar', result: [1, '1'] }
                    : { resultType: 'vector', result: r },
              },
        ),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { seen, server, url: new URL(`http://127.0.0.1:${(server.address() as { port: number }).port}`) };
  }

  it('three checks of one component make one request; each gets its own series; a later attempt asks again', async () => {
    const { createScope } = await import('../../src/probes/scope.ts');
    const { seen, server, url } = await fakePrometheus();
    const scope = createScope();
    const run = (query: string, extra: Partial<CheckSpec> = {}) =>
      metricsProbe.run({
        component: { name: 'redis' } as never,
        check: check({ query, targets: 'up{service="redis"}', ...extra }),
        url,
        namespace: 'ns',
        signal: new AbortController().signal,
        timeoutMs: 2000,
        scope,
      });
    try {
      const outcomes = await Promise.all(['a', 'b', 'c'].map((q) => run(q)));
      expect(outcomes.map((o) => o.kind)).toEqual(['pass', 'pass', 'pass']);
      expect(seen).toHaveLength(1);
      expect(seen[0]).toContain(' or ');
      // a query Prometheus rejects does not fail the others: they are asked one by one
      seen.length = 0;
      const mixed = await Promise.all([run('a'), run('rate(x[', { targets: undefined })]);
      expect(mixed.map((o) => o.kind)).toEqual(['pass', 'fail']);
      expect(mixed[1]!.kind === 'fail' && mixed[1]!.message).toContain('bad_data');
      expect(seen).toHaveLength(4); // the combined one, then a, up{…} and the broken one
    } finally {
      await scope.closeAll();
      server.close();
    }
  });

  it('combine and split are inverse on the tag', async () => {
    const { combine, split, TAG } = await import('../../src/probes/promql-batch.ts');
    expect(combine(['a', 'sum(b)'])).toBe(
      `label_replace((a), "${TAG}", "0", "", "") or label_replace((sum(b)), "${TAG}", "1", "", "")`,
    );
    expect(
      split(
        [
          { metric: { pod: 'p', [TAG]: '1' }, value: 2 },
          { metric: { pod: 'q', [TAG]: '0' }, value: 1 },
        ],
        3,
      ),
    ).toEqual([[{ metric: { pod: 'q' }, value: 1 }], [{ metric: { pod: 'p' }, value: 2 }], []]);
  });
});
