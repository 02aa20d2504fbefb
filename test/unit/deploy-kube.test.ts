// The client-node adapter against the Kubernetes API stand-in (test/standins/kube-api.ts): apply,
// list+watch with re-list on 410 and on streams that close mid-rollout, polling fallback, and the
// deploy orchestration (fail fast, parallel waits). Timings are measured, not assumed.
import { afterEach, describe, expect, it } from 'vitest';
import { loadStack, resolveSelection } from '../../src/catalog/index.ts';
import { KubeClient } from '../../src/kube/client.ts';
import { deployPlan } from '../../src/kube/deploy.ts';
import { ObjectCache } from '../../src/kube/informer.ts';
import { ClusterWatch, waitForComponent } from '../../src/kube/wait.ts';
import type { KubeObject } from '../../src/manifests/render.ts';
import { buildPlan } from '../../src/plan/order.ts';
import { KubeApiStandin, type StandinOptions } from '../standins/kube-api.ts';
import { docs, stage } from './plan-fixtures.ts';

const NS = 'voiceassistant-infra';
let api: KubeApiStandin;
const started: KubeApiStandin[] = [];
async function standin(opts: StandinOptions = {}) {
  api = await new KubeApiStandin(opts).start();
  started.push(api);
  api.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  return api;
}
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.stop()));
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The simulated controller: waits for an applied object to exist. */
async function whenApplied(apiVersion: string, kind: string, name: string) {
  for (;;) {
    if (api.get(apiVersion, kind, NS, name)) return;
    await sleep(5);
  }
}
const readySts = (name: string) => {
  const s = stage('statefulset.yaml', 'ready').status;
  return { ...s, currentRevision: `${name}-1`, updateRevision: `${name}-1` };
};

describe('KubeClient against the API stand-in', () => {
  it('server-side applies with field manager kindling and force, as application/apply-patch+yaml', async () => {
    await standin();
    const client = new KubeClient(api.kubeConfig());
    const cm = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c1', namespace: NS },
      data: { k: 'v' },
    };
    const out = await client.apply(cm);
    expect(out.metadata.managedFields[0].manager).toBe('kindling');
    const req = api.requests.find((r) => r.method === 'PATCH')!;
    expect(req.path).toBe(`/api/v1/namespaces/${NS}/configmaps/c1`);
    expect(req.contentType).toBe('application/apply-patch+yaml');
    expect(req.query.get('fieldManager')).toBe('kindling');
    expect(req.query.get('force')).toBe('true');
    expect(req.query.get('dryRun')).toBeNull();
  });

  it('dry-run is server-side: dryRun=All and nothing stored', async () => {
    await standin();
    const client = new KubeClient(api.kubeConfig());
    await client.apply(
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c2', namespace: NS } },
      { dryRun: true },
    );
    expect(api.requests.find((r) => r.method === 'PATCH')!.query.get('dryRun')).toBe('All');
    expect(api.get('v1', 'ConfigMap', NS, 'c2')).toBeUndefined();
  });

  it('reports the Status message of a failed apply', async () => {
    await standin();
    const client = new KubeClient(api.kubeConfig());
    const plan = buildPlan(loadStack(), resolveSelection(loadStack(), 'postgres'), [
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'x', namespace: 'missing-ns', labels: { 'app.kubernetes.io/name': 'postgres' } },
      },
    ]);
    const result = await deployPlan(plan, client, { timeoutMs: 1000 });
    expect(result.ok).toBe(false);
    expect(result.components[0]!.reasons[0]).toMatch(
      /apply ConfigMap\/missing-ns\/x: namespaces "missing-ns" not found \(HTTP 404 NotFound\)/,
    );
  });
});

