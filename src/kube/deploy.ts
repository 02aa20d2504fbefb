/**
 * Applies a plan and waits for it: shared objects first, then each component as soon as its
 * dependencies are ready (so independent components apply and wait in parallel), each with its
 * own deadline. Never throws for a rollout failure: the result says which components failed and why.
 */
import type { ComponentVerdict } from '../plan/component.ts';
import type { ComponentOutcome } from '../plan/diagnostics.ts';
import { objectKey, type Plan, type PlannedComponent } from '../plan/order.ts';
import { parseDuration } from '../util/duration.ts';
import { FailedError } from '../util/errors.ts';
import type { KubeClient } from './client.ts';
import { apiError, connectionCause, describeApiError, isImmutableJobTemplate } from './errors.ts';
import type { CacheOptions } from './informer.ts';
import { checkPermissions, deployNeeds, type Need } from './permissions.ts';
import { checkApiReachable } from './reach.ts';
import { keepRotatedKeys, keptNote, secretReadNeeds } from './secret-keep.ts';
import { ClusterWatch, waitForComponent } from './wait.ts';

export type ComponentState = 'ready' | 'failed' | 'skipped' | 'applied';

export interface ComponentResult {
  name: string;
  dependsOn: string[];
  state: ComponentState;
  /** ms from the start of its apply until ready/failed. */
  elapsedMs: number;
  /** ms from the start of the whole deploy until ready (time-to-ready). */
  readyAtMs?: number;
  reasons: string[];
  notes: string[];
  outcome?: ComponentOutcome;
}

export interface DeployResult {
  ok: boolean;
  components: ComponentResult[];
  /** Failed outcomes, for diagnostics and the aggregated error. */
  failures: ComponentOutcome[];
  /** What the deploy went without (context it may not watch), for the report. */
  warnings: string[];
  watch?: ClusterWatch;
}

export interface DeployOptions {
  dryRun?: boolean;
  /** Default per-component deadline (a component's catalog `readyTimeout` wins). */
  timeoutMs: number;
  unschedulableGraceMs?: number;
  /** How long transient image pull errors (rate limits, EOF) are retried before failing. */
  imagePullGraceMs?: number;
  evaluateEveryMs?: number;
  cache?: CacheOptions;
  log?: (component: string, message: string) => void;
  /** Keep the watches open after returning (for diagnostics); the caller stops them. */
  keepWatch?: boolean;
  /** Check RBAC with SelfSubjectAccessReviews before applying (default true). */
  checkPermissions?: boolean;
  /** More than the deploy itself needs, checked with it (verify after deploy: `verifyNeeds`). */
  extraNeeds?: readonly Need[];
}

