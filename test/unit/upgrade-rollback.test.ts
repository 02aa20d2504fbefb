// Rollback as `kubectl rollout undo` does it (kubernetes/kubectl pkg/polymorphichelpers/rollback.go):
// the pure choice of the previous revision, and the edge (src/kube/rollout.ts) against the API
// stand-in, where the test writes the ReplicaSets/ControllerRevisions the controllers would.
import { afterEach, describe, expect, it } from 'vitest';
import { KubeClient } from '../../src/kube/client.ts';
import { rollBack } from '../../src/kube/rollout.ts';
import type { KubeObject } from '../../src/manifests/render.ts';
import type { Obj } from '../../src/plan/conditions.ts';
import {
  decide,
  describeLive,
  previousOfDeployment,
  previousOfStatefulSet,
  REVISION_ANNOTATION,
  sameTemplate,
} from '../../src/upgrade/rollback.ts';
import { KubeApiStandin } from '../standins/kube-api.ts';

const NS = 'voiceassistant-infra';
const template = (image: string, hash?: string): Obj => ({
  metadata: {
    labels: { 'app.kubernetes.io/name': 'grafana', ...(hash ? { 'pod-template-hash': hash } : {}) },
  },
  spec: { containers: [{ name: 'grafana', image }] },
});
const deployment = (image: string): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'grafana', namespace: NS, labels: { 'app.kubernetes.io/name': 'grafana' } },
  spec: {
    replicas: 1,
    selector: { matchLabels: { 'app.kubernetes.io/name': 'grafana' } },
    template: template(image),
  },
});
/** A ReplicaSet as the Deployment controller names and annotates it (deployment_util.go). */
const replicaSet = (owner: Obj, hash: string, revision: number, image: string, controller = true): Obj => ({
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  metadata: {
    name: `grafana-${hash}`,
    namespace: NS,
    labels: { 'app.kubernetes.io/name': 'grafana', 'pod-template-hash': hash },
    annotations: { [REVISION_ANNOTATION]: String(revision) },
    ownerReferences: [
      { apiVersion: 'apps/v1', kind: 'Deployment', name: 'grafana', uid: owner.metadata.uid, controller },
    ],
  },
  spec: { template: template(image, hash) },
});
const statefulSet = (image: string): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  metadata: { name: 'postgres', namespace: NS },
  spec: {
    replicas: 1,
    serviceName: 'postgres',
    selector: { matchLabels: { 'app.kubernetes.io/name': 'postgres' } },
    template: {
      metadata: { labels: { 'app.kubernetes.io/name': 'postgres' } },
      spec: { containers: [{ name: 'postgres', image }] },
    },
  },
});
/** A ControllerRevision as the StatefulSet controller stores it (stateful_set_utils.go getPatch/newRevision). */
const controllerRevision = (owner: Obj, hash: string, revision: number, image: string): Obj => ({
  apiVersion: 'apps/v1',
  kind: 'ControllerRevision',
  metadata: {
    name: `postgres-${hash}`,
    namespace: NS,
    labels: { 'app.kubernetes.io/name': 'postgres', 'controller.kubernetes.io/hash': hash },
    ownerReferences: [
      {
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        name: 'postgres',
        uid: owner.metadata.uid,
        controller: true,
      },
    ],
  },
  revision,
  data: {
    spec: {
      template: {
        $patch: 'replace',
        metadata: { labels: { 'app.kubernetes.io/name': 'postgres' } },
        spec: { containers: [{ name: 'postgres', image }] },
      },
    },
  },
});

