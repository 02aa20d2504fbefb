// One test per rule of /reference/readiness.md, on realistic status shapes (test/fixtures/k8s).
import { describe, expect, it } from 'vitest';
import { evaluateComponent, liveKey, type Snapshot } from '../../src/plan/component.ts';
import { conditionIs, type Obj, selectorMatches } from '../../src/plan/conditions.ts';
import {
  daemonSetVerdict,
  deploymentVerdict,
  jobVerdict,
  podVerdict,
  pvcVerdict,
  serviceVerdict,
  statefulSetVerdict,
} from '../../src/plan/readiness.ts';
import { stage } from './plan-fixtures.ts';

const D = (s: string) => deploymentVerdict(stage('deployment.yaml', s));
const S = (s: string) => statefulSetVerdict(stage('statefulset.yaml', s));
const DS = (s: string) => daemonSetVerdict(stage('daemonset.yaml', s));
const J = (s: string) => jobVerdict(stage('job.yaml', s));
const T0 = Date.parse('2026-10-01T10:00:00Z');
const P = (s: string, now = T0 + 5_000, grace = 30_000) =>
  podVerdict(stage('pod.yaml', s), { now, unschedulableGraceMs: grace });

describe('Deployment (kubectl rollout status items 1-5, strict 6)', () => {
  it('1: waits until the generation is observed', () => {
    expect(D('created').state).toBe('progressing');
    expect(D('new-generation-unobserved')).toMatchObject({ state: 'progressing', message: /observed/ });
  });
  it('2: ProgressDeadlineExceeded fails at once, naming the reason', () => {
    expect(D('progress-deadline-exceeded')).toMatchObject({
      state: 'failed',
      reason: 'ProgressDeadlineExceeded',
    });
    expect(D('pods-starting').state).not.toBe('failed');
  });
  it('3: waits for updatedReplicas >= spec.replicas (missing replicas counts as 1)', () => {
    expect(D('replicas-omitted-starting')).toMatchObject({
      state: 'progressing',
      message: /0 of 1 replicas updated/,
    });
    expect(D('replicas-omitted-ready').state).toBe('ready');
  });
  it('4: waits for old replicas to go', () => {
    expect(D('old-replicas-pending')).toMatchObject({ state: 'progressing', message: /old replicas/ });
  });
  it('5: waits for availableReplicas >= updatedReplicas', () => {
    expect(D('updated-not-available')).toMatchObject({ state: 'progressing', message: /available/ });
    expect(D('pods-starting').state).toBe('progressing');
  });
  it('6 (strict): readyReplicas >= spec.replicas and Available=True', () => {
    expect(D('scaling-up')).toMatchObject({ state: 'progressing', message: /1 of 2 replicas ready/ });
    expect(D('counts-done-available-false')).toMatchObject({ state: 'progressing', message: /Available/ });
    expect(D('available').state).toBe('ready');
  });
});

describe('StatefulSet', () => {
  it('1: observedGeneration must be set and current', () => {
    expect(S('created').state).toBe('progressing');
    expect(S('new-generation-unobserved').state).toBe('progressing');
  });
  it('2: readyReplicas >= spec.replicas', () => {
    expect(S('pod-starting')).toMatchObject({ state: 'progressing', message: /0 of 1 replicas ready/ });
    expect(S('ready').state).toBe('ready');
  });
  it('3: with a partition p, updatedReplicas >= replicas - p (revision check skipped)', () => {
    expect(S('partitioned-done').state).toBe('ready');
    expect(S('partitioned-pending')).toMatchObject({ state: 'progressing', message: /partition 2/ });
  });
  it('4: partition 0 also needs currentRevision == updateRevision and status.replicas == spec.replicas', () => {
    expect(S('rolling-old-revision').state).toBe('progressing');
    expect(S('updated-revision-not-current')).toMatchObject({ state: 'progressing', message: /revision/ });
    expect(S('scaling-down')).toMatchObject({ state: 'progressing', message: /2 replicas exist/ });
  });
  it('4: an OnDelete strategy skips the revision check', () => {
    const sts = stage('statefulset.yaml', 'updated-revision-not-current');
    sts.spec.updateStrategy = { type: 'OnDelete' };
    expect(statefulSetVerdict(sts).state).toBe('ready');
  });
  it('5: availableReplicas >= replicas when the field is present', () => {
    expect(S('ready-not-available')).toMatchObject({ state: 'progressing', message: /available/ });
    expect(S('ready-no-available-field').state).toBe('ready');
  });
});

