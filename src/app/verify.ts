import type { CheckSpec, Component, Endpoint, Stack } from '../catalog/types.ts';
import type { Cluster } from '../kube/types.ts';
import { absentOwner } from '../probes/endpoint-owner.ts';
import { type Findings, podFindings, pvcFindings, serviceFindings } from '../probes/namespace.ts';
import { probes } from '../probes/registry.ts';
import { pool, type RetryResult, retryUntilDeadline } from '../probes/runner.ts';
import { createScope } from '../probes/scope.ts';
import { selectForVerify } from '../probes/select.ts';
import { notReady, type Outcome, pass, wrong } from '../probes/types.ts';
import { assertChecksValid } from '../probes/validate.ts';
import { type CheckResult, summarise, type VerifyReport } from '../report/results.ts';
import { toJson, toJunit, writeReportFile } from '../report/verify-files.ts';
import { kubeTarget } from '../targets/kube.ts';
import { localTarget } from '../targets/local.ts';
import type { Target } from '../targets/types.ts';
import { formatDuration, parseDuration } from '../util/duration.ts';
import { FailedError, UsageError } from '../util/errors.ts';
import { redact, redactUrl } from '../util/redact.ts';
import { loadCatalog } from './catalog.ts';
import { duration, list, outputFile, positiveInt, type Setting, speaking } from './settings.ts';
import { checkTarget, openTarget, TARGET_FLAGS, type TargetSettings, targetKind } from './target.ts';

