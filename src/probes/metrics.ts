import type { CheckSpec } from '../catalog/types.ts';
import { keepsLabel, promqlErrors } from '../manifests/promql.ts';
import { expectKeys, expectOf, requireString, unknownKeys } from './params.ts';
import { batcher } from './promql-batch.ts';
import {
  notReady,
  type Outcome,
  type ParamProblem,
  type Probe,
  type ProbeContext,
  pass,
  wrong,
} from './types.ts';

const EXPECT_KEYS = ['minSeries', 'value'];
const COMPARE = /^\s*(>=|<=|==|!=|>|<)\s*([-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?)\s*$/;
const MAX_BODY = 4 * 1024 * 1024;

/** One sample of an instant-query result (Prometheus HTTP API, prometheus/prometheus `web/api/v1/api.go`). */
export interface Sample {
  metric: Record<string, string>;
  value: number;
}

/**
 * `type: metrics` — an instant PromQL `query` against the stack's Prometheus (the check's endpoint:
 * `GET /api/v1/query`). `expect`: `minSeries` (default 1) and `value` (`>= 0`, `< 200`, … that every
 * series must satisfy). `targets`: a selector of scrape targets (`up{service="postgres"}`); each
 * must be up and have a series in the result (matched on `instance`), so a down exporter is named.
 * No series yet is "not ready" (a target is scraped every 15 s): retried until the deadline.
 */
export const metricsProbe: Probe = {
  type: 'metrics',
  usesEndpoint: true,
  params: ['query', 'targets', 'expect'],
  validate: (check) => [
    ...unknownKeys(check, metricsProbe.params),
    ...requireString(check, 'query'),
    ...(check.targets !== undefined && (typeof check.targets !== 'string' || check.targets.trim() === '')
      ? [{ path: ['targets'], message: 'must be a PromQL selector of scrape targets, e.g. up{service="x"}' }]
      : []),
    ...expectKeys(check, EXPECT_KEYS),
    ...validateExpect(check),
    // series are matched to targets on `instance`: a query that aggregates it away matches none
    ...(typeof check.query === 'string' &&
    check.targets !== undefined &&
    Number(expectOf(check).minSeries ?? 1) > 0 &&
    promqlErrors(check.query).length === 0 &&
    !keepsLabel(check.query, 'instance')
      ? [
          {
            path: ['query'],
            message:
              'drops the "instance" label, so no series can be matched to a target; keep it (by (…, instance)) or set expect.minSeries: 0',
          },
        ]
      : []),
    ...(['query', 'targets'] as const).flatMap((k) =>
      typeof check[k] === 'string'
        ? promqlErrors(check[k]).map((e) => ({
            path: [k],
            message: `PromQL syntax error at column ${e.at + 1}: ${e.message}`,
          }))
        : [],
    ),
  ],
  describe: (check) => {
    const e = expectOf(check);
    const parts = [`≥ ${Number(e.minSeries ?? 1)} series`];
    if (e.value !== undefined) parts.push(`each ${String(e.value).trim()}`);
    if (check.targets) parts.push(`from every target of ${String(check.targets)}`);
    return `PromQL ${String(check.query)} → ${parts.join(', ')}`;
  },
  run: async (ctx) => {
    const query = (q: string) =>
      ctx.scope ? batched(ctx, q) : instantQuery(ctx.url!, q, ctx.signal, ctx.timeoutMs);
    const [result, targets] = await Promise.all([
      query(String(ctx.check.query)),
      ctx.check.targets ? query(String(ctx.check.targets)) : Promise.resolve(undefined),
    ]);
    if ('outcome' in result) return result.outcome;
    if (targets && 'outcome' in targets) return targets.outcome;
    return judgeSeries(ctx.check, result.samples, targets?.samples);
  },
};

/**
 * The queries the run's checks ask of one Prometheus at the same moment go as one request
 * (promql-batch.ts); the same targets query of a component's checks is asked once in it.
 */
function batched(ctx: ProbeContext, q: string): Promise<QueryResult> {
  const url = ctx.url!;
  const timeoutMs = ctx.timeoutMs;
  return ctx
    .scope!.reuse(
      `metrics-batch ${url.origin}`,
      async () =>
        batcher<QueryResult>(
          (query) => instantQuery(url, query, AbortSignal.timeout(timeoutMs), timeoutMs),
          (r) => ('samples' in r ? r.samples : undefined),
          (samples) => ({ samples }),
        ),
      async () => {},
    )
    .then((ask) => ask(q));
}

/** Decides pass / fail / not-ready from a query's samples and the targets' `up` samples (pure). */
export function judgeSeries(
  check: CheckSpec,
  samples: readonly Sample[],
  targets?: readonly Sample[],
): Outcome {
  const e = expectOf(check);
  const minSeries = Number(e.minSeries ?? 1);
  const seen = showSamples(samples);
  if (targets) {
    if (targets.length === 0) return notReady(`no scrape target matches ${String(check.targets)} yet`, seen);
    const down = targets.filter((t) => t.value !== 1).map(targetName);
    const have = new Set(samples.map((s) => s.metric.instance));
    // minSeries 0: families that appear with first use (a histogram before its first search)
    const missing =
      minSeries > 0
        ? targets.filter((t) => t.value === 1 && !have.has(t.metric.instance)).map(targetName)
        : [];
    // a down target is not a wrong value: it may come back within the deadline
    if (down.length)
      return notReady(`target ${down.join(', ')} down (up == 0): its series are not collected`, seen);
    if (missing.length)
      return notReady(`no series of ${String(check.query)} from target ${missing.join(', ')}`, seen);
  }
  if (samples.length < minSeries)
    return notReady(
      `${String(check.query)} returned ${samples.length} series, expected at least ${minSeries}`,
      seen,
    );
  if (e.value !== undefined) {
    const cmp = parseCompare(String(e.value))!;
    const bad = samples.filter((s) => !compare(s.value, cmp.op, cmp.bound));
    if (bad.length)
      return wrong(
        `${bad.length} of ${samples.length} series not ${cmp.op} ${cmp.bound}: ${showSamples(bad)}`,
        seen,
      );
  }
  return pass(seen);
}

/** `{op, bound}` from `>= 0`, or undefined when it is not a comparison. */
export function parseCompare(s: string): { op: string; bound: number } | undefined {
  const m = COMPARE.exec(s);
  return m ? { op: m[1]!, bound: Number(m[2]) } : undefined;
}

function compare(v: number, op: string, bound: number): boolean {
  switch (op) {
    case '>':
      return v > bound;
    case '>=':
      return v >= bound;
    case '<':
      return v < bound;
    case '<=':
      return v <= bound;
    case '==':
      return v === bound;
    default:
      return v !== bound;
  }
}

/** `12 (pod=postgres-0), 3 (…)`: values with the labels that tell series apart, for reports. */
export function showSamples(samples: readonly Sample[], max = 4): string {
  if (samples.length === 0) return 'no series';
  const shown = samples.slice(0, max).map((s) => {
    const who = s.metric.pod ?? s.metric.instance;
    return `${formatValue(s.value)}${who ? ` (${who})` : ''}`;
  });
  const more = samples.length > max ? `, … ${samples.length - max} more` : '';
  return `${samples.length} series: ${shown.join(', ')}${more}`;
}

function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4)));
}

