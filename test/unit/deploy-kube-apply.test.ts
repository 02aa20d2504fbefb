// Apply against the API stand-in (test/standins/kube-api.ts + kube-admission.ts): the raw object
// with fieldValidation=Strict (client-node's KubernetesObjectApi.patch drops unknown fields,
// kubernetes-client/javascript src/object.ts), and Jobs whose immutable pod template changed
// (kubernetes/kubernetes pkg/apis/batch/validation/validation.go) replaced.
import { afterEach, describe, expect, it } from 'vitest';
import { loadStack, resolveSelection } from '../../src/catalog/index.ts';
import { KubeClient } from '../../src/kube/client.ts';
import { deployPlan } from '../../src/kube/deploy.ts';
import type { KubeObject } from '../../src/manifests/render.ts';
import { buildPlan } from '../../src/plan/order.ts';
import { KubeApiStandin } from '../standins/kube-api.ts';
import { docs } from './plan-fixtures.ts';

const NS = 'voiceassistant-infra';
const started: KubeApiStandin[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.stop()));
});
async function standin() {
  const api = await new KubeApiStandin().start();
  started.push(api);
  api.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  return api;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const label = { 'app.kubernetes.io/name': 'minio' };

describe('server-side apply sends the object as written, with fieldValidation=Strict', () => {
  it('the request body is the raw object: a field client-node models do not know is not dropped', async () => {
    const api = await standin();
    const client = new KubeClient(api.kubeConfig());
    const cm = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c', namespace: NS },
      data: { k: 'v' },
    };
    await client.apply(cm);
    const req = api.requests.find((r) => r.method === 'PATCH')!;
    expect(JSON.parse(req.body)).toEqual(cm);
    expect(req.contentType).toBe('application/apply-patch+yaml');
    expect(Object.fromEntries(req.query)).toEqual({
      fieldManager: 'kindling',
      force: 'true',
      fieldValidation: 'Strict',
    });
  });

  it("an unknown field is rejected by the API (server-side apply's typed-patch error, HTTP 500 upstream: kubernetes/kubernetes#118877) and the deploy names the object", async () => {
    const api = await standin();
    const client = new KubeClient(api.kubeConfig());
    const sts = {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'minio', namespace: NS, labels: label },
      spec: {
        replicaz: 1, // the typo client-node's models silently dropped
        serviceName: 'minio',
        selector: { matchLabels: label },
        template: {
          metadata: { labels: label },
          spec: { containers: [{ name: 'minio', image: 'minio/minio' }] },
        },
      },
    } as KubeObject;
    const stack = loadStack();
    const plan = buildPlan(stack, resolveSelection(stack, 'minio'), [sts]);
    const result = await deployPlan(plan, client, { timeoutMs: 2000 });
    expect(result.ok).toBe(false);
    expect(result.components[0]!.reasons[0]).toBe(
      `apply StatefulSet/${NS}/minio: failed to create typed patch object (${NS}/minio; apps/v1, Kind=StatefulSet): .spec.replicaz: field not declared in schema (HTTP 500)`,
    );
    expect(api.get('apps/v1', 'StatefulSet', NS, 'minio')).toBeUndefined();
  });
});

