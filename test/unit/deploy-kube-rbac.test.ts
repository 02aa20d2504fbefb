// RBAC on existing clusters, against the API stand-in's configurable rules (test/standins/
// kube-admission.ts: RBAC rule matching as kubernetes/kubernetes pkg/apis/rbac/v1/
// evaluation_helpers.go, 403 Status as the apiserver writes it, SelfSubjectAccessReview answers).
import { afterEach, describe, expect, it } from 'vitest';
import { loadStack, resolveSelection } from '../../src/catalog/index.ts';
import { KubeClient } from '../../src/kube/client.ts';
import { deployPlan } from '../../src/kube/deploy.ts';
import { checkPermissions, deployNeeds, verifyNeeds } from '../../src/kube/permissions.ts';
import type { KubeObject } from '../../src/manifests/render.ts';
import { buildPlan } from '../../src/plan/order.ts';
import { ExitCode, exitCodeOf } from '../../src/util/errors.ts';
import type { RbacPolicy } from '../standins/kube-admission.ts';
import { KubeApiStandin } from '../standins/kube-api.ts';
import { docs, stage } from './plan-fixtures.ts';

const NS = 'voiceassistant-infra';
const USER = 'system:serviceaccount:ci:deployer';
const started: KubeApiStandin[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.stop()));
});
const ALL = [
  'namespaces',
  'pods',
  'pods/log',
  'pods/exec',
  'pods/portforward',
  'services',
  'secrets',
  'configmaps',
  'serviceaccounts',
  'persistentvolumeclaims',
  'persistentvolumes',
  'events',
  'nodes',
  'deployments',
  'statefulsets',
  'daemonsets',
  'jobs',
  'endpointslices',
  'storageclasses',
];
/** Everything on every resource but `denied` (`verb resource` pairs); RBAC rules only ever allow. */
function policy(denied: string[]): RbacPolicy {
  const rules = ALL.flatMap((resource) =>
    ['get', 'list', 'watch', 'patch', 'delete', 'create']
      .filter((verb) => !denied.includes(`${verb} ${resource}`))
      .map((verb) => ({ verbs: [verb], apiGroups: ['*'], resources: [resource] })),
  );
  return { user: USER, rules };
}
async function standin(denied: string[]) {
  const api = await new KubeApiStandin({ rbac: policy(denied) }).start();
  started.push(api);
  api.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  return api;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const stack = loadStack();
const etcdPlan = () =>
  buildPlan(
    stack,
    resolveSelection(stack, 'etcd'),
    (docs('rendered-minimal.yaml') as KubeObject[]).filter(
      (o) => o.kind === 'StatefulSet' || o.kind === 'Namespace' || o.kind === 'ConfigMap',
    ),
  );
const openWatches = (api: KubeApiStandin) => (api as unknown as { watchers: Set<unknown> }).watchers.size;

describe('the API stand-in speaks RBAC like the apiserver', () => {
  it('403 Status for a denied request; SelfSubjectAccessReview answers from the same rules', async () => {
    const api = await standin(['list events']);
    const client = new KubeClient(api.kubeConfig());
    const err = await client.list('v1', 'Event', NS).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 403 });
    expect(JSON.parse((err as { body: string }).body)).toMatchObject({
      kind: 'Status',
      status: 'Failure',
      reason: 'Forbidden',
      code: 403,
      message: `events is forbidden: User "${USER}" cannot list resource "events" in API group "" in the namespace "${NS}"`,
    });
    const review = (verb: string) =>
      client.create('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes: { verb, group: '', resource: 'events', namespace: NS } },
      });
    expect((await review('list')).status).toEqual({ allowed: false });
    expect((await review('watch')).status.allowed).toBe(true);
  });
});