export interface VerifyOptions {
  stack: Stack;
  /** The components to verify, in the order to report them. */
  components: readonly Component[];
  target: 'kube' | 'local';
  /** Required on target kube. */
  cluster?: Cluster;
  /** Target local: URLs keyed `component.endpoint` (from parseEndpointFlags). */
  endpoints?: ReadonlyMap<string, URL>;
  /** Deadline of each check (a check's own `timeout:` in the catalog wins). */
  timeoutMs: number;
  /**
   * Checks in flight at once (default 48: the catalog has ~40 endpoint checks, and at 16 a full run
   * queued behind the pool — 62 ms against 44 ms at 48 with the metrics checks, measured here).
   */
  concurrency?: number;
  /** Target kube: also run the namespace-wide checks (pods Ready, Services, PVCs). Default true. */
  namespaceChecks?: boolean;
  /** The target already opened (src/app/target.ts); default: one built from `cluster`/`endpoints`. */
  access?: Target;
  /** Called as each check finishes (results arrive in completion order). */
  onResult?: (result: CheckResult) => void;
  /** Called once per component when its last check has settled, with all of its results. */
  onComponent?: (component: string, results: readonly CheckResult[]) => void;
  /** Backoff tuning (tests). */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

/** Component name under which the namespace-wide checks are reported. */
export const NAMESPACE_COMPONENT = 'namespace';

/**
 * Verifies the components' checks against a target and returns one report. Never throws for a
 * failing service (that is a failed check); throws UsageError for a bad catalog or bad options.
 */
export async function verifyStack(options: VerifyOptions): Promise<VerifyReport> {
  const { stack, components } = options;
  assertChecksValid(stack);
  const cluster = options.access?.cluster ?? options.cluster;
  if (options.target === 'kube' && !cluster)
    throw new UsageError('target kube needs a cluster (kubeconfig/context)');
  const target: Target =
    options.access ??
    (options.target === 'kube'
      ? kubeTarget(cluster!, stack.namespace)
      : localTarget(options.endpoints ?? new Map(), stack.namespace));
  const scope = createScope();
  const startedAt = new Date();
  const t0 = performance.now();
  // one result per check, or one `*` row for a local component without any endpoint given
  const noEndpoint = (c: Component) => {
    const withEndpoint = c.checks.filter((k) => probes[k.type]?.usesEndpoint);
    return (
      options.target === 'local' &&
      withEndpoint.length > 0 &&
      !withEndpoint.some((k) => target.has(c, endpointOf(c, k)!))
    );
  };
  const planned = new Map(components.map((c) => [c.name, noEndpoint(c) ? 1 : c.checks.length]));
  if (options.target === 'kube' && options.namespaceChecks !== false) planned.set(NAMESPACE_COMPONENT, 3);
  const settled = new Map<string, CheckResult[]>();
  const emit = (r: CheckResult) => {
    options.onResult?.(r);
    const soFar = [...(settled.get(r.component) ?? []), r];
    settled.set(r.component, soFar);
    if (soFar.length === planned.get(r.component)) options.onComponent?.(r.component, soFar);
    return r;
  };

  /** Why a check is reported without being run (another target, no endpoint, its owner absent), if it is. */
  const whySkipped = (
    component: Component,
    check: CheckSpec,
    usesEndpoint: boolean,
    endpoint: Endpoint | undefined,
  ): { message: string; reason: CheckResult['reason'] } | undefined => {
    if ((check.target && check.target !== options.target) || (!usesEndpoint && options.target !== 'kube'))
      return { message: `runs only on target ${check.target ?? 'kube'}`, reason: 'other-target' };
    if (usesEndpoint && !target.has(component, endpoint!))
      return {
        message: `not checked: no --endpoint given for ${component.name}.${endpoint!.name}`,
        reason: 'not-checked',
      };
    // on kube, a check through another component's Service (metrics → prometheus) needs that component
    const owner =
      options.target === 'kube' && usesEndpoint
        ? absentOwner(stack, component, endpoint!, components)
        : undefined;
    if (owner)
      return {
        message: `not checked: it asks ${owner} (Service ${endpoint!.service}), which this run does not verify`,
        reason: 'not-checked',
      };
    return undefined;
  };

  const immediate: CheckResult[] = [];
  const tasks: (() => Promise<CheckResult>)[] = [];
  for (const component of components) {
    if (noEndpoint(component)) {
      immediate.push(
        emit(skipped(component.name, '*', 'component', 'not checked: no --endpoint given', 'not-checked')),
      );
      continue;
    }
    for (const check of component.checks) {
      const probe = probes[check.type]!;
      const deadlineMs = check.timeout
        ? parseDuration(check.timeout, `timeout of check ${check.name}`)
        : options.timeoutMs;
      const endpoint = endpointOf(component, check);
      const skip = whySkipped(component, check, probe.usesEndpoint, endpoint);
      if (skip) {
        immediate.push(emit(skipped(component.name, check.name, check.type, skip.message, skip.reason)));
        continue;
      }
      tasks.push(async () => {
        let where = probe.usesEndpoint ? undefined : `pod/${String(check.pod)}`;
        const run = await retryUntilDeadline(
          async (signal, timeoutMs) => {
            const url = probe.usesEndpoint ? await target.resolve(component, endpoint!) : undefined;
            if (url) where = redactUrl(url);
            return probe.run({
              component,
              check,
              url,
              cluster,
              namespace: stack.namespace,
              scope,
              signal,
              timeoutMs,
            });
          },
          {
            deadlineMs,
            settles: check.settles === true,
            initialBackoffMs: options.initialBackoffMs,
            maxBackoffMs: options.maxBackoffMs,
          },
        );
        return emit(toResult(component.name, check, probe.describe(check), run, deadlineMs, where));
      });
    }
  }
  if (options.target === 'kube' && options.namespaceChecks !== false)
    tasks.push(...namespaceTasks(cluster!, stack.namespace, options).map((t) => async () => emit(await t())));

  const ran = await pool(tasks, options.concurrency ?? 48);
  await scope.closeAll();
  await target.close();
  const results = order([...immediate, ...ran], components);
  return summarise(
    {
      target: options.target,
      namespace: options.target === 'kube' ? stack.namespace : undefined,
      startedAt: startedAt.toISOString(),
      durationMs: Math.round(performance.now() - t0),
    },
    results,
    components,
  );
}

function endpointOf(component: Component, check: CheckSpec): Endpoint | undefined {
  return check.endpoint ? component.endpoints.find((e) => e.name === check.endpoint) : component.endpoints[0];
}

function skipped(
  component: string,
  check: string,
  type: string,
  message: string,
  reason: CheckResult['reason'],
): CheckResult {
  return { component, check, type, status: 'skip', attempts: 0, durationMs: 0, message, reason, history: [] };
}

/** Turns a retry run into a result row (pure). */
export function toResult(
  component: string,
  check: Pick<CheckSpec, 'name' | 'type'>,
  expected: string,
  run: RetryResult,
  deadlineMs: number,
  where?: string,
): CheckResult {
  const { final, history } = run;
  const attempts = history.length;
  const base = {
    component,
    check: check.name,
    type: check.type,
    attempts,
    durationMs: Math.round(run.durationMs),
    expected: redact(expected),
    where,
    history,
  };
  if (final.kind === 'pass')
    return {
      ...base,
      status: 'pass',
      actual: final.actual && redact(final.actual),
      message: `ok${attempts > 1 ? ` after ${attempts} attempts` : ''}`,
    };
  if (final.kind === 'not-ready') {
    const tries = `${attempts} attempt${attempts === 1 ? '' : 's'}`;
    return {
      ...base,
      status: 'fail',
      reason: 'deadline',
      actual: redact(final.actual ?? final.message),
      message: redact(`not ready within ${formatDuration(deadlineMs)} (${tries}): ${final.message}`),
    };
  }
  return {
    ...base,
    status: 'fail',
    reason: final.reason,
    actual: redact(final.actual ?? final.message),
    message: redact(final.message),
  };
}

function namespaceTasks(
  cluster: Cluster,
  namespace: string,
  options: VerifyOptions,
): (() => Promise<CheckResult>)[] {
  const spec =
    (
      name: string,
      expected: string,
      noun: string,
      evaluate: () => Promise<Findings>,
    ): (() => Promise<CheckResult>) =>
    async () => {
      const run = await retryUntilDeadline(async () => verdict(await evaluate(), noun), {
        deadlineMs: options.timeoutMs,
        initialBackoffMs: options.initialBackoffMs,
        maxBackoffMs: options.maxBackoffMs,
      });
      return toResult(
        NAMESPACE_COMPONENT,
        { name, type: 'namespace' },
        expected,
        run,
        options.timeoutMs,
        `namespace/${namespace}`,
      );
    };
  return [
    spec('pods-ready', 'every pod Running and Ready', 'pods', async () =>
      podFindings(await cluster.listPods(namespace)),
    ),
    spec('services-endpoints', 'every Service has a ready endpoint', 'services', async () => {
      const [services, slices] = await Promise.all([
        cluster.listServices(namespace),
        cluster.listEndpointSlices(namespace),
      ]);
      return serviceFindings(services, slices);
    }),
    spec('pvcs-bound', 'every PVC Bound', 'PVCs', async () =>
      pvcFindings(await cluster.listPersistentVolumeClaims(namespace)),
    ),
  ];
}

/** Findings → an attempt's outcome: definite problems fail at once, pending ones are retried. */
export function verdict(f: Findings, noun: string): Outcome {
  if (f.definite.length)
    return wrong(
      [...f.definite, ...f.pending].join('; '),
      `${f.definite.length + f.pending.length} of ${f.total} ${noun} not ok`,
    );
  if (f.pending.length)
    return notReady(f.pending.join('; '), `${f.pending.length} of ${f.total} ${noun} not ready`);
  return pass(`${f.total} ${noun} ok`);
}

/** Results in catalog order: by component, then the component's check order; the namespace last. */
function order(results: CheckResult[], components: readonly Component[]): CheckResult[] {
  const rank = (r: CheckResult) => {
    const ci = components.findIndex((c) => c.name === r.component);
    const checks = components[ci]?.checks ?? [];
    const ki = checks.findIndex((c) => c.name === r.check);
    return (ci < 0 ? components.length : ci) * 1000 + (ki < 0 ? 999 : ki);
  };
  return [...results].sort((a, b) => rank(a) - rank(b));
}

export interface VerifySettings extends TargetSettings {
  catalog: Setting<string>;
  /** Components or profiles; empty checks all (on local, those with an endpoint). */
  components: Setting<string | readonly string[] | undefined>;
  timeout: Setting<string>;
  concurrency: Setting<string>;
  json: Setting<string | undefined>;
  junit: Setting<string | undefined>;
}

/** The CLI flag each setting is called in lower layers' messages (reworded for an action's inputs). */
export const VERIFY_FLAGS = {
  ...TARGET_FLAGS,
  components: '--components',
  timeout: '--timeout',
  concurrency: '--concurrency',
  json: '--json',
  junit: '--junit',
} as const;

export interface VerifyOutcome {
  report: VerifyReport;
  json?: string;
  junit?: string;
  /** Set when a check failed or none ran: the headline, then each failing check. */
  error?: FailedError;
}

/** The deadline of each check after a deploy (`kindling up`, the deploy action's `verify`). */
export const POST_DEPLOY_VERIFY_TIMEOUT = '2m';

/**
 * `verify`: every setting is checked (report paths too) before the target is opened; the report
 * files are written; a failure is an outcome with `error`, not a throw (the faces publish first).
 */
export async function verify(
  s: VerifySettings,
  hooks: Pick<VerifyOptions, 'onResult' | 'onComponent'> = {},
): Promise<VerifyOutcome> {
  return speaking(s, VERIFY_FLAGS, async () => {
    const stack = loadCatalog(s.catalog);
    const timeoutMs = duration(s.timeout, '2m');
    const concurrency = positiveInt(s.concurrency, '16');
    const json = outputFile(s.json);
    const junit = outputFile(s.junit);
    const target = targetKind(s);
    const endpoints = checkTarget(stack, s);
    const components = selectForVerify(stack, { target, names: list(s.components), endpoints });
    const access = await openTarget(stack, s);
    const report = await verifyStack({
      stack,
      components,
      target,
      access,
      endpoints,
      timeoutMs,
      concurrency,
      ...(hooks.onResult ? { onResult: hooks.onResult } : {}),
      ...(hooks.onComponent ? { onComponent: hooks.onComponent } : {}),
    });
    if (json) writeReportFile(json, toJson(report));
    if (junit) writeReportFile(junit, toJunit(report));
    return { report, ...(json ? { json } : {}), ...(junit ? { junit } : {}), error: failure(report) };
  });
}

/** The failure of a report, headline first (pure). */
export function failure(report: VerifyReport): FailedError | undefined {
  if (report.ok) return undefined;
  const failed = report.results.filter((r) => r.status === 'fail');
  if (failed.length === 0) return new FailedError('no check ran: nothing was verified');
  return new FailedError(
    `${failed.length} check(s) failed: ${failed.map((r) => `${r.component}/${r.check}`).join(', ')}`,
  );
}
