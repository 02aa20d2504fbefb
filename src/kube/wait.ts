/**
 * Waiting for components: one set of list+watch caches for the namespaces involved, and a waiter per
 * component that re-evaluates the pure rules on every watch event and at least every 2 s (for the
 * Unschedulable grace period and as a fallback).
 */
import { type ComponentVerdict, evaluateComponent, type Snapshot } from '../plan/component.ts';
import type { Obj } from '../plan/conditions.ts';
import type { ComponentOutcome } from '../plan/diagnostics.ts';
import type { WaitTarget } from '../plan/order.ts';
import type { KubeClient } from './client.ts';
import { apiError, describeApiError } from './errors.ts';
import { type CacheOptions, ObjectCache } from './informer.ts';

/** Kinds every wait needs besides the waited objects themselves. */
const CONTEXT_KINDS: [string, string][] = [
  ['v1', 'Pod'],
  ['v1', 'PersistentVolumeClaim'],
  ['v1', 'Service'],
  ['discovery.k8s.io/v1', 'EndpointSlice'],
  ['v1', 'Event'],
];

export class ClusterWatch {
  private readonly client: KubeClient;
  private readonly caches = new Map<string, ObjectCache>();
  private storageClasses: Obj[] = [];
  private readonly opts: CacheOptions;
  /** Context the deploy goes without (a 403 on listing Events...): said once, never fatal. */
  readonly degraded: string[] = [];

  constructor(client: KubeClient, opts: CacheOptions = {}) {
    this.client = client;
    this.opts = opts;
  }

  /** Starts caches for the namespaces and kinds of `targets` (idempotent per kind/namespace). */
  async ensure(targets: readonly WaitTarget[]): Promise<void> {
    const wanted = new Map<string, [string, string, string]>();
    for (const t of targets) {
      wanted.set(`${t.apiVersion}|${t.kind}|${t.namespace}`, [t.apiVersion, t.kind, t.namespace]);
      for (const [v, k] of CONTEXT_KINDS) wanted.set(`${v}|${k}|${t.namespace}`, [v, k, t.namespace]);
    }
    const fresh: ObjectCache[] = [];
    for (const [key, [apiVersion, kind, ns]] of wanted) {
      if (this.caches.has(key)) continue;
      const cache = new ObjectCache(this.client, apiVersion, kind, ns, this.opts);
      this.caches.set(key, cache);
      fresh.push(cache);
    }
    const started = await Promise.allSettled(fresh.map((c) => c.start()));
    let fatal: unknown;
    started.forEach((r, i) => {
      if (r.status === 'fulfilled') return;
      const cache = fresh[i]!;
      this.caches.delete(`${cache.apiVersion}|${cache.kind}|${cache.namespace}`);
      const context = CONTEXT_KINDS.some(([v, k]) => v === cache.apiVersion && k === cache.kind);
      const waited = targets.some((t) => t.apiVersion === cache.apiVersion && t.kind === cache.kind);
      if (context && !waited && apiError(r.reason).code === 403) {
        // RBAC denies this context: readiness and diagnostics go on without it
        this.degraded.push(
          `cannot watch ${cache.kind} in ${cache.namespace}: ${describeApiError(r.reason)}; readiness and diagnostics go on without them`,
        );
        return;
      }
      fatal ??= new Error(`cannot watch ${cache.kind} in ${cache.namespace}: ${describeApiError(r.reason)}`);
    });
    if (fatal) throw fatal;
    if (fresh.length && this.storageClasses.length === 0) {
      try {
        this.storageClasses = (await this.client.list('storage.k8s.io/v1', 'StorageClass')).items;
      } catch {
        // optional context: without it a pending claim is reported without the binding-mode hint
      }
    }
  }

  onChange(listener: () => void): () => void {
    const offs = [...this.caches.values()].map((c) => c.onChange(listener));
    return () => {
      for (const off of offs) off();
    };
  }

  snapshot(): Snapshot {
    const objects = new Map<string, Obj>();
    const deleted = new Set<string>();
    const byKind = (kind: string) =>
      [...this.caches.values()].filter((c) => c.kind === kind).flatMap((c) => [...c.items.values()]);
    for (const c of this.caches.values()) {
      for (const [name, o] of c.items) objects.set(`${c.kind}/${c.namespace}/${name}`, o);
      for (const name of c.deleted) if (!c.items.has(name)) deleted.add(`${c.kind}/${c.namespace}/${name}`);
    }
    return {
      objects,
      deleted,
      pods: byKind('Pod'),
      endpointSlices: byKind('EndpointSlice'),
      events: byKind('Event'),
      storageClasses: this.storageClasses,
    };
  }

  stats() {
    return [...this.caches.values()].map((c) => ({ kind: c.kind, namespace: c.namespace, ...c.stats }));
  }

  async stop(): Promise<void> {
    await Promise.all([...this.caches.values()].map((c) => c.stop()));
  }
}

export interface WaitOptions {
  timeoutMs: number;
  unschedulableGraceMs?: number;
  /** How long transient image pull errors are retried (readiness.ts DEFAULT_IMAGE_PULL_GRACE_MS). */
  imagePullGraceMs?: number;
  /** Fallback evaluation period (readiness.md: at least every 2 s). */
  evaluateEveryMs?: number;
  onProgress?: (verdict: ComponentVerdict) => void;
}

/** Resolves when the component is ready, has failed, or its deadline passed — never rejects. */
export function waitForComponent(
  name: string,
  targets: readonly WaitTarget[],
  watch: ClusterWatch,
  opts: WaitOptions,
): Promise<ComponentOutcome> {
  const started = Date.now();
  return new Promise((resolve) => {
    let last = '';
    let finished = false;
    const evaluate = () => {
      if (finished) return;
      const verdict = evaluateComponent(targets, watch.snapshot(), {
        now: Date.now(),
        ...(opts.unschedulableGraceMs !== undefined
          ? { unschedulableGraceMs: opts.unschedulableGraceMs }
          : {}),
        ...(opts.imagePullGraceMs !== undefined ? { imagePullGraceMs: opts.imagePullGraceMs } : {}),
      });
      const line = verdict.reasons.join('; ');
      if (line !== last) {
        last = line;
        opts.onProgress?.(verdict);
      }
      const elapsedMs = Date.now() - started;
      if (verdict.state !== 'progressing') return end({ name, verdict, elapsedMs });
      if (elapsedMs >= opts.timeoutMs) return end({ name, verdict, elapsedMs, timedOut: true });
    };
    const off = watch.onChange(evaluate);
    const ticker = setInterval(evaluate, opts.evaluateEveryMs ?? 2000);
    const deadline = setTimeout(evaluate, opts.timeoutMs);
    const end = (outcome: ComponentOutcome) => {
      finished = true;
      off();
      clearInterval(ticker);
      clearTimeout(deadline);
      resolve(outcome);
    };
    evaluate();
  });
}