describe('DaemonSet', () => {
  it('generation observed', () => {
    expect(DS('created').state).toBe('progressing');
    expect(DS('new-generation-unobserved').state).toBe('progressing');
  });
  it('updatedNumberScheduled >= desired', () => expect(DS('scheduling').message).toMatch(/updated/));
  it('numberAvailable >= desired', () => expect(DS('updated-not-available').message).toMatch(/available/));
  it('strict: numberReady >= desired', () => {
    expect(DS('available-not-ready')).toMatchObject({ state: 'progressing', message: /ready/ });
    expect(DS('ready').state).toBe('ready');
  });
});

describe('Job', () => {
  it('complete on Complete=True or SuccessCriteriaMet=True', () => {
    expect(J('complete').state).toBe('ready');
    expect(J('success-criteria-met').state).toBe('ready');
    expect(J('running').state).toBe('progressing');
  });
  it('fails on Failed=True or FailureTarget=True, with the reason', () => {
    expect(J('failed')).toMatchObject({ state: 'failed', reason: 'BackoffLimitExceeded' });
    expect(J('failure-target')).toMatchObject({ state: 'failed', reason: 'BackoffLimitExceeded' });
  });
});

describe('Any resource with conditions (kubectl wait semantics)', () => {
  it('compares condition type and status case-insensitively', () => {
    expect(J('complete-lowercase').state).toBe('ready');
    expect(conditionIs(stage('job.yaml', 'complete-lowercase'), 'COMPLETE', 'True')).toBe(true);
  });
  it('ignores a condition observed for an older generation', () => {
    expect(J('complete-stale-generation').state).toBe('progressing');
    const fresh = stage('job.yaml', 'complete-stale-generation');
    fresh.status.conditions[0].observedGeneration = 2;
    expect(jobVerdict(fresh).state).toBe('ready');
  });
});

