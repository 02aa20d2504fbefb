import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseCatalog } from '../../src/catalog/index.ts';
import { classifyError } from '../../src/probes/classify.ts';
import { judgeExec } from '../../src/probes/exec.ts';
import { checkJson, checkText, parsePath } from '../../src/probes/expect.ts';
import { judge } from '../../src/probes/http.ts';
import { podFindings, pvcFindings, serviceFindings } from '../../src/probes/namespace.ts';
import { encodeCommand, parseReply } from '../../src/probes/resp.ts';
import { pool, retryUntilDeadline } from '../../src/probes/runner.ts';
import type { Outcome } from '../../src/probes/types.ts';
import { checkProblems } from '../../src/probes/validate.ts';

describe('expectations', () => {
  it('text: equals, matches, contains', () => {
    expect(checkText('PONG', { equals: 'PONG' })).toBeUndefined();
    expect(checkText('NOAUTH', { equals: 'PONG' })).toBe('expected "PONG"');
    expect(checkText('PostgreSQL 15.1', { matches: '^PostgreSQL' })).toBeUndefined();
    expect(checkText(['identity', 'conversation'], { contains: ['identity', 'knowledge'] })).toBe(
      'missing "knowledge"',
    );
  });

  it('JSON paths: keys, indexes, wildcards; a wildcard over nothing is a mismatch', () => {
    expect(parsePath('data.result[*].value[1]')).toEqual([
      { key: 'data' },
      { key: 'result' },
      { all: true },
      { key: 'value' },
      { index: 1 },
    ]);
    const prom = {
      status: 'success',
      data: {
        result: [
          { metric: { instance: 'a:1' }, value: [1, '1'] },
          { metric: { instance: 'b:2' }, value: [1, '0'] },
        ],
      },
    };
    const problems = checkJson(prom, { status: 'success', 'data.result[*].value[1]': '1' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('b:2'); // names the failing item, not just the value
    expect(checkJson({ data: { result: [] } }, { 'data.result[*].value[1]': '1' })).toEqual([
      'data.result[*].value[1]: no values (expected = "1")',
    ]);
    expect(checkJson({ status: 'yellow' }, { status: ['green', 'yellow'] })).toEqual([]);
    expect(checkJson({ status: 'red' }, { status: ['green', 'yellow'] })[0]).toMatch(
      /one of "green", "yellow"/,
    );
    expect(checkJson({ data: [] }, { data: { type: 'array' } })).toEqual([]);
    expect(checkJson({ data: null }, { data: { type: 'array' } })[0]).toMatch(/expected array, got null/);
    expect(checkJson({ health: 'true' }, { health: 'true' })).toEqual([]);
  });
});

describe('HTTP answers: not ready (retry) vs definite (fail at once)', () => {
  const check = { name: 'x', type: 'http', expect: { status: 200, body: 'OK' } };
  it.each([
    [500, 'Config and Naming are not in readiness', 'not-ready'],
    [503, '', 'not-ready'],
    [408, '{"timed_out":true}', 'not-ready'],
    [401, 'Unauthorized', 'fail'],
    [404, 'not found', 'fail'],
    [200, 'OK', 'pass'],
    [200, 'NOT OK', 'fail'],
  ])('HTTP %i %j → %s', (status, body, kind) => {
    const o = judge(check, status as number, body as string);
    expect(o.kind).toBe(kind);
    if (status === 401) expect(o).toMatchObject({ reason: 'auth' });
  });
});

describe('error classification', () => {
  it.each([
    [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), 'not-ready'],
    [Object.assign(new Error('the database system is starting up'), { code: '57P03' }), 'not-ready'],
    [
      Object.assign(new Error('password authentication failed for user "postgres"'), { code: '28P01' }),
      'fail',
    ],
    [
      new TypeError('fetch failed', { cause: Object.assign(new Error('x'), { code: 'ECONNRESET' }) }),
      'not-ready',
    ],
    [new Error('syntax error at or near "SELEC"'), 'fail'],
  ])('%s → %s', (err, kind) => {
    expect(classifyError(err).kind).toBe(kind);
  });
  it('authentication errors say so', () => {
    const o = classifyError(Object.assign(new Error('password authentication failed'), { code: '28P01' }));
    expect(o).toMatchObject({ kind: 'fail', reason: 'auth' });
  });
});

describe('RESP', () => {
  it('encodes commands and parses every reply type, waiting for whole replies', () => {
    expect(encodeCommand(['CONFIG', 'GET', 'x']).toString()).toBe(
      '*3\r\n$6\r\nCONFIG\r\n$3\r\nGET\r\n$1\r\nx\r\n',
    );
    expect(parseReply(Buffer.from('+PONG\r\n'))?.reply).toBe('PONG');
    expect(parseReply(Buffer.from('-NOAUTH Authentication required.\r\n'))?.reply).toEqual({
      error: 'NOAUTH Authentication required.',
    });
    expect(parseReply(Buffer.from('*2\r\n$16\r\nmaxmemory-policy\r\n$11\r\nallkeys-lru\r\n'))?.reply).toEqual(
      ['maxmemory-policy', 'allkeys-lru'],
    );
    expect(parseReply(Buffer.from('*2\r\n$16\r\nmaxmemory-policy\r\n$11\r\nallk'))).toBeUndefined();
    expect(parseReply(Buffer.from('$-1\r\n'))?.reply).toBeNull();
  });
});

describe('exec answers', () => {
  it('exit code and stdout; a client that cannot reach its server yet is not ready', () => {
    expect(judgeExec({ matches: '^PostgreSQL' }, 0, 'PostgreSQL 16.2\n', '').kind).toBe('pass');
    expect(judgeExec({}, 1, '', 'Error: no topics').kind).toBe('fail');
    expect(judgeExec({}, 2, '', 'psql: error: connection to server failed: Connection refused').kind).toBe(
      'not-ready',
    );
  });
});

describe('retry until the deadline', () => {
  it('retries not-ready answers with backoff, keeps the history, and stops at a definite one', async () => {
    const answers: Outcome[] = [
      { kind: 'not-ready', message: 'refused' },
      { kind: 'not-ready', message: '503' },
      { kind: 'fail', reason: 'wrong-value', message: 'wrong' },
      { kind: 'pass' },
    ];
    const r = await retryUntilDeadline(async () => answers.shift()!, {
      deadlineMs: 5000,
      initialBackoffMs: 1,
    });
    expect(r.final).toMatchObject({ kind: 'fail', message: 'wrong' });
    expect(r.history.map((a) => a.outcome)).toEqual(['not-ready', 'not-ready', 'fail']);
    expect(answers).toHaveLength(1); // never asked again after the definite answer
  });

  it('settles: a wrong value is retried until it converges', async () => {
    let n = 0;
    const r = await retryUntilDeadline(
      async (): Promise<Outcome> =>
        ++n < 3 ? { kind: 'fail', reason: 'wrong-value', message: 'up 0' } : { kind: 'pass' },
      { deadlineMs: 5000, initialBackoffMs: 1, settles: true },
    );
    expect(r.final.kind).toBe('pass');
    expect(r.history).toHaveLength(3);
  });

  it('an attempt that never answers is cut at the deadline, not later', async () => {
    const t0 = performance.now();
    const r = await retryUntilDeadline(() => new Promise<Outcome>(() => {}), { deadlineMs: 300 });
    const took = performance.now() - t0;
    expect(r.timedOut).toBe(true);
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(400);
  });

  it('pool keeps order and bounds what is in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    const tasks = Array.from({ length: 10 }, (_, i) => async () => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      return i;
    });
    expect(await pool(tasks, 3)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(peak).toBe(3);
  });
});