export async function deployPlan(plan: Plan, client: KubeClient, opts: DeployOptions): Promise<DeployResult> {
  const log = opts.log ?? (() => {});
  const t0 = Date.now();
  const warnings: string[] = [];
  // one bounded GET /version first: a black-holed server would otherwise cost every request's timeout
  await checkApiReachable(client.kc);
  if (opts.checkPermissions !== false) {
    const needs = [
      ...deployNeeds(plan, { dryRun: opts.dryRun }),
      ...secretReadNeeds(plan),
      ...(opts.extraNeeds ?? []),
    ];
    for (const w of await checkPermissions(client, needs)) {
      warnings.push(w);
      log('(permissions)', `warning: ${w}`);
    }
  }
  // a dry run cannot create a namespace, and NamespaceLifecycle admission rejects every object in a
  // namespace that does not exist — dryRun=All included (kubernetes/kubernetes
  // plugin/pkg/admission/namespace/lifecycle/admission.go, #83562). Objects bound for a namespace the
  // dry run would create are reported as such; they were validated client-side before the deploy.
  const fresh = opts.dryRun ? await missingNamespaces(plan, client) : new Set<string>();
  const toNewNamespace = (o: Plan['shared'][number]) =>
    o.metadata.namespace !== undefined && fresh.has(o.metadata.namespace)
      ? `${objectKey(o)} would be created in the new namespace ${o.metadata.namespace} (the API server cannot dry-run objects in a namespace that does not exist yet)`
      : undefined;
  for (const o of plan.shared) {
    const note = toNewNamespace(o);
    if (note) {
      log('(shared)', note);
      continue;
    }
    const fail = (err: unknown) => {
      const cause = apiError(err).code === undefined ? connectionCause(err) : undefined;
      if (cause)
        throw new FailedError(
          `cannot reach the Kubernetes API server at ${client.kc.getCurrentCluster()?.server}: ${cause}`,
        );
      throw new Error(`applying ${objectKey(o)} failed: ${describeApiError(err)}`);
    };
    const keep = await keepingRotated(client, o).catch(fail);
    if (keep.note) log('(shared)', keep.note);
    await client.apply(keep.object, { dryRun: opts.dryRun }).catch(fail);
    log('(shared)', `applied ${objectKey(o)}${opts.dryRun ? ' (dry run)' : ''}`);
  }
  const watch = opts.dryRun ? undefined : new ClusterWatch(client, opts.cache);
  const components = plan.waves.flat();
  const promises = new Map<string, Promise<ComponentResult>>();
  const run = async (c: PlannedComponent): Promise<ComponentResult> => {
    const deps = await Promise.all(c.dependsOn.map((d) => promises.get(d)!));
    const blocked = deps.filter((d) => d.state === 'failed' || d.state === 'skipped');
    const base = { name: c.name, dependsOn: c.dependsOn, notes: [] as string[] };
    if (blocked.length)
      return {
        ...base,
        state: 'skipped',
        elapsedMs: 0,
        reasons: [`dependency ${blocked.map((b) => b.name).join(', ')} not ready`],
      };
    const started = Date.now();
    for (const o of c.objects) {
      const note = toNewNamespace(o);
      if (note) {
        base.notes.push(note);
        log(c.name, note);
        continue;
      }
      try {
        const keep = await keepingRotated(client, o);
        if (keep.note) {
          base.notes.push(keep.note);
          log(c.name, keep.note);
        }
        const replaced = await applyOrReplace(client, keep.object, opts);
        if (replaced) base.notes.push(replaced);
        log(c.name, replaced ?? `applied ${objectKey(o)}${opts.dryRun ? ' (dry run)' : ''}`);
      } catch (err) {
        const reason = `apply ${objectKey(o)}: ${describeApiError(err)}`;
        const verdict: ComponentVerdict = {
          state: 'failed',
          reasons: [reason],
          notes: [],
          targets: [],
          failedPods: [],
        };
        return {
          ...base,
          state: 'failed',
          elapsedMs: Date.now() - started,
          reasons: [reason],
          outcome: { name: c.name, verdict, elapsedMs: Date.now() - started },
        };
      }
    }
    if (!watch) return { ...base, state: 'applied', elapsedMs: Date.now() - started, reasons: [] };
    try {
      await watch.ensure(c.waitFor);
    } catch (err) {
      // e.g. RBAC forbids watching the component's own workloads: this component fails, with why
      const reason = (err as Error).message;
      const verdict: ComponentVerdict = {
        state: 'failed',
        reasons: [reason],
        notes: [],
        targets: [],
        failedPods: [],
      };
      const elapsedMs = Date.now() - started;
      return {
        ...base,
        state: 'failed',
        elapsedMs,
        reasons: [reason],
        outcome: { name: c.name, verdict, elapsedMs },
      };
    }
    const timeoutMs = c.readyTimeout
      ? parseDuration(c.readyTimeout, `readyTimeout of ${c.name}`)
      : opts.timeoutMs;
    const outcome = await waitForComponent(c.name, c.waitFor, watch, {
      timeoutMs,
      ...(opts.unschedulableGraceMs !== undefined ? { unschedulableGraceMs: opts.unschedulableGraceMs } : {}),
      ...(opts.imagePullGraceMs !== undefined ? { imagePullGraceMs: opts.imagePullGraceMs } : {}),
      ...(opts.evaluateEveryMs !== undefined ? { evaluateEveryMs: opts.evaluateEveryMs } : {}),
      onProgress: (v) => log(c.name, v.state === 'ready' ? 'ready' : v.reasons.join('; ')),
    });
    const elapsedMs = Date.now() - started;
    const ready = outcome.verdict.state === 'ready';
    return {
      ...base,
      state: ready ? 'ready' : 'failed',
      elapsedMs,
      ...(ready ? { readyAtMs: Date.now() - t0 } : {}),
      reasons: ready ? [] : outcome.verdict.reasons,
      notes: [...base.notes, ...outcome.verdict.notes],
      outcome,
    };
  };
  // dependencies come first in `components`, so every awaited promise exists before it is awaited
  for (const c of components) promises.set(c.name, run(c));
  let results: ComponentResult[];
  try {
    results = await Promise.all(components.map((c) => promises.get(c.name)!));
  } catch (err) {
    await watch?.stop(); // never leave watches open behind an error
    throw err;
  }
  for (const d of watch?.degraded ?? []) log('(watch)', `warning: ${d}`);
  if (watch && !opts.keepWatch) await watch.stop();
  const failures = results.filter((r) => r.state === 'failed' && r.outcome).map((r) => r.outcome!);
  return {
    ok: results.every((r) => r.state === 'ready' || r.state === 'applied'),
    components: results,
    failures,
    warnings: [...warnings, ...(watch?.degraded ?? [])],
    ...(watch && opts.keepWatch ? { watch } : {}),
  };
}

