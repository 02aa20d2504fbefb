import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadStack, resolveSelection } from '../../src/catalog/index.ts';
import { podTemplate } from '../../src/manifests/objects.ts';
import { requiredObjects } from '../../src/manifests/ownership.ts';
import type { KubeObject } from '../../src/manifests/render.ts';
import { renderChecked } from '../../src/manifests/validate.ts';
import { evaluateComponent, liveKey, type Snapshot } from '../../src/plan/component.ts';
import { describeDoc, diagnosticsFor, rolloutError, sortEvents } from '../../src/plan/diagnostics.ts';
import { buildPlan, planSequence } from '../../src/plan/order.ts';
import { exitCodeOf, UsageError } from '../../src/util/errors.ts';
import { runCli } from '../harness/cli.ts';
import { docs, stage } from './plan-fixtures.ts';
import { brokenStack, describeWithKubectl, GOOD } from './validate-helpers.ts';

const stack = loadStack('manifests/stack.yaml');
const rendered = docs('rendered-minimal.yaml') as KubeObject[];

describe('buildPlan (real catalog, rendered fixture)', () => {
  const plan = buildPlan(stack, resolveSelection(stack, 'minimal'), rendered);
  const seq = planSequence(plan).map((s) => `${s.component}:${s.object.kind}/${s.object.metadata.name}`);
  const at = (entry: string) => {
    const i = seq.indexOf(entry);
    expect(i, `${entry} in ${seq.join(' ')}`).toBeGreaterThanOrEqual(0);
    return i;
  };

  it('applies unlabelled shared objects (the Namespace) first', () => {
    expect(seq[0]).toBe('(shared):Namespace/voiceassistant-infra');
  });
  it('orders a component namespace → secrets/config → storage → services → workloads → jobs', () => {
    const minio = plan.waves.flat().find((c) => c.name === 'minio')!;
    expect(minio.objects.map((o) => o.kind)).toEqual([
      'Secret',
      'PersistentVolumeClaim',
      'Service',
      'StatefulSet',
      'Job',
    ]);
    const milvus = plan.waves.flat().find((c) => c.name === 'milvus')!;
    expect(milvus.objects.map((o) => o.kind)).toEqual([
      'ServiceAccount',
      'ConfigMap',
      'Service',
      'StatefulSet',
    ]);
  });
  it('puts etcd and minio in an earlier wave than milvus', () => {
    const wave = (n: string) => plan.waves.findIndex((w) => w.some((c) => c.name === n));
    expect(wave('etcd')).toBeLessThan(wave('milvus'));
    expect(wave('minio')).toBeLessThan(wave('milvus'));
    expect(at('etcd:StatefulSet/etcd')).toBeLessThan(at('milvus:StatefulSet/milvus'));
    expect(plan.waves.flat().find((c) => c.name === 'milvus')!.dependsOn).toEqual(['etcd', 'minio']);
  });
  it('waits on workloads, PVCs and selector Services; defaults the namespace', () => {
    const minio = plan.waves.flat().find((c) => c.name === 'minio')!;
    expect(minio.waitFor.map((t) => `${t.kind}/${t.name}@${t.namespace}`)).toEqual([
      'PersistentVolumeClaim/minio-data@voiceassistant-infra',
      'Service/minio@voiceassistant-infra',
      'StatefulSet/minio@voiceassistant-infra',
      'Job/minio-create-buckets@voiceassistant-infra',
    ]);
  });
  it('leaves out objects of unselected components and warns about unknown labels and missing workloads', () => {
    const selected = buildPlan(stack, resolveSelection(stack, 'postgres'), rendered);
    expect(planSequence(selected).map((s) => s.component)).toEqual([
      '(shared)',
      'postgres',
      'postgres',
      'postgres',
      'postgres',
    ]);
    expect(plan.warnings.join('\n')).toMatch(/not-a-component/);
    expect(plan.warnings.join('\n')).toMatch(
      /redis: catalog workload StatefulSet\/redis is not in the rendered manifests/,
    );
  });
  it('full profile: elasticsearch before jaeger', () => {
    const full = buildPlan(stack, resolveSelection(stack, 'full'), rendered);
    const wave = (n: string) => full.waves.findIndex((w) => w.some((c) => c.name === n));
    expect(wave('elasticsearch')).toBeLessThan(wave('jaeger'));
    expect(wave('nacos-mysql')).toBeLessThan(wave('nacos'));
  });
});