describe('namespace-wide checks (client-node object shapes)', () => {
  const pod = (name: string, status: object) => ({ metadata: { name }, status });
  it('pods: Ready passes, Succeeded is fine, CrashLoopBackOff is definite, Pending waits', () => {
    const f = podFindings([
      pod('ok', { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] }),
      pod('job', { phase: 'Succeeded' }),
      pod('crash', {
        phase: 'Running',
        conditions: [{ type: 'Ready', status: 'False' }],
        containerStatuses: [{ name: 'app', state: { waiting: { reason: 'CrashLoopBackOff' } } }],
      }),
      pod('wait', {
        phase: 'Pending',
        conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' }],
      }),
    ] as never);
    expect(f.definite).toEqual(['pod/crash container app CrashLoopBackOff']);
    expect(f.pending).toEqual(['pod/wait Unschedulable']);
  });
  it('services: a ready endpoint in an EndpointSlice labelled with the service, per port', () => {
    const svc = (name: string) => ({
      metadata: { name },
      spec: { selector: { app: name }, ports: [{ name: 'http', port: 80 }] },
    });
    const slice = (service: string, ready: boolean) => ({
      metadata: { labels: { 'kubernetes.io/service-name': service } },
      ports: [{ name: 'http', port: 8080 }],
      endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready } }],
    });
    const headless = { metadata: { name: 'external' }, spec: { type: 'ExternalName' } };
    const f = serviceFindings(
      [svc('a'), svc('b'), svc('c'), headless] as never,
      [slice('a', true), slice('b', false)] as never,
    );
    expect(f.total).toBe(3);
    expect(f.pending).toEqual(['service/b has no ready endpoint', 'service/c has no ready endpoint']);
  });
  it('PVCs: Bound passes, Lost is definite, Pending waits', () => {
    const f = pvcFindings([
      { metadata: { name: 'a' }, status: { phase: 'Bound' } },
      { metadata: { name: 'b' }, status: { phase: 'Lost' } },
      { metadata: { name: 'c' }, status: { phase: 'Pending' } },
    ] as never);
    expect(f).toMatchObject({ definite: ['pvc/b Lost'], pending: ['pvc/c Pending'] });
  });
});