describe('Pod', () => {
  it('ready when Running and Ready=True; Succeeded is terminal OK', () => {
    expect(P('ready').state).toBe('ready');
    expect(P('running-not-ready').state).toBe('progressing');
    expect(P('container-creating').state).toBe('progressing');
    expect(P('succeeded').state).toBe('ready');
  });
  it('phase Failed fails', () => {
    expect(P('failed-evicted')).toMatchObject({
      state: 'failed',
      reason: 'Evicted',
      message: /ephemeral-storage/,
    });
  });
  for (const [s, reason] of [
    ['crashloop', 'CrashLoopBackOff'],
    ['err-image-pull', 'ErrImagePull'],
    ['create-container-config-error', 'CreateContainerConfigError'],
    ['invalid-image-name', 'InvalidImageName'],
    ['init-crashloop', 'CrashLoopBackOff'],
  ] as const) {
    it(`fails fast on ${reason} (${s}), naming pod, container and reason`, () => {
      const v = P(s);
      expect(v.state).toBe('failed');
      expect(v.reason).toBe(reason);
      expect(v.message).toMatch(new RegExp(`pod \\S+ container \\S+ ${reason}`));
    });
  }
  // the kubelet's own reason names: kubernetes/kubernetes pkg/kubelet/container/sync_result.go,
  // pkg/kubelet/kuberuntime/kuberuntime_container.go, pkg/kubelet/images/types.go
  for (const [reason, message] of [
    ['CreateContainerError', 'failed to generate container "x" spec: failed to apply OCI options'],
    ['RunContainerError', 'failed to start container "x": exec: "/entrypoint.sh": permission denied'],
    ['PreStartHookError', 'failed to run pre-start hook'],
    ['PostStartHookError', 'Exec lifecycle hook ([/bin/sh -c init]) for Container "x" failed'],
    [
      'ErrImageNeverPull',
      'Container image "nacos/nacos-server:v2.3.2" is not present with pull policy of Never',
    ],
  ] as const) {
    it(`fails fast on the kubelet's ${reason}`, () => {
      const pod = stage('pod.yaml', 'create-container-config-error');
      pod.status.containerStatuses[0].state = { waiting: { reason, message } };
      const v = podVerdict(pod, { now: T0 + 5_000, unschedulableGraceMs: 30_000 });
      expect(v).toMatchObject({ state: 'failed', reason });
      expect(v.message).toContain(message);
    });
  }
  it('names the last termination (OOMKilled, exit code) in a crash-loop failure', () => {
    const pod = stage('pod.yaml', 'crashloop');
    pod.status.containerStatuses[0].lastState = { terminated: { reason: 'OOMKilled', exitCode: 137 } };
    expect(podVerdict(pod, { now: T0, unschedulableGraceMs: 30_000 }).message).toMatch(
      /CrashLoopBackOff.*last termination: OOMKilled, exit code 137/,
    );
    expect(P('crashloop').message).toMatch(/last termination: Error, exit code 1/);
  });
  it("names the containers' terminations when a pod failed", () => {
    const pod = stage('pod.yaml', 'failed-evicted');
    pod.status.containerStatuses = [
      { name: 'es', state: { terminated: { reason: 'OOMKilled', exitCode: 137 } }, restartCount: 0 },
    ];
    expect(podVerdict(pod, { now: T0, unschedulableGraceMs: 30_000 }).message).toMatch(
      /container es last termination: OOMKilled, exit code 137/,
    );
  });
  describe('image pulls (kubelet image_manager.go retries with back-off; docs "Images")', () => {
    const pull = (reason: string, message: string) => {
      const pod = stage('pod.yaml', 'err-image-pull');
      pod.status.containerStatuses[0].state = { waiting: { reason, message } };
      return pod;
    };
    const at = (pod: Obj, ms: number, events: Obj[] = []) =>
      podVerdict(pod, { now: T0 + ms, unschedulableGraceMs: 30_000, imagePullGraceMs: 60_000, events });
    it('a non-transient pull error (not found, manifest unknown, unauthorized) fails at once', () => {
      for (const m of [
        'rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/milvusdb/milvus:v9.9.9": failed to resolve reference "docker.io/milvusdb/milvus:v9.9.9": docker.io/milvusdb/milvus:v9.9.9: not found',
        'failed to pull and unpack image "ghcr.io/x/y:1": failed to resolve reference: unexpected status: manifest unknown',
        'failed to pull and unpack image "ghcr.io/x/private:1": failed to authorize: failed to fetch anonymous token: 401 Unauthorized',
        'pull access denied, repository does not exist or may require authorization',
      ])
        expect(at(pull('ErrImagePull', m), 1_000)).toMatchObject({ state: 'failed', reason: 'ErrImagePull' });
    });
    it('a transient pull error (rate limit, EOF) is retried until the grace period ends', () => {
      const limited = pull(
        'ErrImagePull',
        'failed to pull and unpack image "docker.io/bitnami/kafka:3.7": failed to copy: httpReadSeeker: failed open: unexpected status code https://registry-1.docker.io/v2/...: 429 Too Many Requests - toomanyrequests: You have reached your pull rate limit',
      );
      expect(at(limited, 10_000)).toMatchObject({ state: 'progressing', message: /retrying/ });
      const eof = pull('ErrImagePull', 'failed to pull and unpack image "x": failed to copy: read tcp: EOF');
      expect(at(eof, 59_000).state).toBe('progressing');
      expect(at(eof, 61_000)).toMatchObject({
        state: 'failed',
        reason: 'ErrImagePull',
        message: /after 1m00s/,
      });
    });
    it("ImagePullBackOff carries no cause: the kubelet's Failed event decides", () => {
      const backoff = pull('ImagePullBackOff', 'Back-off pulling image "milvusdb/milvus:v9.9.9"');
      expect(at(backoff, 5_000).state).toBe('progressing');
      const event = (message: string) => ({
        reason: 'Failed',
        type: 'Warning',
        involvedObject: { kind: 'Pod', name: 'milvus-0', fieldPath: 'spec.containers{milvus}' },
        message,
        lastTimestamp: '2026-10-01T10:00:04Z',
      });
      const notFound = event(
        'Failed to pull image "milvusdb/milvus:v9.9.9": rpc error: code = NotFound desc = ... not found',
      );
      expect(at(backoff, 5_000, [notFound])).toMatchObject({ state: 'failed', message: /NotFound/ });
      const limited = event('Failed to pull image "milvusdb/milvus:v9.9.9": 429 Too Many Requests');
      expect(at(backoff, 5_000, [limited]).state).toBe('progressing');
    });
  });
  it('Unschedulable waits during the grace period, then fails', () => {
    expect(P('unschedulable', T0 + 10_000, 30_000)).toMatchObject({
      state: 'progressing',
      message: /Insufficient memory/,
    });
    expect(P('unschedulable', T0 + 31_000, 30_000)).toMatchObject({
      state: 'failed',
      reason: 'Unschedulable',
    });
  });
});