function snapshot(objects: Record<string, unknown>[], extra: Partial<Snapshot> = {}): Snapshot {
  const map = new Map<string, Record<string, unknown>>();
  for (const o of objects as { kind: string; metadata: { namespace: string; name: string } }[])
    map.set(liveKey(o.kind, o.metadata.namespace, o.metadata.name), o);
  return {
    objects: map,
    deleted: new Set(),
    pods: [],
    endpointSlices: [],
    events: [],
    storageClasses: [],
    ...extra,
  };
}
const NS = 'voiceassistant-infra';
const t = (kind: string, name: string, apiVersion = 'v1') => ({ kind, name, namespace: NS, apiVersion });
const now = Date.parse('2026-10-01T10:00:05Z');

describe('evaluateComponent', () => {
  const sts = t('StatefulSet', 'milvus', 'apps/v1');
  const svc = t('Service', 'milvus');
  const milvusSts = () => {
    const s = stage('statefulset.yaml', 'ready');
    s.metadata.name = 'milvus';
    s.spec.selector = { matchLabels: { 'app.kubernetes.io/name': 'milvus' } };
    return s;
  };
  it('is ready when the workload is ready and the Service has ready endpoints', () => {
    const snap = snapshot([milvusSts(), stage('endpointslice.yaml', 'service')], {
      endpointSlices: [stage('endpointslice.yaml', 'ready')],
      pods: [stage('pod.yaml', 'ready')],
    });
    expect(evaluateComponent([sts, svc], snap, { now }).state).toBe('ready');
  });
  it('fails fast from a pod even while the workload only looks progressing', () => {
    const starting = stage('statefulset.yaml', 'pod-starting');
    starting.metadata.name = 'milvus';
    starting.spec.selector = { matchLabels: { 'app.kubernetes.io/name': 'milvus' } };
    const v = evaluateComponent(
      [sts],
      // a NotFound pull error: permanent, so it fails without waiting for the pull grace period
      snapshot([starting], { pods: [stage('pod.yaml', 'err-image-pull')] }),
      { now },
    );
    expect(v.state).toBe('failed');
    expect(v.reasons[0]).toMatch(/StatefulSet\/milvus: ErrImagePull: pod milvus-0 container milvus/);
    expect(v.failedPods).toEqual(['milvus-0']);
  });
  it('ignores pods the selector does not match', () => {
    const v = evaluateComponent(
      [sts],
      snapshot([milvusSts()], { pods: [stage('pod.yaml', 'create-container-config-error')] }),
      {
        now,
      },
    );
    expect(v.state).toBe('ready');
  });
  it('a deleted workload is an error; a not-yet-seen one is progressing', () => {
    expect(evaluateComponent([sts], snapshot([]), { now })).toMatchObject({
      state: 'progressing',
      reasons: [/not found yet/],
    });
    const deleted = snapshot([], { deleted: new Set([liveKey('StatefulSet', NS, 'milvus')]) });
    expect(evaluateComponent([sts], deleted, { now })).toMatchObject({
      state: 'failed',
      reasons: [/Deleted: .*was deleted/],
    });
  });
  it('checks PVCs after workloads: WaitForFirstConsumer is a note once the workloads are ready, blocking before', () => {
    const pvc = t('PersistentVolumeClaim', 'grafana-data');
    const claim = stage('storage.yaml', 'pending-first-consumer');
    const sc = [stage('storage.yaml', 'kind-standard')];
    const ready = evaluateComponent([sts, pvc], snapshot([milvusSts(), claim], { storageClasses: sc }), {
      now,
    });
    expect(ready.state).toBe('ready');
    expect(ready.notes).toEqual([
      'PersistentVolumeClaim/grafana-data: pvc grafana-data Pending, waiting for first consumer',
    ]);
    const starting = stage('statefulset.yaml', 'pod-starting');
    starting.metadata.name = 'milvus';
    const before = evaluateComponent([sts, pvc], snapshot([starting, claim], { storageClasses: sc }), {
      now,
    });
    expect(before.state).toBe('progressing');
  });
  it('a Job whose pod failed once is still progressing (retries), but fails on its Failed condition', () => {
    const job = t('Job', 'minio-create-buckets', 'batch/v1');
    const failedPod = stage('pod.yaml', 'succeeded');
    failedPod.status.phase = 'Failed';
    expect(
      evaluateComponent([job], snapshot([stage('job.yaml', 'running')], { pods: [failedPod] }), { now })
        .state,
    ).toBe('progressing');
    expect(evaluateComponent([job], snapshot([stage('job.yaml', 'failed')]), { now }).state).toBe('failed');
  });
});

