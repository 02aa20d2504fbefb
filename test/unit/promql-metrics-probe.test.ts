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

describe('metrics check: the same targets query is asked once by checks running together', () => {
  it('three checks of one component make four requests, not six; a later attempt asks again', async () => {
    const { createServer } = await import('node:http');
    const { createScope } = await import('../../src/probes/scope.ts');
    const seen: string[] = [];
    const server = createServer((req, res) => {
      const q = new URL(req.url!, 'http://x').searchParams.get('query')!;
      seen.push(q);
      const result = [{ metric: { instance: 'r:9121', pod: 'redis-0' }, value: [1, '1'] }];
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result } }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = new URL(`http://127.0.0.1:${(server.address() as { port: number }).port}`);
    const scope = createScope();
    const run = (query: string) =>
      metricsProbe.run({
        component: { name: 'redis' } as never,
        check: check({ query, targets: 'up{service="redis"}' }),
        url,
        namespace: 'ns',
        signal: new AbortController().signal,
        timeoutMs: 2000,
        scope,
      });
    try {
      const outcomes = await Promise.all(['a', 'b', 'c'].map(run));
      expect(outcomes.map((o) => o.kind)).toEqual(['pass', 'pass', 'pass']);
      expect(seen.filter((q) => q === 'up{service="redis"}')).toHaveLength(1);
      expect(seen).toHaveLength(4);
      await new Promise((r) => setTimeout(r, 300));
      await run('a');
      expect(seen.filter((q) => q === 'up{service="redis"}')).toHaveLength(2);
    } finally {
      await scope.closeAll();
      server.close();
    }
  });
});