describe('previous revision (pure, as rollout undo chooses it)', () => {
  const owner = { metadata: { name: 'grafana', uid: 'u1' } };
  it('Deployment: the second-highest revision among the ReplicaSets it controls, less pod-template-hash', () => {
    const rs = [
      replicaSet(owner, 'aaa', 1, 'grafana:10'),
      replicaSet(owner, 'ccc', 3, 'grafana:12'),
      replicaSet(owner, 'bbb', 2, 'grafana:11'),
      replicaSet(owner, 'zzz', 9, 'grafana:99', false), // not its controller: ignored
    ];
    const prev = previousOfDeployment(owner, rs);
    expect(prev).toEqual({
      ok: true,
      template: template('grafana:11'),
      revision: 2,
      source: 'ReplicaSet/grafana-bbb',
    });
  });
  it('Deployment with one revision: "no rollout history found"', () => {
    expect(previousOfDeployment(owner, [replicaSet(owner, 'aaa', 1, 'grafana:10')])).toEqual({
      ok: false,
      reason: 'no rollout history found for deployment "grafana"',
    });
  });
  it('StatefulSet: the second-to-last ControllerRevision by .revision, its data.spec.template without $patch', () => {
    const set = { metadata: { name: 'postgres', uid: 'u2' } };
    const prev = previousOfStatefulSet(set, [
      controllerRevision(set, 'b', 2, 'postgres:16.7'),
      controllerRevision(set, 'a', 1, 'postgres:16.4'),
    ]);
    expect(prev.ok && prev.template).toEqual({
      metadata: { labels: { 'app.kubernetes.io/name': 'postgres' } },
      spec: { containers: [{ name: 'postgres', image: 'postgres:16.4' }] },
    });
    expect(previousOfStatefulSet(set, [controllerRevision(set, 'a', 1, 'x:1')])).toEqual({
      ok: false,
      reason: 'no last revision to roll back to',
    });
  });
  it('templates equal but for pod-template-hash are the same (equalIgnoreHash), key order aside', () => {
    expect(sameTemplate(template('g:1', 'abc'), template('g:1'))).toBe(true);
    expect(sameTemplate(template('g:1'), template('g:2'))).toBe(false);
    const reordered = { spec: template('g:1').spec, metadata: template('g:1').metadata };
    expect(sameTemplate(reordered, template('g:1'))).toBe(true);
  });
  it('the decision: keep only when ready and verified', () => {
    expect(decide({ ready: true, readyReasons: [], verifyOk: true })).toEqual({ action: 'keep' });
    expect(decide({ ready: false, readyReasons: ['ImagePullBackOff'] })).toEqual({
      action: 'rollback',
      why: ['not ready', 'ImagePullBackOff'],
    });
    expect(
      decide({ ready: true, readyReasons: [], verifyOk: false, verifyProblems: ['grafana/health: 500'] }),
    ).toEqual({
      action: 'rollback',
      why: ['verify failed', 'grafana/health: 500'],
    });
    expect(decide({ ready: true, readyReasons: [] }).action).toBe('rollback');
  });
  it('describeLive says images, revisions and readiness of what remains', () => {
    const live = {
      ...statefulSet('postgres:99'),
      status: {
        readyReplicas: 0,
        updatedReplicas: 1,
        currentRevision: 'postgres-a',
        updateRevision: 'postgres-b',
      },
    };
    expect(describeLive(live, 'StatefulSet/postgres')).toBe(
      'StatefulSet/postgres: postgres=postgres:99 (current revision postgres-a, update revision postgres-b), 0/1 ready, 1 updated',
    );
    expect(describeLive(undefined, 'StatefulSet/postgres')).toBe(
      'StatefulSet/postgres: not found on the cluster',
    );
  });
});

