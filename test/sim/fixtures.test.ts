/**
 * The hand-written rollout fixtures of test/fixtures/k8s (not recorded from a cluster) checked
 * against objects the simulated cluster (test/sim, a stand-in) produces at the same stage: kindling's
 * readiness rules must give both the same verdict (state and reason), and every field the verdict
 * reads in the fixture must exist in the simulation's object. A fixture that drifts from what the
 * controllers and the kubelet write fails here.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { KubeClient } from '../../src/kube/client.ts';
import {
  jobVerdict,
  podVerdict,
  pvcVerdict,
  serviceVerdict,
  statefulSetVerdict,
  type Verdict,
} from '../../src/plan/readiness.ts';
import { describeWithSim } from '../e2e/sim-available.ts';
import { stage } from '../unit/plan-fixtures.ts';
import type { Obj } from './apiserver.ts';
import { SimCluster } from './cluster.ts';

const NS = 'sim-fixtures';
const IMAGE = 'redis:7.4.1-alpine';
let sim: SimCluster;
let client: KubeClient;
/** Every version of every object the simulation wrote, in order. */
const seen: Obj[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function captured(what: string, f: (o: Obj) => boolean, ms = 20_000): Promise<Obj> {
  const end = Date.now() + ms;
  for (;;) {
    const hit = seen.find(f);
    if (hit) return structuredClone(hit);
    if (Date.now() > end) throw new Error(`the simulation produced no ${what}`);
    await sleep(50);
  }
}
const now = () => Date.now();
const podOpts = { now: now(), unschedulableGraceMs: 30_000 };
const same = (a: Verdict, b: Verdict) =>
  expect({ state: a.state, reason: a.reason }).toEqual({ state: b.state, reason: b.reason });
const waitingOf = (p: Obj) => p.status?.containerStatuses?.[0]?.state?.waiting;

function sts(name: string, container: Obj, extra: Obj = {}): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, namespace: NS },
    spec: {
      serviceName: name,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'main', image: IMAGE, ...container }] },
      },
      ...extra,
    },
  };
}