describe('deploy checks its permissions first (SelfSubjectAccessReview)', () => {
  it('a missing verb/resource is named, exit 2, and nothing is applied', async () => {
    const api = await standin(['patch statefulsets']);
    const client = new KubeClient(api.kubeConfig());
    const err = await deployPlan(etcdPlan(), client, { timeoutMs: 2000 }).catch((e: unknown) => e);
    expect(exitCodeOf(err)).toBe(ExitCode.Usage);
    expect((err as Error).message).toMatch(
      new RegExp(
        `not allowed to:\\n  - patch statefulsets\\.apps in namespace ${NS} \\(to apply StatefulSet\\)`,
      ),
    );
    expect(api.requests.filter((r) => r.method === 'PATCH')).toEqual([]);
  });

  it('what verify needs after the deploy is checked with it (pods/exec)', async () => {
    const api = await standin(['create pods/exec']);
    const client = new KubeClient(api.kubeConfig());
    const err = await deployPlan(etcdPlan(), client, { timeoutMs: 2000, extraNeeds: verifyNeeds(NS) }).catch(
      (e: unknown) => e,
    );
    expect(exitCodeOf(err)).toBe(ExitCode.Usage);
    expect((err as Error).message).toMatch(
      /create pods\/exec in namespace voiceassistant-infra \(to run in-pod checks\)/,
    );
  });

  it('events forbidden: a warning, the deploy still completes, diagnostics degrade, no watch left open', async () => {
    const api = await standin(['list events', 'watch events']);
    const client = new KubeClient(api.kubeConfig());
    void (async () => {
      while (!api.get('apps/v1', 'StatefulSet', NS, 'etcd')) await sleep(5);
      api.setStatus('apps/v1', 'StatefulSet', NS, 'etcd', {
        ...stage('statefulset.yaml', 'ready').status,
        currentRevision: 'etcd-1',
        updateRevision: 'etcd-1',
      });
    })();
    const result = await deployPlan(etcdPlan(), client, { timeoutMs: 5000, evaluateEveryMs: 100 });
    expect(result.ok).toBe(true);
    expect(result.warnings.join('\n')).toMatch(
      /not allowed to list events in namespace voiceassistant-infra/,
    );
    expect(result.warnings.join('\n')).toMatch(
      /cannot watch Event in voiceassistant-infra: .*forbidden.*HTTP 403/,
    );
    await sleep(50);
    expect(openWatches(api)).toBe(0);
  });

  it("a 403 on watching the component's own workloads fails that component with the reason, not a raw throw", async () => {
    const api = await standin(['list statefulsets']);
    const client = new KubeClient(api.kubeConfig());
    const result = await deployPlan(etcdPlan(), client, { timeoutMs: 2000, checkPermissions: false });
    expect(result.ok).toBe(false);
    expect(result.components[0]).toMatchObject({ name: 'etcd', state: 'failed' });
    expect(result.components[0]!.reasons[0]).toMatch(
      /cannot watch StatefulSet in voiceassistant-infra: statefulsets is forbidden: .*cannot list resource "statefulsets" in API group "apps".*\(HTTP 403 Forbidden\)/,
    );
    await sleep(50);
    expect(openWatches(api)).toBe(0);
  });

  it('no delete on jobs is only a warning: replacing a changed Job is the one thing that needs it', async () => {
    const api = await standin(['delete jobs']);
    const client = new KubeClient(api.kubeConfig());
    const job = (docs('rendered-minimal.yaml') as KubeObject[]).filter(
      (o) => o.kind === 'Job' || o.kind === 'Namespace',
    );
    expect(job.some((o) => o.kind === 'Job')).toBe(true);
    const plan = buildPlan(stack, resolveSelection(stack, 'minio'), job);
    const warnings = await checkPermissions(client, deployNeeds(plan));
    expect(warnings.join('\n')).toMatch(
      /not allowed to delete jobs\.batch in namespace voiceassistant-infra .*: a Job whose pod template changed cannot be replaced/,
    );
  });

  it('list without watch: a warning, and readiness is polled (the watch fails, the cache falls back to re-listing)', async () => {
    const api = await standin(['watch statefulsets']);
    const client = new KubeClient(api.kubeConfig());
    void (async () => {
      while (!api.get('apps/v1', 'StatefulSet', NS, 'etcd')) await sleep(5);
      await sleep(300);
      api.setStatus('apps/v1', 'StatefulSet', NS, 'etcd', {
        ...stage('statefulset.yaml', 'ready').status,
        currentRevision: 'etcd-1',
        updateRevision: 'etcd-1',
      });
    })();
    const result = await deployPlan(etcdPlan(), client, {
      timeoutMs: 8000,
      evaluateEveryMs: 100,
      cache: { pollIntervalMs: 100, maxWatchFailures: 1 },
    });
    expect(result.ok).toBe(true);
    expect(result.warnings.join('\n')).toMatch(
      /not allowed to watch statefulsets\.apps .*: readiness is polled instead of watched/,
    );
    await sleep(50);
    expect(openWatches(api)).toBe(0);
  });
});