describe('check parameters are validated per type, naming the catalog line', () => {
  const catalog = (checks: string) => `apiVersion: kindling.dev/v1alpha1
kind: Stack
namespace: ns
render: { base: ., overlays: { kind: k } }
profiles: { all: [db] }
components:
  db:
    group: core
    manifests: [db.yaml]
    workloads: [{ kind: StatefulSet, name: db }]
    endpoints: [{ name: sql, scheme: postgresql, service: db, port: 5432 }]
    checks:
${checks}`;
  const problems = (checks: string) => {
    const text = catalog(checks);
    const { stack } = parseCatalog('stack.yaml', text, '.');
    return checkProblems(stack!, text).map((p) => `${p.line}: ${p.message}`);
  };
  it('accepts the real catalog', () => {
    const text = readFileSync('manifests/stack.yaml', 'utf8');
    const { stack } = parseCatalog('manifests/stack.yaml', text, 'manifests');
    expect(checkProblems(stack!, text)).toEqual([]);
  });
  it('rejects unknown types, unknown parameters, missing ones and bad expectations, each with its line', () => {
    expect(
      problems(`      - name: a
        type: sqll
      - name: b
        type: sql
        querry: SELECT 1
      - name: c
        type: http
        expect: { status: 2000, json: { 'data[': 1 } }
      - name: d
        type: redis
        command: [PING]
        expect: { equal: PONG }
      - name: e
        type: sql
        query: SELECT 1
        expect: { matches: '(' }`),
    ).toEqual([
      expect.stringMatching(/^14: check "a" of "db" has unknown type "sqll"; types: sql, redis, http/),
      expect.stringMatching(/^17: check "b" of "db": querry: unknown parameter "querry" for a sql check/),
      '15: check "b" of "db": query: sql check needs "query" (text)',
      '20: check "c" of "db": expect.status: must be an HTTP status code or a list of them',
      expect.stringMatching(/^20: check "c" of "db": expect.json.data\[: cannot read JSON path/),
      expect.stringMatching(
        /^24: check "d" of "db": expect.equal: unknown expectation "equal" for a redis check/,
      ),
      expect.stringMatching(/^28: check "e" of "db": expect.matches: invalid regular expression/),
    ]);
  });
});