describe('PersistentVolumeClaim', () => {
  const sc = stage('storage.yaml', 'kind-standard');
  it('ready when Bound; Lost fails', () => {
    expect(pvcVerdict(stage('storage.yaml', 'bound')).state).toBe('ready');
    expect(pvcVerdict(stage('storage.yaml', 'lost'))).toMatchObject({ state: 'failed', reason: 'ClaimLost' });
  });
  it('reports Pending on WaitForFirstConsumer apart from a provisioning failure', () => {
    const pending = stage('storage.yaml', 'pending-first-consumer');
    expect(pvcVerdict(pending, { storageClass: sc })).toMatchObject({
      state: 'progressing',
      reason: 'WaitForFirstConsumer',
      message: /waiting for first consumer/,
    });
    expect(
      pvcVerdict(pending, { events: [stage('storage.yaml', 'event-wait-for-first-consumer')] }).reason,
    ).toBe('WaitForFirstConsumer');
    const failing = pvcVerdict(stage('storage.yaml', 'pending-provisioning'), {
      storageClass: sc,
      events: [
        stage('storage.yaml', 'event-wait-for-first-consumer'),
        stage('storage.yaml', 'event-provisioning-failed'),
      ],
    });
    expect(failing).toMatchObject({ reason: 'ProvisioningFailed', message: /no space left on device/ });
  });
});

describe('Service (EndpointSlice)', () => {
  const svc = stage('endpointslice.yaml', 'service');
  it('reachable with a ready endpoint for every port', () => {
    expect(serviceVerdict(svc, [stage('endpointslice.yaml', 'ready')]).state).toBe('ready');
  });
  it('not reachable when endpoints are not ready, absent, for another service, or a port is missing', () => {
    expect(serviceVerdict(svc, [stage('endpointslice.yaml', 'not-ready')]).state).toBe('progressing');
    expect(serviceVerdict(svc, [stage('endpointslice.yaml', 'empty')]).state).toBe('progressing');
    expect(serviceVerdict(svc, [stage('endpointslice.yaml', 'other-service')]).state).toBe('progressing');
    expect(serviceVerdict(svc, [stage('endpointslice.yaml', 'ready-one-port')])).toMatchObject({
      state: 'progressing',
      message: /port 9091/,
    });
    expect(serviceVerdict(svc, [])).toMatchObject({ message: /no ready endpoint for port 19530, 9091/ });
  });
});

describe('label selectors', () => {
  it('matchLabels and every matchExpressions operator', () => {
    const labels = { app: 'x', tier: 'db' };
    expect(selectorMatches({ matchLabels: { app: 'x' } }, labels)).toBe(true);
    expect(selectorMatches({ matchLabels: { app: 'y' } }, labels)).toBe(false);
    expect(
      selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['db'] }] }, labels),
    ).toBe(true);
    expect(
      selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['db'] }] }, labels),
    ).toBe(false);
    expect(selectorMatches({ matchExpressions: [{ key: 'zone', operator: 'Exists' }] }, labels)).toBe(false);
    expect(selectorMatches({ matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }, labels)).toBe(
      true,
    );
  });
  it('an empty selector matches nothing rather than every pod', () => {
    expect(selectorMatches({}, { app: 'x' })).toBe(false);
    expect(selectorMatches(undefined, { app: 'x' })).toBe(false);
  });
});