function targetName(t: Sample): string {
  return t.metric.pod ?? t.metric.instance ?? JSON.stringify(t.metric);
}

function validateExpect(check: CheckSpec): ParamProblem[] {
  const e = expectOf(check);
  const out: ParamProblem[] = [];
  if (e.minSeries !== undefined && !(Number.isInteger(e.minSeries) && (e.minSeries as number) >= 0))
    out.push({ path: ['expect', 'minSeries'], message: 'must be a whole number ≥ 0' });
  if (e.value !== undefined && (typeof e.value !== 'string' || !parseCompare(e.value)))
    out.push({ path: ['expect', 'value'], message: 'must be a comparison such as ">= 0" or "< 200"' });
  return out;
}

export type QueryResult = { samples: Sample[] } | { outcome: Outcome };

/**
 * `GET /api/v1/query`: a vector or scalar result as samples. The API answers 400 `bad_data` for a
 * query it cannot parse and 422 for one it cannot run (prometheus/prometheus `web/api/v1/api.go`,
 * `returnAPIError`): a definite failure; 503 and timeouts are "not ready".
 */
export async function instantQuery(
  endpoint: URL,
  query: string,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<QueryResult> {
  const base = new URL(endpoint);
  const url = new URL(`${base.pathname.replace(/\/$/, '')}/api/v1/query`, base);
  url.username = '';
  url.password = '';
  url.searchParams.set('query', query);
  const headers: Record<string, string> = {};
  if (base.username || base.password)
    headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`).toString('base64')}`;
  const res = await fetch(url, {
    headers,
    signal: AbortSignal.any([signal, AbortSignal.timeout(Math.max(1, timeoutMs))]),
  });
  const text = (await res.text()).slice(0, MAX_BODY);
  return parseQueryAnswer(query, res.status, text);
}

/** A Prometheus query answer → samples, or the outcome that ends the attempt (pure). */
export function parseQueryAnswer(query: string, status: number, body: string): QueryResult {
  let doc: {
    status?: string;
    error?: string;
    errorType?: string;
    data?: { resultType?: string; result?: unknown };
  };
  try {
    doc = JSON.parse(body);
  } catch {
    return status >= 500
      ? { outcome: notReady(`Prometheus answered HTTP ${status}`) }
      : {
          outcome: wrong(
            `Prometheus answered HTTP ${status} without a JSON body: is this endpoint Prometheus?`,
          ),
        };
  }
  if (doc.status !== 'success') {
    const why = `Prometheus rejected ${query}: ${doc.errorType ?? 'error'}: ${doc.error ?? `HTTP ${status}`}`;
    return { outcome: status >= 500 && status !== 422 ? notReady(why) : wrong(why) };
  }
  const { resultType, result } = doc.data ?? {};
  if (resultType === 'scalar' && Array.isArray(result))
    return { samples: [{ metric: {}, value: Number(result[1]) }] };
  if (resultType !== 'vector' || !Array.isArray(result))
    return {
      outcome: wrong(
        `${query} is a ${resultType ?? 'missing'} result; a metrics check needs an instant vector`,
      ),
    };
  return {
    samples: result.map((r: { metric?: Record<string, string>; value?: [number, string] }) => ({
      metric: r.metric ?? {},
      value: Number(r.value?.[1]),
    })),
  };
}