describe('rollBack against the API stand-in (revisions written by the test as the controllers would)', () => {
  let api: KubeApiStandin;
  afterEach(async () => api?.stop());
  const start = async () => {
    api = await new KubeApiStandin().start();
    api.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    return new KubeClient(api.kubeConfig());
  };

  it('Deployment: applies the previous ReplicaSet template; the Deployment keeps its other fields', async () => {
    const client = await start();
    const applied = deployment('grafana:12');
    const live = api.put(applied);
    api.put(replicaSet(live, 'old1', 1, 'grafana:11'));
    api.put(replicaSet(live, 'new2', 2, 'grafana:12'));
    const r = await rollBack(client, applied);
    expect(r).toEqual({
      ok: true,
      message: 'Deployment/grafana rolled back to the template of ReplicaSet/grafana-old1 (revision 1)',
    });
    const after = api.get('apps/v1', 'Deployment', NS, 'grafana')!;
    expect(after.spec.template).toEqual(template('grafana:11'));
    expect(after.spec.selector).toEqual(applied.spec && (applied.spec as Obj).selector);
    expect(after.spec.replicas).toBe(1);
  });

  it('StatefulSet: applies the previous ControllerRevision data', async () => {
    const client = await start();
    const applied = statefulSet('postgres:99');
    const live = api.put(applied);
    api.put(controllerRevision(live, 'old', 1, 'postgres:16.4'));
    api.put(controllerRevision(live, 'new', 2, 'postgres:99'));
    const r = await rollBack(client, applied);
    expect(r.ok).toBe(true);
    expect(r.message).toBe(
      'StatefulSet/postgres rolled back to the template of ControllerRevision/postgres-old (revision 1)',
    );
    expect(api.get('apps/v1', 'StatefulSet', NS, 'postgres')!.spec.template.spec.containers[0].image).toBe(
      'postgres:16.4',
    );
  });

  it('StatefulSet stuck on a broken pod: the revert also deletes the pods not Ready on the bad revision (forced rollback, kubernetes/kubernetes#67250)', async () => {
    const client = await start();
    const applied = statefulSet('postgres:99');
    const live = api.put(applied);
    api.put(controllerRevision(live, 'old', 1, 'postgres:16.4'));
    api.put(controllerRevision(live, 'new', 2, 'postgres:99'));
    const pod = (name: string, revision: string, ready: boolean) =>
      api.put({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name,
          namespace: NS,
          labels: { 'app.kubernetes.io/name': 'postgres', 'controller-revision-hash': revision },
          ownerReferences: [
            {
              apiVersion: 'apps/v1',
              kind: 'StatefulSet',
              name: 'postgres',
              uid: live.metadata.uid,
              controller: true,
            },
          ],
        },
        spec: { containers: [{ name: 'postgres', image: 'x' }] },
        status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
      });
    pod('postgres-2', 'postgres-new', false); // ImagePullBackOff on the bad revision
    pod('postgres-1', 'postgres-new', true); // ready on the bad revision: the controller replaces it itself
    pod('postgres-0', 'postgres-old', false); // the restored revision, still starting
    const r = await rollBack(client, applied);
    expect(r.message).toBe(
      'StatefulSet/postgres rolled back to the template of ControllerRevision/postgres-old (revision 1); deleted Pod/postgres-2 (not Ready on the bad revision: forced rollback)',
    );
    expect(api.get('v1', 'Pod', NS, 'postgres-2')).toBeUndefined();
    expect(api.get('v1', 'Pod', NS, 'postgres-1')).toBeDefined();
    expect(api.get('v1', 'Pod', NS, 'postgres-0')).toBeDefined();
  });

  it('no history, a paused Deployment, an unreachable server: not ok, with the reason', async () => {
    const client = await start();
    const applied = deployment('grafana:12');
    const live = api.put(applied);
    api.put(replicaSet(live, 'new2', 2, 'grafana:12'));
    expect(await rollBack(client, applied)).toEqual({
      ok: false,
      message: 'Deployment/grafana: no rollout history found for deployment "grafana"',
    });
    api.put({ ...applied, spec: { ...(applied.spec as Obj), paused: true } });
    expect((await rollBack(client, applied)).message).toBe(
      'Deployment/grafana is paused: resume it first (kubectl rollout resume)',
    );
    await api.stop();
    const r = await rollBack(client, applied);
    expect(r.ok).toBe(false);
    expect(r.message).toMatch(/^Deployment\/grafana: rollback failed: .*ECONNREFUSED/);
  });

  it('already on the previous template: skipped, nothing applied', async () => {
    const client = await start();
    const applied = deployment('grafana:11');
    const live = api.put(applied);
    api.put(replicaSet(live, 'old1', 1, 'grafana:11'));
    api.put(replicaSet(live, 'new2', 2, 'grafana:12'));
    const rv = api.get('apps/v1', 'Deployment', NS, 'grafana')!.metadata.resourceVersion;
    const r = await rollBack(client, applied);
    expect(r.skipped).toBe(true);
    expect(api.get('apps/v1', 'Deployment', NS, 'grafana')!.metadata.resourceVersion).toBe(rv);
  });
});