describe('diagnostics decisions', () => {
  it('describes failing objects and their pods; current logs for started containers, previous after restarts', () => {
    const s = stage('statefulset.yaml', 'pod-starting');
    s.metadata.name = 'milvus';
    s.spec.selector = { matchLabels: { 'app.kubernetes.io/name': 'milvus' } };
    const snap = snapshot([s], { pods: [stage('pod.yaml', 'crashloop')] });
    const verdict = evaluateComponent([t('StatefulSet', 'milvus', 'apps/v1')], snap, { now });
    const req = diagnosticsFor([{ name: 'milvus', verdict, elapsedMs: 4000 }], snap);
    expect(req.describe.map((d) => `${d.kind}/${d.name}`)).toEqual(['StatefulSet/milvus', 'Pod/milvus-0']);
    expect(req.logs).toEqual([{ namespace: NS, pod: 'milvus-0', container: 'milvus', previous: true }]);
    const running = snapshot([s], { pods: [stage('pod.yaml', 'running-not-ready')] });
    expect(diagnosticsFor([{ name: 'milvus', verdict, elapsedMs: 1 }], running).logs).toEqual([
      { namespace: NS, pod: 'milvus-0', container: 'milvus', previous: false },
    ]);
  });
  it('sorts events oldest first and attaches them to the described object', () => {
    const later = stage('storage.yaml', 'event-provisioning-failed');
    const earlier = stage('storage.yaml', 'event-wait-for-first-consumer');
    expect(sortEvents([later, earlier]).map((e) => e.reason)).toEqual([
      'WaitForFirstConsumer',
      'ProvisioningFailed',
    ]);
    const doc = describeDoc(
      {
        ...stage('storage.yaml', 'pending-provisioning'),
        metadata: { name: 'grafana-data', managedFields: [{}] },
      },
      [later, earlier],
    );
    expect(doc.metadata.managedFields).toBeUndefined();
    expect(doc.events).toHaveLength(2);
    expect(doc.events[1]).toMatch(/ProvisioningFailed/);
  });
  it('one aggregated error names each failed component and why', () => {
    const err = rolloutError(
      [
        {
          name: 'milvus',
          verdict: {
            state: 'failed',
            reasons: ['StatefulSet/milvus: CrashLoopBackOff: x'],
            notes: [],
            targets: [],
            failedPods: [],
          },
          elapsedMs: 3000,
        },
        {
          name: 'nacos',
          verdict: {
            state: 'progressing',
            reasons: ['StatefulSet/nacos: 0 of 1 replicas ready'],
            notes: [],
            targets: [],
            failedPods: [],
          },
          elapsedMs: 300_000,
          timedOut: true,
        },
      ],
      '/tmp/diag',
    );
    expect(err.exitCode).toBe(1);
    expect(err.message).toMatch(/2 component\(s\) failed to become ready \(diagnostics in \/tmp\/diag\)/);
    expect(err.problems).toEqual([
      'milvus: StatefulSet/milvus: CrashLoopBackOff: x',
      'nacos: not ready after 5m00s: StatefulSet/nacos: 0 of 1 replicas ready',
    ]);
  });
});

// Issue #11 item 19: plan and deploy (app planStack → renderChecked) refuse what validate refuses.
describeWithKubectl('renderChecked: the validity pass plan and deploy share with validate', () => {
  it('refuses a catalog naming a missing manifest file: exit 2, with the catalog file:line', async () => {
    const broken = brokenStack([
      {
        file: 'stack.yaml',
        find: 'manifests: [base/db.yaml]',
        replace: 'manifests: [base/db.yaml, base/db-backup.yaml]',
      },
    ]);
    try {
      const err = await renderChecked(broken.catalog, 'kind').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(UsageError);
      expect(exitCodeOf(err)).toBe(2);
      expect((err as Error).message).toContain(
        `${join(broken.dir, 'stack.yaml')}:28: error: component "db" lists manifest base/db-backup.yaml, which does not exist [catalog-manifest]`,
      );
      expect((err as Error).message).toMatch(/nothing was planned or applied/);
    } finally {
      broken.cleanup();
    }
  });
  it('refuses a class-rule error in the manifests (service links on) with the manifest file:line', async () => {
    const broken = brokenStack([
      {
        file: 'base/web.yaml',
        find: '    spec:\n      enableServiceLinks: false\n      containers:',
        replace: '    spec:\n      containers:',
      },
    ]);
    try {
      await expect(renderChecked(broken.catalog, 'kind')).rejects.toThrow(
        /base\/web\.yaml:60: error: Deployment web: set enableServiceLinks: false .*\[service-links\]/,
      );
    } finally {
      broken.cleanup();
    }
  });
  it('returns the rendered objects of a valid stack (warnings pass)', async () => {
    const objects = await renderChecked(`${GOOD}/stack.yaml`, 'kind');
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toContain('Deployment/web');
    expect(objects).toHaveLength(9);
  });
});