describeWithSim(
  "rollout fixtures (hand-written) against the simulated cluster's objects (stand-in cluster)",
  () => {
    beforeAll(async () => {
      sim = await new SimCluster().start();
      sim.api.listeners.add((_t, o) => seen.push(structuredClone(o)));
      const kc = new KubeConfig();
      kc.loadFromString(sim.kubeconfigYaml());
      client = new KubeClient(kc);
      await client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
      await client.apply(
        sts(
          'ok',
          {
            command: ['sh', '-c', 'exec redis-server --port 6379'],
            ports: [{ name: 'redis', containerPort: 6379 }],
            readinessProbe: { tcpSocket: { port: 'redis' }, periodSeconds: 1 },
          },
          {
            volumeClaimTemplates: [
              {
                metadata: { name: 'data' },
                spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
              },
            ],
          },
        ),
      );
      await client.apply({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'ok', namespace: NS },
        spec: { selector: { app: 'ok' }, ports: [{ name: 'redis', port: 6379, targetPort: 'redis' }] },
      });
      await client.apply(sts('crash', { command: ['sh', '-c', 'exit 1'] }));
      await client.apply(sts('pull', { image: 'redis:0.0.0-nope' }));
      await client.apply(
        sts('config', {
          command: ['sh'],
          env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'absent', key: 'k' } } }],
        }),
      );
      await client.apply({
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name: 'done', namespace: NS },
        spec: {
          template: {
            spec: {
              restartPolicy: 'Never',
              containers: [{ name: 'main', image: IMAGE, command: ['sh', '-c', 'exit 0'] }],
            },
          },
        },
      });
      await client.apply({
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name: 'fails', namespace: NS },
        spec: {
          backoffLimit: 0,
          template: {
            spec: {
              restartPolicy: 'Never',
              containers: [{ name: 'main', image: IMAGE, command: ['sh', '-c', 'exit 2'] }],
            },
          },
        },
      });
    }, 60_000);
    afterAll(async () => {
      await sim?.stop();
    });

    it('StatefulSet ready (statefulset.yaml "ready")', async () => {
      const s = await captured(
        'ready StatefulSet',
        (o) =>
          o.kind === 'StatefulSet' &&
          o.metadata.name === 'ok' &&
          o.status?.readyReplicas === 1 &&
          o.status?.currentRevision === o.status?.updateRevision,
      );
      const f = stage('statefulset.yaml', 'ready');
      same(statefulSetVerdict(s), statefulSetVerdict(f));
      expect(statefulSetVerdict(s).state).toBe('ready');
      for (const k of Object.keys(f.status)) expect(s.status, `status.${k}`).toHaveProperty(k);
    });

    it('StatefulSet with its pod starting (statefulset.yaml "pod-starting")', async () => {
      const s = await captured(
        'starting StatefulSet',
        (o) =>
          o.kind === 'StatefulSet' &&
          o.metadata.name === 'ok' &&
          o.status?.observedGeneration &&
          o.status.readyReplicas === 0,
      );
      same(statefulSetVerdict(s), statefulSetVerdict(stage('statefulset.yaml', 'pod-starting')));
    });

    it('Pod ready, crash-looping, pulling a missing image, missing a Secret (pod.yaml stages)', async () => {
      const ready = await captured(
        'ready pod',
        (o) =>
          o.kind === 'Pod' &&
          o.metadata.name === 'ok-0' &&
          o.status?.conditions?.some((c: Obj) => c.type === 'Ready' && c.status === 'True'),
      );
      same(podVerdict(ready, podOpts), podVerdict(stage('pod.yaml', 'ready'), podOpts));
      const crash = await captured(
        'crash-looping pod',
        (o) => o.kind === 'Pod' && waitingOf(o)?.reason === 'CrashLoopBackOff',
      );
      same(podVerdict(crash, podOpts), podVerdict(stage('pod.yaml', 'crashloop'), podOpts));
      expect(crash.status.containerStatuses[0].lastState.terminated).toHaveProperty('exitCode', 1);
      const pull = await captured(
        'ErrImagePull pod',
        (o) => o.kind === 'Pod' && waitingOf(o)?.reason === 'ErrImagePull',
      );
      same(podVerdict(pull, podOpts), podVerdict(stage('pod.yaml', 'err-image-pull'), podOpts));
      const config = await captured(
        'config error pod',
        (o) => o.kind === 'Pod' && waitingOf(o)?.reason === 'CreateContainerConfigError',
      );
      same(
        podVerdict(config, podOpts),
        podVerdict(stage('pod.yaml', 'create-container-config-error'), podOpts),
      );
    });

    it('Job complete and failed (job.yaml "complete", "failed")', async () => {
      const done = await captured(
        'complete Job',
        (o) =>
          o.kind === 'Job' &&
          o.metadata.name === 'done' &&
          o.status?.conditions?.some((c: Obj) => c.type === 'Complete'),
      );
      same(jobVerdict(done), jobVerdict(stage('job.yaml', 'complete')));
      const failed = await captured(
        'failed Job',
        (o) =>
          o.kind === 'Job' &&
          o.metadata.name === 'fails' &&
          o.status?.conditions?.some((c: Obj) => c.type === 'Failed'),
      );
      same(jobVerdict(failed), jobVerdict(stage('job.yaml', 'failed')));
      expect(jobVerdict(failed).reason).toBe('BackoffLimitExceeded');
    });

    it('PVC pending for its first consumer, then bound (storage.yaml stages)', async () => {
      const events = sim.api.list('v1', 'Event', NS);
      const sc = sim.api.get('storage.k8s.io/v1', 'StorageClass', undefined, 'standard');
      const pending = await captured(
        'pending claim',
        (o) =>
          o.kind === 'PersistentVolumeClaim' &&
          o.metadata.name === 'data-ok-0' &&
          o.status?.phase === 'Pending',
      );
      same(
        pvcVerdict(pending, { storageClass: sc!, events }),
        pvcVerdict(stage('storage.yaml', 'pending-first-consumer'), { storageClass: sc!, events }),
      );
      const bound = await captured(
        'bound claim',
        (o) => o.kind === 'PersistentVolumeClaim' && o.status?.phase === 'Bound',
      );
      same(pvcVerdict(bound), pvcVerdict(stage('storage.yaml', 'bound')));
    });

    it('EndpointSlice with a ready endpoint makes the Service reachable (endpointslice.yaml "ready")', async () => {
      const slice = await captured(
        'ready slice',
        (o) => o.kind === 'EndpointSlice' && o.endpoints?.some((e: Obj) => e.conditions?.ready),
      );
      const svc = sim.api.get('v1', 'Service', NS, 'ok')!;
      expect(serviceVerdict(svc, [slice]).state).toBe('ready');
      const f = stage('endpointslice.yaml', 'ready');
      for (const k of Object.keys(f.endpoints[0].conditions))
        expect(slice.endpoints[0].conditions).toHaveProperty(k);
    });
  },
);
