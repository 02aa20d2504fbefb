/**
 * The simulated StatefulSet controller's rolling update against upstream's updateStatefulSet
 * (kubernetes/kubernetes pkg/controller/statefulset/stateful_set_control.go): under OrderedReady a
 * pod that is not Running and Ready stops the update; under Parallel the old-revision pod with the
 * largest ordinal is deleted whatever its readiness, and only an unhealthy pod already on the update
 * revision is waited for. A rotation depends on this: a reader whose old pod lost its credential (and
 * so its readiness) is still replaced by `rollout restart` when the set is Parallel (Nacos), and is not
 * under OrderedReady (kubernetes#67250).
 */
import { describe, expect, it } from 'vitest';
import { KubeApiStandin } from '../standins/kube-api.ts';
import type { Obj } from './apiserver.ts';
import { SimContext } from './context.ts';
import { revisionOf, syncStatefulSet } from './controllers/statefulset.ts';

const NS = 'demo';

function setUp(policy: 'Parallel' | 'OrderedReady') {
  const api = new KubeApiStandin();
  const ctx = new SimContext(api, { msPerSecond: 1 });
  const set: Obj = {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'nacos', namespace: NS, uid: 'uid-set' },
    spec: {
      replicas: 2,
      podManagementPolicy: policy,
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      selector: { matchLabels: { app: 'nacos' } },
      template: { metadata: { labels: { app: 'nacos' } }, spec: { containers: [{ name: 'c', image: 'x' }] } },
    },
  };
  api.put(set);
  const pods = () =>
    ctx
      .list('v1', 'Pod', NS)
      .map((p) => p.metadata.name)
      .sort();
  const setReady = (name: string, ready: boolean) => {
    const p = ctx.get('v1', 'Pod', NS, name)!;
    ctx.setStatus(p, {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
    });
  };
  const sync = () => syncStatefulSet(ctx, ctx.get('apps/v1', 'StatefulSet', NS, 'nacos')!);
  // both pods created and ready on the first revision
  for (let i = 0; i < 3; i++) {
    sync();
    for (const n of pods()) setReady(n, true);
  }
  expect(pods()).toEqual(['nacos-0', 'nacos-1']);
  const before = revisionOf(ctx.get('apps/v1', 'StatefulSet', NS, 'nacos')!);
  // `rollout restart`: the template changes, so the update revision does
  const restarted = structuredClone(ctx.get('apps/v1', 'StatefulSet', NS, 'nacos')!);
  restarted.spec.template.metadata.annotations = { 'kubectl.kubernetes.io/restartedAt': 'now' };
  api.put(restarted);
  const revision = (name: string) =>
    ctx.get('v1', 'Pod', NS, name)?.metadata.labels?.['controller-revision-hash'];
  return { ctx, sync, setReady, revision, before };
}

describe('simulated StatefulSet rolling update (stateful_set_control.go updateStatefulSet)', () => {
  it('Parallel: an old-revision pod that is not Ready is still deleted and comes back on the update revision', () => {
    const { sync, setReady, revision, before } = setUp('Parallel');
    setReady('nacos-1', false);
    setReady('nacos-0', false);
    sync(); // deletes nacos-1 (largest ordinal on the old revision), recreated on the next pass
    sync();
    expect(revision('nacos-1')).not.toBe(before);
    expect(revision('nacos-0')).toBe(before);
    // nacos-1 is on the update revision but not ready yet: "wait for unhealthy Pods on update"
    sync();
    expect(revision('nacos-0')).toBe(before);
    setReady('nacos-1', true);
    sync();
    sync();
    expect(revision('nacos-0')).not.toBe(before);
  });

  it('OrderedReady: a pod that is not Running and Ready stops the update (the stuck rollout of kubernetes#67250)', () => {
    const { sync, setReady, revision, before } = setUp('OrderedReady');
    setReady('nacos-0', false);
    for (let i = 0; i < 3; i++) sync();
    expect(revision('nacos-1')).toBe(before);
    expect(revision('nacos-0')).toBe(before);
  });
});
