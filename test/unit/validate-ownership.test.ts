import { describe, expect, it } from 'vitest';
import type { Stack } from '../../src/catalog/types.ts';
import { ownershipFindings, transitiveDependencies } from '../../src/manifests/ownership.ts';
import type { KubeObject } from '../../src/manifests/render.ts';

// Rule `ownership`: a pod's Secrets, ConfigMaps, PVCs and ServiceAccount must be applied before it.
// Without them the kubelet holds the container in CreateContainerConfigError (kubernetes/kubernetes
// pkg/kubelet/kubelet_pods.go makeEnvironmentVariables, pkg/kubelet/kuberuntime/kuberuntime_container.go).
const stack = {
  components: {
    db: { dependsOn: [] },
    migrate: { dependsOn: ['db'] },
    web: { dependsOn: ['migrate'] },
    cache: { dependsOn: [] },
  },
} as unknown as Pick<Stack, 'components'>;

const obj = (
  kind: string,
  name: string,
  owner?: string,
  extra: Record<string, unknown> = {},
): KubeObject => ({
  apiVersion: 'v1',
  kind,
  metadata: { name, namespace: 'demo', ...(owner ? { labels: { 'app.kubernetes.io/name': owner } } : {}) },
  ...extra,
});
const deployment = (owner: string | undefined, podSpec: Record<string, unknown>) =>
  obj('Deployment', 'app', owner, {
    apiVersion: 'apps/v1',
    spec: { template: { spec: { containers: [{ name: 'c', image: 'x:1' }], ...podSpec } } },
  });
const envFrom = (kind: 'secretRef' | 'configMapRef', name: string) => ({
  containers: [{ name: 'c', image: 'x:1', envFrom: [{ [kind]: { name } }] }],
});
const rules = (objects: KubeObject[]) =>
  ownershipFindings(objects, stack).map((f) => `${f.rule} ${(f.path ?? []).join('.')}`);

describe('ownership: what a workload needs is applied before it', () => {
  it('follows dependencies transitively', () => {
    expect([...transitiveDependencies(stack, 'web')].sort()).toEqual(['db', 'migrate']);
    expect([...transitiveDependencies(stack, 'db')]).toEqual([]);
  });

  it("accepts the workload's own objects, shared (unlabelled) ones and those of a transitive dependency", () => {
    for (const owner of [undefined, 'web', 'migrate', 'db'])
      expect(rules([deployment('web', envFrom('secretRef', 's')), obj('Secret', 's', owner)])).toEqual([]);
  });

  it('reports a Secret of a component that is not a dependency, or that depends on the workload', () => {
    expect(rules([deployment('db', envFrom('secretRef', 's')), obj('Secret', 's', 'web')])).toEqual([
      'ownership spec.template.spec.containers.0.envFrom.0.secretRef.name',
    ]);
    expect(rules([deployment('web', envFrom('configMapRef', 'm')), obj('ConfigMap', 'm', 'cache')])).toEqual([
      'ownership spec.template.spec.containers.0.envFrom.0.configMapRef.name',
    ]);
  });

  it('reports a shared workload that needs a component object, and an object labelled with no component', () => {
    const [shared] = ownershipFindings(
      [deployment(undefined, envFrom('secretRef', 's')), obj('Secret', 's', 'db')],
      stack,
    );
    expect(shared?.message).toMatch(
      /\(shared\): envFrom of container c uses Secret s, which belongs to component db, applied after the shared objects/,
    );
    const [unknown] = ownershipFindings(
      [deployment('db', envFrom('secretRef', 's')), obj('Secret', 's', 'dbb')],
      stack,
    );
    expect(unknown?.message).toMatch(
      /labelled app.kubernetes.io\/name=dbb, not a catalog component, so it is never applied/,
    );
  });

  it('covers env valueFrom, volumes, projected volumes, PVCs, serviceAccountName and imagePullSecrets', () => {
    const pod = {
      serviceAccountName: 'sa',
      imagePullSecrets: [{ name: 'pull' }],
      containers: [
        {
          name: 'c',
          image: 'x:1',
          env: [{ name: 'P', valueFrom: { secretKeyRef: { name: 'env', key: 'k' } } }],
        },
      ],
      volumes: [
        { name: 'v1', configMap: { name: 'vol' } },
        { name: 'v2', projected: { sources: [{ secret: { name: 'proj' } }] } },
        { name: 'v3', persistentVolumeClaim: { claimName: 'claim' } },
      ],
    };
    const objects = [
      deployment('db', pod),
      obj('Secret', 'env', 'web', { stringData: { k: 'v' } }),
      obj('ConfigMap', 'vol', 'web'),
      obj('Secret', 'proj', 'web'),
      obj('PersistentVolumeClaim', 'claim', 'web'),
      obj('ServiceAccount', 'sa', 'web'),
      obj('Secret', 'pull', 'web'),
    ];
    expect(rules(objects).sort()).toEqual(
      [
        'ownership spec.template.spec.containers.0.env.0.valueFrom.secretKeyRef.name',
        'ownership spec.template.spec.volumes.0.configMap.name',
        'ownership spec.template.spec.volumes.1.projected.sources.0.secret.name',
        'ownership spec.template.spec.volumes.2.persistentVolumeClaim.claimName',
        'ownership spec.template.spec.serviceAccountName',
        'ownership spec.template.spec.imagePullSecrets.0.name',
      ].sort(),
    );
  });

  it('ignores optional references (the kubelet starts the pod without them)', () => {
    const pod = {
      containers: [{ name: 'c', image: 'x:1', envFrom: [{ secretRef: { name: 's', optional: true } }] }],
    };
    expect(rules([deployment('db', pod), obj('Secret', 's', 'web')])).toEqual([]);
  });
});