describe('ObjectCache (list + watch) against the API stand-in', () => {
  it('detects readiness within 1 s of the object becoming ready, by watch (no polling)', async () => {
    await standin();
    const client = new KubeClient(api.kubeConfig());
    api.put({
      ...stage('statefulset.yaml', 'pod-starting'),
      metadata: { name: 'postgres', namespace: NS, generation: 1 },
    });
    const watch = new ClusterWatch(client, { pollIntervalMs: 60_000 });
    const target = { apiVersion: 'apps/v1', kind: 'StatefulSet', namespace: NS, name: 'postgres' };
    await watch.ensure([target]);
    let readyAt = 0;
    setTimeout(() => {
      readyAt = Date.now();
      api.setStatus('apps/v1', 'StatefulSet', NS, 'postgres', readySts('postgres'));
    }, 300);
    // fallback evaluation every 60 s: only a watch event can explain a fast detection
    const outcome = await waitForComponent('postgres', [target], watch, {
      timeoutMs: 10_000,
      evaluateEveryMs: 60_000,
    });
    const latency = Date.now() - readyAt;
    await watch.stop();
    expect(outcome.verdict.state).toBe('ready');
    expect(latency).toBeLessThan(1000);
    console.log(`readiness detected ${latency} ms after the object became ready (watch)`);
    expect(watch.stats().every((s) => s.polls === 0)).toBe(true);
  });

  it('a watch that dies every 300 ms while the rollout completes at 450 ms (the 30 s/45 s case, scaled)', async () => {
    await standin({ watchCloseAfterMs: 300 });
    const client = new KubeClient(api.kubeConfig());
    api.put({
      ...stage('statefulset.yaml', 'pod-starting'),
      metadata: { name: 'postgres', namespace: NS, generation: 1 },
    });
    const watch = new ClusterWatch(client, { pollIntervalMs: 60_000 });
    const target = { apiVersion: 'apps/v1', kind: 'StatefulSet', namespace: NS, name: 'postgres' };
    await watch.ensure([target]);
    const t0 = Date.now();
    setTimeout(() => api.setStatus('apps/v1', 'StatefulSet', NS, 'postgres', readySts('postgres')), 450);
    const outcome = await waitForComponent('postgres', [target], watch, {
      timeoutMs: 5000,
      evaluateEveryMs: 60_000,
    });
    const at = Date.now() - t0;
    const stats = watch.stats().find((s) => s.kind === 'StatefulSet')!;
    await watch.stop();
    expect(outcome.verdict.state).toBe('ready');
    expect(at).toBeGreaterThanOrEqual(450);
    expect(at).toBeLessThan(1450);
    expect(stats.watches).toBeGreaterThanOrEqual(2); // it re-watched after the stream closed
    expect(stats.polls).toBe(0);
  });

  it("client-node's own inactivity abort (requestTimeoutMs, 30 s in 2.0.x) is survived the same way", async () => {
    await standin();
    const client = new KubeClient(api.kubeConfig(), { watchTimeoutMs: 300 });
    api.put({
      ...stage('statefulset.yaml', 'pod-starting'),
      metadata: { name: 'postgres', namespace: NS, generation: 1 },
    });
    const cache = new ObjectCache(client, 'apps/v1', 'StatefulSet', NS, { pollIntervalMs: 60_000 });
    await cache.start();
    await sleep(800);
    api.setStatus('apps/v1', 'StatefulSet', NS, 'postgres', readySts('postgres'));
    await sleep(200);
    await cache.stop();
    expect(cache.stats.watches).toBeGreaterThanOrEqual(3);
    expect(cache.items.get('postgres')!.status.readyReplicas).toBe(1);
  });

  for (const goneMode of ['event', 'http'] as const) {
    it(`re-lists on 410 Gone (${goneMode === 'event' ? 'ERROR event with Status 410' : 'HTTP 410'}) and keeps the cache right`, async () => {
      await standin({ goneMode, watchCloseAfterMs: 200 });
      const client = new KubeClient(api.kubeConfig());
      api.put({
        ...stage('statefulset.yaml', 'pod-starting'),
        metadata: { name: 'postgres', namespace: NS, generation: 1 },
      });
      api.put({
        ...stage('statefulset.yaml', 'pod-starting'),
        metadata: { name: 'redis', namespace: NS, generation: 1 },
      });
      const cache = new ObjectCache(client, 'apps/v1', 'StatefulSet', NS, { pollIntervalMs: 60_000 });
      await cache.start();
      // while the stream is closed: changes, a deletion, then compaction of everything the client knows
      api.closeWatches();
      api.setStatus('apps/v1', 'StatefulSet', NS, 'postgres', readySts('postgres'));
      api.remove('apps/v1', 'StatefulSet', NS, 'redis');
      api.compact();
      await sleep(600);
      await cache.stop();
      expect(cache.stats.expired).toBeGreaterThanOrEqual(1);
      expect(cache.stats.lists).toBeGreaterThanOrEqual(2);
      expect(cache.items.get('postgres')!.status.readyReplicas).toBe(1);
      expect(cache.items.has('redis')).toBe(false);
      expect(cache.deleted.has('redis')).toBe(true);
    });
  }

  it('falls back to polling when watching keeps failing, and still sees the change', async () => {
    await standin();
    const client = new KubeClient(api.kubeConfig());
    // break watches only: a proxy that rejects long-lived requests
    const realWatch = client.watch.bind(client);
    client.watch = (path, _rv, onEvent, done) => realWatch(`${path}-broken`, _rv, onEvent, done);
    api.put({
      ...stage('statefulset.yaml', 'pod-starting'),
      metadata: { name: 'postgres', namespace: NS, generation: 1 },
    });
    const cache = new ObjectCache(client, 'apps/v1', 'StatefulSet', NS, {
      pollIntervalMs: 100,
      maxWatchFailures: 2,
      retryWatchAfterMs: 60_000,
    });
    await cache.start();
    api.setStatus('apps/v1', 'StatefulSet', NS, 'postgres', readySts('postgres'));
    const t0 = Date.now();
    while (cache.items.get('postgres')!.status.readyReplicas !== 1 && Date.now() - t0 < 5000) await sleep(20);
    await cache.stop();
    expect(cache.items.get('postgres')!.status.readyReplicas).toBe(1);
    expect(cache.stats.polls).toBeGreaterThanOrEqual(1);
    expect(cache.stats.events).toBe(0);
  });
});

