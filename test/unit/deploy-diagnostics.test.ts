// Diagnostics collection and the Cluster contract's reads, against the Kubernetes API stand-in.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient } from '../../src/kube/client.ts';
import { exitCodeOfStatus, KubeCluster } from '../../src/kube/cluster.ts';
import { collectDiagnostics } from '../../src/kube/diagnostics.ts';
import { ClusterWatch, waitForComponent } from '../../src/kube/wait.ts';
import { KubeApiStandin } from '../standins/kube-api.ts';
import { stage } from './plan-fixtures.ts';

const NS = 'voiceassistant-infra';

describe('diagnostics and Cluster reads against the API stand-in', () => {
  const api = new KubeApiStandin();
  beforeAll(async () => {
    await api.start();
    api.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    api.put({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'postgres-secret', namespace: NS },
      data: { POSTGRES_PASSWORD: Buffer.from('s3cret-pw').toString('base64') },
    });
    const sts = stage('statefulset.yaml', 'pod-starting');
    sts.metadata = { name: 'milvus', namespace: NS, generation: 1 };
    sts.spec.selector = { matchLabels: { 'app.kubernetes.io/name': 'milvus' } };
    api.put(sts);
    api.put(stage('pod.yaml', 'crashloop'));
    api.put({ ...stage('storage.yaml', 'kind-standard') });
    api.put({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'kindling-control-plane' },
      status: { conditions: [{ type: 'DiskPressure', status: 'True', reason: 'KubeletHasDiskPressure' }] },
    });
    api.put({ ...stage('storage.yaml', 'event-provisioning-failed') });
    api.put({ ...stage('storage.yaml', 'event-wait-for-first-consumer') });
    api.logs.set(`${NS}/milvus-0/milvus/true`, 'panic: failed to connect to etcd password=s3cret-pw\n');
  });
  afterAll(() => api.stop());

  it('writes events sorted by time, describe YAML, previous logs, storage and nodes — with secrets redacted', async () => {
    const client = new KubeClient(api.kubeConfig());
    const watch = new ClusterWatch(client);
    const target = { apiVersion: 'apps/v1', kind: 'StatefulSet', namespace: NS, name: 'milvus' };
    await watch.ensure([target]);
    const outcome = await waitForComponent('milvus', [target], watch, { timeoutMs: 5000 });
    expect(outcome.verdict.state).toBe('failed');
    const cluster = new KubeCluster(api.kubeConfig());
    const { addSecret } = await import('../../src/util/redact.ts');
    addSecret(await cluster.readSecret(NS, 'postgres-secret', 'POSTGRES_PASSWORD'));
    const dir = mkdtempSync(join(tmpdir(), 'kindling-diag-'));
    const files = await collectDiagnostics(dir, client, [outcome], watch.snapshot(), [NS], 'milvus failed');
    await watch.stop();
    expect(files).toEqual(
      expect.arrayContaining([
        'summary.txt',
        'events.txt',
        'describe/StatefulSet-milvus.yaml',
        'describe/Pod-milvus-0.yaml',
        'logs/milvus-0_milvus.previous.log',
        'storage.yaml',
        'nodes.yaml',
      ]),
    );
    const events = readFileSync(join(dir, 'events.txt'), 'utf8').trim().split('\n');
    expect(events[0]).toMatch(/WaitForFirstConsumer/);
    expect(events[1]).toMatch(/ProvisioningFailed/);
    expect(readFileSync(join(dir, 'logs/milvus-0_milvus.previous.log'), 'utf8')).toBe(
      'panic: failed to connect to etcd password=***\n',
    );
    expect(readFileSync(join(dir, 'describe/Pod-milvus-0.yaml'), 'utf8')).toMatch(/CrashLoopBackOff/);
    expect(readFileSync(join(dir, 'nodes.yaml'), 'utf8')).toMatch(/DiskPressure/);
    expect(readFileSync(join(dir, 'storage.yaml'), 'utf8')).toMatch(
      /volumeBindingMode: WaitForFirstConsumer/,
    );
    // the current log was not requested: the container is waiting, not running
    expect(readdirSync(join(dir, 'logs'))).toEqual(['milvus-0_milvus.previous.log']);
  });

  it('Cluster: readSecret decodes a key, undefined for a missing key or Secret; lists namespace objects', async () => {
    const cluster = new KubeCluster(api.kubeConfig());
    expect(await cluster.readSecret(NS, 'postgres-secret', 'POSTGRES_PASSWORD')).toBe('s3cret-pw');
    expect(await cluster.readSecret(NS, 'postgres-secret', 'NOPE')).toBeUndefined();
    expect(await cluster.readSecret(NS, 'missing', 'X')).toBeUndefined();
    expect((await cluster.listPods(NS)).map((p) => p.metadata?.name)).toEqual(['milvus-0']);
    expect(await cluster.listPersistentVolumeClaims(NS)).toEqual([]);
  });

  it('exec exit status from the V1Status on channel 3', () => {
    expect(exitCodeOfStatus({ status: 'Success' })).toBe(0);
    expect(
      exitCodeOfStatus({
        status: 'Failure',
        reason: 'NonZeroExitCode',
        details: { causes: [{ reason: 'ExitCode', message: '3' }] },
      }),
    ).toBe(3);
    expect(exitCodeOfStatus({ status: 'Failure', message: 'container not found' })).toBe(1);
  });
});

describe('diagnostics degrade under RBAC instead of aborting (stand-in RBAC rules)', () => {
  it('events and logs forbidden: the rest is written, each refusal recorded with its 403 message', async () => {
    const resources = [
      'namespaces',
      'pods',
      'statefulsets',
      'persistentvolumeclaims',
      'persistentvolumes',
      'storageclasses',
      'nodes',
      'services',
      'endpointslices',
    ];
    const api = await new KubeApiStandin({
      rbac: { user: 'ci', rules: [{ verbs: ['get', 'list', 'watch'], apiGroups: ['*'], resources }] },
    }).start();
    try {
      api.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
      const sts = stage('statefulset.yaml', 'pod-starting');
      sts.metadata = { name: 'milvus', namespace: NS, generation: 1 };
      sts.spec.selector = { matchLabels: { 'app.kubernetes.io/name': 'milvus' } };
      api.put(sts);
      api.put(stage('pod.yaml', 'crashloop'));
      const client = new KubeClient(api.kubeConfig());
      const watch = new ClusterWatch(client);
      const target = { apiVersion: 'apps/v1', kind: 'StatefulSet', namespace: NS, name: 'milvus' };
      await watch.ensure([target]); // the Event cache is refused: a note, not an error
      expect(watch.degraded.join('\n')).toMatch(/cannot watch Event/);
      const outcome = await waitForComponent('milvus', [target], watch, { timeoutMs: 5000 });
      const dir = mkdtempSync(join(tmpdir(), 'kindling-diag-'));
      const files = await collectDiagnostics(dir, client, [outcome], watch.snapshot(), [NS], 'milvus failed');
      await watch.stop();
      expect(files).toEqual(
        expect.arrayContaining(['summary.txt', 'events.txt', 'describe/Pod-milvus-0.yaml']),
      );
      const errors = readdirSync(join(dir, 'errors'));
      expect(errors).toEqual(expect.arrayContaining([`events_${NS}.txt`]));
      expect(readFileSync(join(dir, 'errors', `events_${NS}.txt`), 'utf8')).toMatch(
        /events is forbidden: User "ci" cannot list resource "events".*HTTP 403 Forbidden/,
      );
      expect(errors.some((e) => e.startsWith('logs_'))).toBe(true);
    } finally {
      await api.stop();
    }
  });
});