/**
 * A Secret as deploy should apply it: the live one read, and the keys `kindling rotate` set left
 * out, so the rotated values stay (decision and sources: secret-keep.ts). Other kinds as written.
 */
async function keepingRotated(
  client: KubeClient,
  o: Plan['shared'][number],
): Promise<{ object: Plan['shared'][number]; note?: string }> {
  if (o.apiVersion !== 'v1' || o.kind !== 'Secret') return { object: o };
  const live = await client.read('v1', 'Secret', o.metadata.namespace, o.metadata.name);
  const { object, kept } = keepRotatedKeys(o, live);
  const note = keptNote(o.metadata.name, kept);
  return { object: object as Plan['shared'][number], ...(note ? { note } : {}) };
}

/** The namespaces the plan writes to that the cluster does not have. */
async function missingNamespaces(plan: Plan, client: KubeClient): Promise<Set<string>> {
  const all = [...plan.shared, ...plan.waves.flat().flatMap((c) => c.objects)];
  const names = new Set([
    plan.namespace,
    ...all.flatMap((o) => (o.metadata.namespace ? [o.metadata.namespace] : [])),
  ]);
  const missing = new Set<string>();
  for (const ns of names) if (!(await client.read('v1', 'Namespace', undefined, ns))) missing.add(ns);
  return missing;
}

/**
 * Applies one object; a Job whose pod template changed cannot be updated (422, immutable), so it is
 * replaced: deleted with propagationPolicy Foreground (its pods go first, so the old and the new run
 * never overlap), waited gone, created again. Returns the note saying so, or undefined.
 */
async function applyOrReplace(
  client: KubeClient,
  o: Plan['shared'][number],
  opts: Pick<DeployOptions, 'dryRun'> & { replaceTimeoutMs?: number },
): Promise<string | undefined> {
  try {
    await client.apply(o, { dryRun: opts.dryRun });
    return undefined;
  } catch (err) {
    if (!isImmutableJobTemplate(o.kind, err)) throw err;
  }
  const what = `${objectKey(o)}: its pod template changed and a Job's template is immutable`;
  if (opts.dryRun) return `${what}; it would be replaced (deleted and created again)`;
  await client.delete(o, { propagationPolicy: 'Foreground' });
  const deadline = Date.now() + (opts.replaceTimeoutMs ?? 120_000);
  while (await client.read(o.apiVersion, o.kind, o.metadata.namespace, o.metadata.name)) {
    if (Date.now() > deadline)
      throw new Error(`${what}; the old Job was not gone within 2m after deleting it`);
    await new Promise((r) => setTimeout(r, 250));
  }
  await client.apply(o);
  return `${what}: replaced (deleted with its pods, created again)`;
}