// Issue #11 "Done when": `kindling plan --profile full` applies every object a workload needs (its
// Secrets, ConfigMaps, PVCs, ServiceAccount) before the workload, on both sizings — else the kubelet
// holds the pod in CreateContainerConfigError (pkg/kubelet/kubelet_pods.go makeEnvironmentVariables).
// Components of one wave are applied in parallel, so "before" means: shared, an earlier wave, or
// earlier within the workload's own component. Production is planned with real-looking secrets
// written into overlays/production/secrets, as manifests/README.md says (the placeholders are refused).
describeWithKubectl('plan --profile full: every referenced object before the workload that needs it', () => {
  const copy = mkdtempSync(join(tmpdir(), 'kindling-plan-full-'));
  cpSync('manifests', copy, { recursive: true });
  const secrets = join(copy, 'overlays/production/secrets');
  for (const f of readdirSync(secrets).filter((f) => f.endsWith('.env')))
    writeFileSync(
      join(secrets, f),
      readFileSync(join(secrets, f), 'utf8').replace(
        /^(\w*PASSWORD)=.*$/gm,
        (_, k) => `${k}=plan-test-${k.length}-Xq9v`,
      ),
    );
  afterAll(() => rmSync(copy, { recursive: true, force: true }));

  for (const sizing of ['kind', 'production'])
    it(`${sizing}: Secrets, ConfigMaps, PVCs and ServiceAccounts come first`, async () => {
      const stack = loadStack(join(copy, 'stack.yaml'));
      const rendered = await renderChecked(stack.file, sizing);
      const plan = buildPlan(stack, resolveSelection(stack, 'full'), rendered);
      const waveOf = new Map<string, number>();
      const indexIn = new Map<string, { component: string; index: number }>();
      const key = (kind: string, name: string) => `${kind}/${name}`;
      for (const o of plan.shared)
        indexIn.set(key(o.kind, o.metadata.name), { component: '(shared)', index: -1 });
      plan.waves.forEach((wave, w) => {
        for (const c of wave) {
          waveOf.set(c.name, w);
          c.objects.forEach((o, index) => {
            indexIn.set(key(o.kind, o.metadata.name), { component: c.name, index });
          });
        }
      });
      let workloads = 0;
      let refs = 0;
      for (const c of plan.waves.flat())
        c.objects.forEach((o, index) => {
          const t = podTemplate(o);
          if (!t) return;
          workloads++;
          for (const r of requiredObjects(t)) {
            if (r.optional) continue;
            refs++;
            const at = indexIn.get(key(r.kind, r.name));
            const where = `${c.name}: ${o.kind}/${o.metadata.name} needs ${r.kind}/${r.name}`;
            expect(at, `${where}, which the plan does not apply`).toBeDefined();
            const before =
              at!.component === '(shared)' ||
              (at!.component === c.name
                ? at!.index < index
                : waveOf.get(at!.component)! < waveOf.get(c.name)!);
            expect(
              before,
              `${where}, applied in ${at!.component} (wave ${waveOf.get(at!.component)}), not before it`,
            ).toBe(true);
          }
        });
      expect(workloads).toBeGreaterThanOrEqual(18);
      expect(refs).toBeGreaterThan(20);
    });
});

describeWithKubectl(
  'kindling plan and deploy refuse a catalog naming a missing manifest (CLI, exit 2)',
  () => {
    const broken = brokenStack([
      {
        file: 'stack.yaml',
        find: 'manifests: [base/db.yaml]',
        replace: 'manifests: [base/db.yaml, base/db-backup.yaml]',
      },
    ]);
    afterAll(() => broken.cleanup());
    const expected = `${join(broken.dir, 'stack.yaml')}:28: error: component "db" lists manifest base/db-backup.yaml, which does not exist [catalog-manifest]`;

    it('plan', async () => {
      const r = await runCli(['plan', '--catalog', broken.catalog, '--profile', 'minimal']);
      expect(r.code).toBe(2);
      expect(r.err).toContain(expected);
      expect(r.out).toBe('');
    });
    it('deploy, before any request to the cluster (its API server is a port nothing listens on)', async () => {
      const kubeconfig = join(broken.dir, 'kubeconfig');
      writeFileSync(
        kubeconfig,
        'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "http://127.0.0.1:9"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n',
      );
      const r = await runCli([
        'deploy',
        '--catalog',
        broken.catalog,
        '--profile',
        'minimal',
        '--kubeconfig',
        kubeconfig,
      ]);
      expect(r.code).toBe(2);
      expect(r.err).toContain(expected);
      expect(r.err).not.toMatch(/127\.0\.0\.1:9|ECONNREFUSED/);
    });
  },
);