describe('a Job whose pod template changed is replaced (its template is immutable: 422)', () => {
  const job = (image: string) =>
    ({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'minio-create-buckets', namespace: NS, labels: label },
      spec: {
        backoffLimit: 6,
        template: {
          metadata: { labels: label },
          spec: { restartPolicy: 'OnFailure', containers: [{ name: 'mc', image }] },
        },
      },
    }) as KubeObject;

  it('the stand-in answers a changed template with the apiserver 422 Status', async () => {
    const api = await standin();
    const client = new KubeClient(api.kubeConfig());
    await client.apply(job('minio/mc:1'));
    const err = await client.apply(job('minio/mc:2')).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 422 });
    expect(JSON.parse((err as { body: string }).body)).toMatchObject({
      reason: 'Invalid',
      message:
        'Job.batch "minio-create-buckets" is invalid: spec.template: Invalid value: core.PodTemplateSpec{...}: field is immutable',
    });
    // the unchanged Job applies again without complaint
    await expect(client.apply(job('minio/mc:1'))).resolves.toMatchObject({ kind: 'Job' });
  });

  it('deploy deletes it with propagationPolicy=Foreground, waits until it is gone, creates it again, and says so', async () => {
    const api = await standin();
    const client = new KubeClient(api.kubeConfig());
    const old = await client.apply(job('minio/mc:1'));
    // the old Job's pod, owned by it: the garbage collector removes it with the Job
    api.put({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'minio-create-buckets-abcde',
        namespace: NS,
        ownerReferences: [
          { apiVersion: 'batch/v1', kind: 'Job', name: 'minio-create-buckets', uid: old.metadata.uid },
        ],
      },
    });
    // the Job controller: the new Job completes
    void (async () => {
      for (;;) {
        const j = api.get('batch/v1', 'Job', NS, 'minio-create-buckets');
        if (j && j.metadata.uid !== old.metadata.uid) {
          api.setStatus('batch/v1', 'Job', NS, 'minio-create-buckets', {
            conditions: [{ type: 'Complete', status: 'True' }],
            succeeded: 1,
          });
          return;
        }
        await sleep(10);
      }
    })();
    const stack = loadStack();
    const plan = buildPlan(stack, resolveSelection(stack, 'minio'), [job('minio/mc:2')]);
    const result = await deployPlan(plan, client, { timeoutMs: 5000, evaluateEveryMs: 100 });
    expect(result.ok).toBe(true);
    const del = api.requests.find((r) => r.method === 'DELETE')!;
    expect(del.path).toBe(`/apis/batch/v1/namespaces/${NS}/jobs/minio-create-buckets`);
    expect(del.query.get('propagationPolicy')).toBe('Foreground');
    expect(api.get('v1', 'Pod', NS, 'minio-create-buckets-abcde')).toBeUndefined();
    expect(
      api.get('batch/v1', 'Job', NS, 'minio-create-buckets')!.spec.template.spec.containers[0].image,
    ).toBe('minio/mc:2');
    expect(result.components[0]!.notes.join('\n')).toMatch(
      /Job\/voiceassistant-infra\/minio-create-buckets: its pod template changed and a Job's template is immutable: replaced/,
    );
  });

  it('a dry run says the Job would be replaced and deletes nothing', async () => {
    const api = await standin();
    const client = new KubeClient(api.kubeConfig());
    await client.apply(job('minio/mc:1'));
    const stack = loadStack();
    const plan = buildPlan(stack, resolveSelection(stack, 'minio'), [job('minio/mc:2')]);
    const result = await deployPlan(plan, client, { timeoutMs: 2000, dryRun: true });
    expect(result.ok).toBe(true);
    expect(result.components[0]!.notes.join('\n')).toMatch(/would be replaced/);
    expect(api.requests.some((r) => r.method === 'DELETE')).toBe(false);
  });
});

describe('dry run on a cluster without the namespace (a fresh kind cluster)', () => {
  const stack = loadStack();
  const rendered = docs('rendered-minimal.yaml') as KubeObject[];

  it('the stand-in rejects a dry-run object in a missing namespace, as NamespaceLifecycle does (kubernetes/kubernetes#83562)', async () => {
    const api = await new KubeApiStandin().start();
    started.push(api);
    const client = new KubeClient(api.kubeConfig());
    await client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }, { dryRun: true });
    const err = await client
      .apply(
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: NS } },
        { dryRun: true },
      )
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 404 });
  });

  it('reports the namespace and every object in it as would-be-created, sends no namespaced request, succeeds', async () => {
    const api = await new KubeApiStandin().start();
    started.push(api);
    const client = new KubeClient(api.kubeConfig());
    const plan = buildPlan(stack, resolveSelection(stack, 'minimal'), rendered);
    const lines: string[] = [];
    const result = await deployPlan(plan, client, {
      timeoutMs: 2000,
      dryRun: true,
      log: (c, m) => lines.push(`${c}: ${m}`),
    });
    expect(result.ok).toBe(true);
    expect(result.components.every((c) => c.state === 'applied')).toBe(true);
    const patches = api.requests.filter((r) => r.method === 'PATCH');
    expect(patches.map((r) => r.path)).toEqual([`/api/v1/namespaces/${NS}`]);
    expect(patches[0]!.query.get('dryRun')).toBe('All');
    expect(api.get('v1', 'Namespace', undefined, NS)).toBeUndefined();
    const postgres = result.components.find((c) => c.name === 'postgres')!;
    expect(postgres.notes.join('\n')).toMatch(
      new RegExp(`StatefulSet/${NS}/postgres would be created in the new namespace ${NS}`),
    );
  });

  it('with the namespace present every object is dry-run on the server', async () => {
    const api = await standin();
    const client = new KubeClient(api.kubeConfig());
    const plan = buildPlan(stack, resolveSelection(stack, 'minimal'), rendered);
    const result = await deployPlan(plan, client, { timeoutMs: 2000, dryRun: true });
    expect(result.ok).toBe(true);
    const patches = api.requests.filter((r) => r.method === 'PATCH');
    expect(patches.length).toBe(
      plan.shared.length + plan.waves.flat().reduce((n, c) => n + c.objects.length, 0),
    );
    expect(patches.every((r) => r.query.get('dryRun') === 'All')).toBe(true);
  });
});