describe('deployPlan against the API stand-in', () => {
  const stack = loadStack();
  const rendered = docs('rendered-minimal.yaml') as KubeObject[];

  it('waits on independent components concurrently: wall time ≈ the slowest, not the sum', async () => {
    await standin();
    const client = new KubeClient(api.kubeConfig());
    // etcd and minio are independent (same wave); milvus needs both
    const plan = buildPlan(
      stack,
      resolveSelection(stack, ['etcd', 'minio']),
      rendered.filter((o) => o.kind !== 'Job' && o.kind !== 'PersistentVolumeClaim' && o.kind !== 'Service'),
    );
    const controller = async (name: string, delay: number) => {
      await whenApplied('apps/v1', 'StatefulSet', name);
      await sleep(delay);
      api.setStatus('apps/v1', 'StatefulSet', NS, name, readySts(name));
    };
    const t0 = Date.now();
    void controller('etcd', 600);
    void controller('minio', 600);
    // the RBAC preflight is left out: this measures the waits, not the SelfSubjectAccessReviews
    const result = await deployPlan(plan, client, {
      timeoutMs: 10_000,
      evaluateEveryMs: 60_000,
      checkPermissions: false,
    });
    const wall = Date.now() - t0;
    console.log(`two independent components ready after 600 ms each: wall ${wall} ms`);
    expect(result.ok).toBe(true);
    expect(wall).toBeGreaterThanOrEqual(600);
    expect(wall).toBeLessThan(1100); // sequential waiting would take ≥ 1200 ms
  });

  it('applies a component only after its dependencies are ready, shared objects first', async () => {
    await standin();
    api.remove('v1', 'Namespace', undefined, NS);
    const client = new KubeClient(api.kubeConfig());
    const plan = buildPlan(
      stack,
      resolveSelection(stack, 'milvus'),
      rendered.filter((o) => o.kind !== 'Job' && o.kind !== 'PersistentVolumeClaim' && o.kind !== 'Service'),
    );
    const readyAt: Record<string, number> = {};
    for (const name of ['etcd', 'minio', 'milvus'])
      void (async () => {
        await whenApplied('apps/v1', 'StatefulSet', name);
        await sleep(name === 'minio' ? 300 : 50);
        readyAt[name] = Date.now();
        api.setStatus('apps/v1', 'StatefulSet', NS, name, readySts(name));
      })();
    const result = await deployPlan(plan, client, { timeoutMs: 10_000, evaluateEveryMs: 60_000 });
    expect(result.ok).toBe(true);
    const patches = api.requests.filter((r) => r.method === 'PATCH');
    expect(patches[0]!.path).toBe(`/api/v1/namespaces/${NS}`);
    const milvusFirstApply = patches.find((r) => r.path.includes('milvus'))!.at;
    expect(milvusFirstApply).toBeGreaterThanOrEqual(readyAt.minio!);
    expect(milvusFirstApply).toBeGreaterThanOrEqual(readyAt.etcd!);
    expect(result.components.map((c) => [c.name, c.state])).toEqual([
      ['etcd', 'ready'],
      ['minio', 'ready'],
      ['milvus', 'ready'],
    ]);
  });

  it('fails fast on a permanent ErrImagePull (long before the deadline), names it, and skips dependents', async () => {
    await standin();
    const client = new KubeClient(api.kubeConfig());
    const plan = buildPlan(
      stack,
      resolveSelection(stack, 'milvus'),
      rendered.filter((o) => o.kind !== 'Job' && o.kind !== 'PersistentVolumeClaim' && o.kind !== 'Service'),
    );
    void (async () => {
      await whenApplied('apps/v1', 'StatefulSet', 'etcd');
      api.setStatus('apps/v1', 'StatefulSet', NS, 'etcd', readySts('etcd'));
    })();
    void (async () => {
      await whenApplied('apps/v1', 'StatefulSet', 'minio');
      api.setStatus('apps/v1', 'StatefulSet', NS, 'minio', stage('statefulset.yaml', 'pod-starting').status);
      await sleep(100);
      // a NotFound pull error: permanent, so no pull grace period (readiness.ts)
      const pod = stage('pod.yaml', 'err-image-pull');
      pod.metadata = { ...pod.metadata, name: 'minio-0', labels: { 'app.kubernetes.io/name': 'minio' } };
      pod.status.containerStatuses[0].name = 'minio';
      api.put(pod);
    })();
    const t0 = Date.now();
    const result = await deployPlan(plan, client, { timeoutMs: 30_000, evaluateEveryMs: 60_000 });
    const wall = Date.now() - t0;
    expect(wall).toBeLessThan(2000);
    const byName = Object.fromEntries(result.components.map((c) => [c.name, c]));
    expect(byName.etcd!.state).toBe('ready');
    expect(byName.minio!.state).toBe('failed');
    expect(byName.minio!.reasons[0]).toMatch(/StatefulSet\/minio: ErrImagePull: pod minio-0 container minio/);
    expect(byName.milvus).toMatchObject({ state: 'skipped', reasons: ['dependency minio not ready'] });
    expect(result.failures.map((f) => f.name)).toEqual(['minio']);
  });

  it('a transient pull error (429) is retried through the pull grace period: ready when the pull succeeds, failed when it never does', async () => {
    const run = async (recovers: boolean) => {
      await standin();
      const client = new KubeClient(api.kubeConfig());
      const plan = buildPlan(
        stack,
        resolveSelection(stack, 'etcd'),
        rendered.filter((o) => o.kind === 'StatefulSet' || o.kind === 'Namespace'),
      );
      void (async () => {
        await whenApplied('apps/v1', 'StatefulSet', 'etcd');
        api.setStatus('apps/v1', 'StatefulSet', NS, 'etcd', stage('statefulset.yaml', 'pod-starting').status);
        const pod = stage('pod.yaml', 'err-image-pull');
        pod.metadata = { ...pod.metadata, name: 'etcd-0', labels: { 'app.kubernetes.io/name': 'etcd' } };
        pod.metadata.creationTimestamp = new Date().toISOString();
        pod.status.conditions = [
          { type: 'PodScheduled', status: 'True', lastTransitionTime: new Date().toISOString() },
        ];
        pod.status.containerStatuses[0].state.waiting.message =
          'failed to pull and unpack image "quay.io/coreos/etcd:v3.5.15": unexpected status: 429 Too Many Requests';
        api.put(pod);
        if (!recovers) return;
        await sleep(200);
        api.remove('v1', 'Pod', NS, 'etcd-0');
        api.setStatus('apps/v1', 'StatefulSet', NS, 'etcd', readySts('etcd'));
      })();
      const t0 = Date.now();
      const result = await deployPlan(plan, client, {
        timeoutMs: 5000,
        evaluateEveryMs: 50,
        imagePullGraceMs: 600,
      });
      return { result, ms: Date.now() - t0 };
    };
    const ok = await run(true);
    expect(ok.result.ok).toBe(true);
    const bad = await run(false);
    expect(bad.result.ok).toBe(false);
    expect(bad.result.components[0]!.reasons[0]).toMatch(
      /ErrImagePull: .*429 Too Many Requests.*still failing after 600ms/,
    );
    expect(bad.ms).toBeGreaterThanOrEqual(600);
    expect(bad.ms).toBeLessThan(3000);
  });

  it('times out per component with the last reasons', async () => {
    await standin();
    const client = new KubeClient(api.kubeConfig());
    const plan = buildPlan(
      stack,
      resolveSelection(stack, 'etcd'),
      rendered.filter((o) => o.kind === 'StatefulSet' || o.kind === 'Namespace'),
    );
    const result = await deployPlan(plan, client, { timeoutMs: 300, evaluateEveryMs: 100 });
    expect(result.failures[0]).toMatchObject({ name: 'etcd', timedOut: true });
    expect(result.failures[0]!.verdict.reasons[0]).toMatch(
      /StatefulSet\/etcd: waiting for the rollout to be observed/,
    );
  });
});
