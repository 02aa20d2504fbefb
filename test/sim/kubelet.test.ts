/**
 * The simulated cluster's behaviours, one test each, through the API as kindling sees it (objects
 * applied with kindling's KubeClient, status read back): kubelet (env errors, service links,
 * restarts), Job controller + API server defaulting, volume binding under WaitForFirstConsumer.
 * The simulation is a stand-in cluster (test/sim); each behaviour's upstream source is cited in
 * the file that implements it.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { KubeClient } from '../../src/kube/client.ts';
import { KubeCluster } from '../../src/kube/cluster.ts';
import { deploymentVerdict, statefulSetVerdict } from '../../src/plan/readiness.ts';
import { describeWithSim } from '../e2e/sim-available.ts';
import type { Obj } from './apiserver.ts';
import { SimCluster } from './cluster.ts';
import { expand, serviceLinkVars } from './env.ts';

const NS = 'sim-test';
const IMAGE = 'redis:7.4.1-alpine';

let sim: SimCluster;
let client: KubeClient;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, f: () => T | undefined, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const pod = (name: string) => sim.api.get('v1', 'Pod', NS, name);
const waiting = (name: string, container = 'main') =>
  pod(name)?.status?.containerStatuses?.find((c: Obj) => c.name === container)?.state?.waiting;

function statefulSet(name: string, container: Obj, podSpec: Obj = {}): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, namespace: NS },
    spec: {
      serviceName: name,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'main', image: IMAGE, ...container }], ...podSpec },
      },
    },
  };
}

async function execIn(podName: string, argv: string[]): Promise<string> {
  const t = sim.kubelet.container(NS, podName, 'main');
  if (!t) throw new Error(`${podName} is not running`);
  const child = t.sandbox.enter(t.user, t.root, argv, t.env, ['ignore', 'pipe', 'pipe']);
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  await new Promise((r) => child.on('close', r));
  return out;
}

describeWithSim('simulated cluster (stand-in): kubelet, controllers and defaulting', () => {
  beforeAll(async () => {
    sim = await new SimCluster().start();
    const kc = new KubeConfig();
    kc.loadFromString(sim.kubeconfigYaml());
    client = new KubeClient(kc);
    await client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  });
  afterAll(async () => {
    await sim?.stop();
  });

  it('a Secret applied after its pod: CreateContainerConfigError `secret "s" not found` (kubelet_pods.go), then the pod starts once it exists', async () => {
    await client.apply(
      statefulSet('late-secret', {
        command: ['sh', '-c', 'exec redis-server --port 7001'],
        env: [{ name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'late', key: 'password' } } }],
      }),
    );
    const w = await until('CreateContainerConfigError', () =>
      waiting('late-secret-0')?.reason === 'CreateContainerConfigError'
        ? waiting('late-secret-0')
        : undefined,
    );
    expect(w.message).toBe('secret "late" not found');
    await client.apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'late', namespace: NS },
      stringData: { password: 'p' },
    });
    const ready = await until(
      'ready',
      () =>
        sim.api.get('apps/v1', 'StatefulSet', NS, 'late-secret')?.status?.readyReplicas === 1 || undefined,
    );
    expect(ready).toBe(true);
    expect(await execIn('late-secret-0', ['sh', '-c', 'echo "$PASSWORD"'])).toBe('p\n');
  });

  it("a missing ConfigMap key: CreateContainerConfigError `couldn't find key K in ConfigMap NS/NAME` (kubelet_pods.go)", async () => {
    await client.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'cm', namespace: NS },
      data: { BUCKETS: 'a b' },
    });
    await client.apply(
      statefulSet('bad-key', {
        command: ['sh', '-c', 'sleep 100'],
        env: [{ name: 'B', valueFrom: { configMapKeyRef: { name: 'cm', key: 'BUCKETZ' } } }],
      }),
    );
    const w = await until('config error', () =>
      waiting('bad-key-0')?.reason === 'CreateContainerConfigError' ? waiting('bad-key-0') : undefined,
    );
    expect(w.message).toBe(`couldn't find key BUCKETZ in ConfigMap ${NS}/cm`);
  });

  it("service links: {SVC}_PORT=tcp://CLUSTER-IP:PORT for the namespace's Services, none with enableServiceLinks: false (envvars.go)", async () => {
    await client.apply({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'minio', namespace: NS },
      spec: { selector: { app: 'x' }, ports: [{ name: 'api', port: 9000 }] },
    });
    const ip = sim.api.get('v1', 'Service', NS, 'minio')!.spec.clusterIP;
    expect(ip).toMatch(/^10\.96\.\d+\.\d+$/);
    await client.apply(statefulSet('links', { command: ['sh', '-c', 'sleep 100'] }));
    await client.apply(
      statefulSet('nolinks', { command: ['sh', '-c', 'sleep 100'] }, { enableServiceLinks: false }),
    );
    await until(
      'both running',
      () =>
        (sim.kubelet.container(NS, 'links-0', 'main') && sim.kubelet.container(NS, 'nolinks-0', 'main')) ||
        undefined,
    );
    expect(
      await execIn('links-0', [
        'sh',
        '-c',
        'echo "$MINIO_PORT|$MINIO_SERVICE_PORT_API|$KUBERNETES_SERVICE_HOST"',
      ]),
    ).toBe(`tcp://${ip}:9000|9000|10.96.0.1\n`);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion, not a template
    const unset = 'echo "${MINIO_PORT:-unset}|$KUBERNETES_SERVICE_HOST"';
    expect(await execIn('nolinks-0', ['sh', '-c', unset])).toBe('unset|10.96.0.1\n');
  });

  it('a crashing container: restarts, lastState.terminated with its exit code, then CrashLoopBackOff "back-off 10s restarting failed container=…" (kuberuntime_manager.go)', async () => {
    await client.apply(statefulSet('crash', { command: ['sh', '-c', 'echo dying; exit 3'] }));
    const w = await until('CrashLoopBackOff', () =>
      waiting('crash-0')?.reason === 'CrashLoopBackOff' ? waiting('crash-0') : undefined,
    );
    const cs = pod('crash-0')!.status.containerStatuses[0];
    expect(w.message).toMatch(/^back-off \d+s restarting failed container=main pod=crash-0_sim-test\(/);
    expect(cs.restartCount).toBeGreaterThanOrEqual(1);
    expect(cs.lastState.terminated).toMatchObject({ exitCode: 3, reason: 'Error' });
    expect(sim.api.logs.get(`${NS}/crash-0/main/true`)).toBe('dying\n');
  });

  it('an unknown tag: ErrImagePull with the registry\'s "not found", then ImagePullBackOff with "Back-off pulling image" (images/image_manager.go)', async () => {
    await client.apply(statefulSet('pull', { image: 'redis:0.0.0-nope', command: ['sh'] }));
    const first = await until('ErrImagePull', () =>
      waiting('pull-0')?.reason === 'ErrImagePull' ? waiting('pull-0') : undefined,
    );
    expect(first.message).toMatch(/docker\.io\/library\/redis:0\.0\.0-nope: not found$/);
    const next = await until('ImagePullBackOff', () =>
      waiting('pull-0')?.reason === 'ImagePullBackOff' ? waiting('pull-0') : undefined,
    );
    expect(next.message).toBe('Back-off pulling image "redis:0.0.0-nope"');
  });

  it('a Job: the API server generates its selector and controller-uid labels; the controller runs a pod and sets Complete (strategy.go, job_controller.go)', async () => {
    await client.apply({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'once', namespace: NS },
      spec: {
        template: {
          spec: {
            restartPolicy: 'Never',
            containers: [{ name: 'main', image: IMAGE, command: ['sh', '-c', 'exit 0'] }],
          },
        },
      },
    });
    const job = sim.api.get('batch/v1', 'Job', NS, 'once')!;
    expect(job.spec.selector.matchLabels['batch.kubernetes.io/controller-uid']).toBe(job.metadata.uid);
    expect(job.spec.template.metadata.labels['job-name']).toBe('once');
    expect(job.spec.backoffLimit).toBe(6);
    const done = await until('Complete', () =>
      sim.api.get('batch/v1', 'Job', NS, 'once')?.status?.conditions?.find((c: Obj) => c.type === 'Complete'),
    );
    expect(done.status).toBe('True');
    const pods = sim.api.list('v1', 'Pod', NS).filter((p) => p.metadata.labels?.['job-name'] === 'once');
    expect(pods.map((p) => p.status.phase)).toEqual(['Succeeded']);
  });

  it("a Deployment: a ReplicaSet <name>-<pod-template-hash> and its pod; Available and Progressing/NewReplicaSetAvailable, which kindling's readiness rules accept (deployment/sync.go)", async () => {
    await client.apply({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: NS },
      spec: {
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'main', image: IMAGE, command: ['sh', '-c', 'sleep 100'] }] },
        },
      },
    });
    const d = await until('Available', () => {
      const o = sim.api.get('apps/v1', 'Deployment', NS, 'web');
      return o?.status?.conditions?.some((c: Obj) => c.type === 'Available' && c.status === 'True')
        ? o
        : undefined;
    });
    expect(d.spec.strategy).toEqual({
      type: 'RollingUpdate',
      rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' },
    });
    const rs = sim.api
      .list('apps/v1', 'ReplicaSet', NS)
      .filter((x) => x.metadata.ownerReferences?.[0]?.name === 'web');
    expect(rs.map((x) => x.metadata.name)).toEqual([`web-${rs[0]!.metadata.labels['pod-template-hash']}`]);
    expect(d.status.conditions.find((c: Obj) => c.type === 'Progressing').reason).toBe(
      'NewReplicaSetAvailable',
    );
    expect(deploymentVerdict(d).state).toBe('ready');
  });

  it('service links make the Milvus stand-in crash-loop (MINIO_PORT=tcp://… read as minio.port: issue #11 item 2); enableServiceLinks: false lets it start', async () => {
    await client.apply({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'etcd', namespace: NS },
      spec: { selector: { app: 'none' }, ports: [{ port: 2379 }] },
    });
    const milvus = (name: string, podSpec: Obj) =>
      statefulSet(
        name,
        {
          image: 'milvusdb/milvus:v2.4.17',
          args: ['milvus', 'run', 'standalone'],
          ports: [{ name: 'metrics', containerPort: 9091 }],
        },
        podSpec,
      );
    await client.apply(milvus('mv-links', {}));
    await client.apply(milvus('mv-nolinks', { enableServiceLinks: false }));
    const w = await until(
      'CrashLoopBackOff',
      () => (waiting('mv-links-0')?.reason === 'CrashLoopBackOff' ? waiting('mv-links-0') : undefined),
      30_000,
    );
    expect(w.message).toMatch(/restarting failed container=main/);
    expect(sim.api.logs.get(`${NS}/mv-links-0/main/true`)).toMatch(
      /address [a-z]+:tcp:\/\/10\.96\.\d+\.\d+:9000: invalid port/,
    );
    await until(
      'mv-nolinks running',
      () => (pod('mv-nolinks-0')?.status?.containerStatuses?.[0]?.state?.running ? true : undefined),
      30_000,
    );
    expect(pod('mv-nolinks-0')!.status.containerStatuses[0].restartCount).toBe(0);
  }, 40_000);

  it("an exec of a binary the image does not ship fails as the runtime does (etcd is distroless: no sh), through kindling's KubeCluster", async () => {
    await client.apply(
      statefulSet('etcd-img', {
        image: 'quay.io/coreos/etcd:v3.5.16',
        command: [
          '/usr/local/bin/etcd',
          '--data-dir',
          '/tmp/etcd',
          '--listen-client-urls',
          'http://127.0.0.1:2379',
          '--advertise-client-urls',
          'http://127.0.0.1:2379',
          '--listen-peer-urls',
          'http://127.0.0.1:2380',
        ],
      }),
    );
    await until('etcd running', () => sim.kubelet.container(NS, 'etcd-img-0', 'main'));
    const kc = new KubeConfig();
    kc.loadFromString(sim.kubeconfigYaml());
    const cluster = new KubeCluster(kc);
    const ok = await cluster.exec({
      namespace: NS,
      pod: 'etcd-img-0',
      container: 'main',
      command: ['etcdctl', 'version'],
      timeoutMs: 10_000,
    });
    expect(ok.exitCode).toBe(0);
    const err = await cluster
      .exec({
        namespace: NS,
        pod: 'etcd-img-0',
        container: 'main',
        command: ['sh', '-c', 'true'],
        timeoutMs: 10_000,
      })
      .then(
        () => 'no error',
        (e: Error) => e.message,
      );
    expect(err).toMatch(/executable file not found in \$PATH|does not have|not in the image/);
  });

  it('a failing liveness probe: Unhealthy events, then the kubelet kills and restarts the container (exit 137 in lastState; prober/worker.go)', async () => {
    await client.apply(
      statefulSet('unlive', {
        command: ['sh', '-c', 'sleep 100'],
        livenessProbe: {
          exec: { command: ['sh', '-c', 'echo not alive; exit 1'] },
          periodSeconds: 1,
          failureThreshold: 2,
        },
      }),
    );
    const cs = await until('a restart', () =>
      pod('unlive-0')?.status?.containerStatuses?.find((c: Obj) => c.restartCount >= 1),
    );
    expect(cs.lastState.terminated).toMatchObject({ exitCode: 137, reason: 'Error' });
    const reasons = sim.api
      .list('v1', 'Event', NS)
      .filter((e) => e.involvedObject.name === 'unlive-0')
      .map((e) => `${e.reason}: ${e.message}`);
    expect(reasons).toContain('Unhealthy: Liveness probe failed: not alive');
    expect(reasons).toContain('Killing: Container main failed liveness probe, will be restarted');
  });

  it('a StatefulSet: pods in order (pod-1 only once pod-0 is ready), claims <template>-<set>-<ordinal>, and a template change rolled out to a new revision that becomes current (stateful_set_control.go)', async () => {
    const set = statefulSet(
      'ord',
      {
        command: ['sh', '-c', 'sleep 1; exec redis-server --port 6390'],
        ports: [{ name: 'r', containerPort: 6390 }],
        readinessProbe: { tcpSocket: { port: 'r' }, periodSeconds: 1 },
      },
      {},
    );
    set.spec.replicas = 2;
    set.spec.volumeClaimTemplates = [
      {
        metadata: { name: 'data' },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
      },
    ];
    const seen: string[] = [];
    const names = new Set<string>();
    const listener = (_t: string, o: Obj) => {
      if (o.kind === 'Pod' && o.metadata.name.startsWith('ord-') && !names.has(o.metadata.name)) {
        names.add(o.metadata.name);
        const zero = pod('ord-0');
        seen.push(
          `${o.metadata.name}${zero?.status?.conditions?.some((c: Obj) => c.type === 'Ready' && c.status === 'True') ? ' after ord-0 ready' : ''}`,
        );
      }
    };
    sim.api.listeners.add(listener);
    await client.apply(set);
    const ready = (rev?: string) => {
      const s = sim.api.get('apps/v1', 'StatefulSet', NS, 'ord');
      return s?.status?.readyReplicas === 2 &&
        s.status.currentRevision === s.status.updateRevision &&
        (!rev || s.status.updateRevision !== rev)
        ? s
        : undefined;
    };
    const first = await until('2 ready', () => ready(), 30_000);
    expect(seen).toEqual(['ord-0', 'ord-1 after ord-0 ready']);
    expect(sim.api.get('v1', 'PersistentVolumeClaim', NS, 'data-ord-1')?.status?.phase).toBe('Bound');
    expect(first.spec.updateStrategy.rollingUpdate.partition).toBe(0);
    set.spec.template.metadata.labels.rev = '2';
    await client.apply(set);
    const second = await until('new revision current', () => ready(first.status.updateRevision), 30_000);
    sim.api.listeners.delete(listener);
    expect(second.status.updatedReplicas).toBe(2);
    expect(second.status.observedGeneration).toBe(second.metadata.generation);
    for (const n of ['ord-0', 'ord-1'])
      expect(pod(n)!.metadata.labels['controller-revision-hash']).toBe(second.status.updateRevision);
    expect(statefulSetVerdict(second).state).toBe('ready');
  }, 70_000);

  it("a claim of kind's `standard` class stays Pending (WaitForFirstConsumer) until a pod uses it, then is Bound to a local-path PV", async () => {
    await client.apply({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'data', namespace: NS },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    });
    await sleep(400);
    expect(sim.api.get('v1', 'PersistentVolumeClaim', NS, 'data')!.status?.phase ?? 'Pending').toBe(
      'Pending',
    );
    expect(
      sim.api
        .list('v1', 'Event', NS)
        .some((e) => e.involvedObject.name === 'data' && e.reason === 'WaitForFirstConsumer'),
    ).toBe(true);
    await client.apply(
      statefulSet(
        'user',
        { command: ['sh', '-c', 'sleep 100'], volumeMounts: [{ name: 'd', mountPath: '/data' }] },
        { volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'data' } }] },
      ),
    );
    const bound = await until('Bound', () =>
      sim.api.get('v1', 'PersistentVolumeClaim', NS, 'data')?.status?.phase === 'Bound'
        ? sim.api.get('v1', 'PersistentVolumeClaim', NS, 'data')
        : undefined,
    );
    expect(bound.spec.volumeName).toBe(`pvc-${bound.metadata.uid}`);
    expect(
      sim.api.get('v1', 'PersistentVolume', undefined, bound.spec.volumeName)!.spec.storageClassName,
    ).toBe('standard');
  });
});

it('service-link variables and $(VAR) expansion follow envvars.go and expansion.go (pure)', () => {
  const vars = serviceLinkVars({
    metadata: { name: 'nacos-mysql' },
    spec: { clusterIP: '10.96.0.9', ports: [{ name: 'mysql', port: 3306, protocol: 'TCP' }] },
  });
  expect(vars).toEqual({
    NACOS_MYSQL_SERVICE_HOST: '10.96.0.9',
    NACOS_MYSQL_SERVICE_PORT: '3306',
    NACOS_MYSQL_SERVICE_PORT_MYSQL: '3306',
    NACOS_MYSQL_PORT: 'tcp://10.96.0.9:3306',
    NACOS_MYSQL_PORT_3306_TCP: 'tcp://10.96.0.9:3306',
    NACOS_MYSQL_PORT_3306_TCP_PROTO: 'tcp',
    NACOS_MYSQL_PORT_3306_TCP_PORT: '3306',
    NACOS_MYSQL_PORT_3306_TCP_ADDR: '10.96.0.9',
  });
  expect(
    serviceLinkVars({ metadata: { name: 'h' }, spec: { clusterIP: 'None', ports: [{ port: 1 }] } }),
  ).toEqual({});
  const env: Record<string, string> = { POD_NAME: 'etcd-0' };
  expect(expand('http://$(POD_NAME).x:2379 $$(POD_NAME) $(MISSING)', (n) => env[n])).toBe(
    'http://etcd-0.x:2379 $(POD_NAME) $(MISSING)',
  );
});