describe('Jobs are judged by their own conditions and backoffLimit (pkg/controller/job/job_controller.go)', () => {
  const NS = 'voiceassistant-infra';
  const target = { apiVersion: 'batch/v1', kind: 'Job', namespace: NS, name: 'minio-create-buckets' };
  const snap = (job: Obj, pods: Obj[]): Snapshot => ({
    objects: new Map([[liveKey('Job', NS, job.metadata.name), job]]),
    deleted: new Set(),
    pods,
    endpointSlices: [],
    events: [],
    storageClasses: [],
  });
  /** The Job's pod with restartPolicy OnFailure: the container restarts in place, pod stays Running. */
  const retryingPod = (restarts: number) => {
    const pod = stage('pod.yaml', 'crashloop');
    pod.metadata.name = 'minio-create-buckets-x7k2p';
    pod.metadata.labels = stage('job.yaml', 'running').spec.template.metadata.labels;
    pod.status.containerStatuses[0].restartCount = restarts;
    return pod;
  };
  it('CrashLoopBackOff in a Running Job pod while backoffLimit allows more tries is progress, not failure', () => {
    const v = evaluateComponent([target], snap(stage('job.yaml', 'running'), [retryingPod(2)]), { now: T0 });
    expect(v.state).toBe('progressing');
    expect(v.reasons.join('\n')).toMatch(/retrying \(2 of backoffLimit 6 used\).*CrashLoopBackOff/);
    expect(v.failedPods).toEqual([]);
  });
  it("the Job's Failed condition (BackoffLimitExceeded) fails it, naming the last termination", () => {
    const pod = retryingPod(6);
    pod.status.containerStatuses[0].lastState = { terminated: { reason: 'OOMKilled', exitCode: 137 } };
    const v = evaluateComponent([target], snap(stage('job.yaml', 'failed'), [pod]), { now: T0 });
    expect(v.state).toBe('failed');
    expect(v.reasons.join('\n')).toMatch(/OOMKilled, exit code 137/);
  });
  it('a completed Job is ready even with an earlier failed pod left over', () => {
    const old = retryingPod(0);
    old.status.phase = 'Failed';
    expect(evaluateComponent([target], snap(stage('job.yaml', 'complete'), [old]), { now: T0 }).state).toBe(
      'ready',
    );
  });
  it('a Job pod that cannot start (CreateContainerConfigError) still fails fast: no retry fixes it', () => {
    const pod = retryingPod(0);
    pod.status.containerStatuses[0].state = {
      waiting: { reason: 'CreateContainerConfigError', message: 'secret "minio-secret" not found' },
    };
    expect(evaluateComponent([target], snap(stage('job.yaml', 'running'), [pod]), { now: T0 }).state).toBe(
      'failed',
    );
  });
});

describe('a workload still progressing names how its restarted pods last ended', () => {
  it('a Running pod between OOM kills: the reasons (and so a timeout) say OOMKilled', () => {
    const NS = 'voiceassistant-infra';
    const sts = stage('statefulset.yaml', 'pod-starting');
    sts.metadata = { ...sts.metadata, name: 'milvus', namespace: NS };
    sts.spec.selector = { matchLabels: { 'app.kubernetes.io/name': 'milvus' } };
    const pod = stage('pod.yaml', 'running-not-ready');
    pod.status.containerStatuses[0].restartCount = 2;
    pod.status.containerStatuses[0].lastState = { terminated: { reason: 'OOMKilled', exitCode: 137 } };
    const snap: Snapshot = {
      objects: new Map([[liveKey('StatefulSet', NS, 'milvus'), sts]]),
      deleted: new Set(),
      pods: [pod],
      endpointSlices: [],
      events: [],
      storageClasses: [],
    };
    const v = evaluateComponent(
      [{ apiVersion: 'apps/v1', kind: 'StatefulSet', namespace: NS, name: 'milvus' }],
      snap,
      {
        now: T0,
      },
    );
    expect(v.state).toBe('progressing');
    expect(v.reasons.join('\n')).toMatch(
      /StatefulSet\/milvus: pod milvus-0 container milvus restarted 2 time\(s\) \(last termination: OOMKilled, exit code 137\)/,
    );
  });
});
