import { afterAll, expect, it } from 'vitest';
import { validateStack } from '../../src/manifests/validate.ts';
import type { Problem } from '../../src/util/problem.ts';
import { brokenStack, describeWithKubectl, type Edit, GOOD, relativeTo } from './validate-helpers.ts';

// Each case breaks the valid fixture stack in one way and names the problem validate must
// report: file (relative to the stack), line, rule, severity and the words of the message.
interface Case {
  name: string;
  sizing?: 'kind' | 'production';
  edits: Edit[];
  expect: { file: string; line: number; rule: string; message: string; severity?: Problem['severity'] };
}

const SECRET_ENV = 'secretKeyRef:\n                  name: db-secret\n                  key: DB_PASSWORD';

const cases: Case[] = [
  {
    name: 'YAML syntax error',
    edits: [
      {
        file: 'base/db.yaml',
        find: '    matchLabels:\n      app: db\n',
        replace: '    matchLabels:\n      app: db: x\n',
      },
    ],
    expect: {
      file: 'base/db.yaml',
      line: 37,
      rule: 'yaml-syntax',
      message: 'Nested mappings are not allowed',
    },
  },
  {
    name: 'wrong type',
    edits: [{ file: 'base/db.yaml', find: 'replicas: 1', replace: 'replicas: one' }],
    expect: {
      file: 'base/db.yaml',
      line: 34,
      rule: 'schema',
      message: 'StatefulSet db: spec.replicas must be integer, got "one"',
    },
  },
  {
    name: 'unknown field',
    edits: [{ file: 'base/db.yaml', find: 'serviceName: db', replace: 'serviceNam: db' }],
    expect: {
      file: 'base/db.yaml',
      line: 33,
      rule: 'unknown-field',
      message: 'StatefulSet db: unknown field "spec.serviceNam" (did you mean "serviceName"?)',
    },
  },
  {
    name: 'unknown field deep in a container',
    edits: [{ file: 'base/db.yaml', find: 'periodSeconds: 5', replace: 'periodSecond: 5' }],
    expect: {
      file: 'base/db.yaml',
      line: 81,
      rule: 'unknown-field',
      message: 'unknown field "spec.template.spec.containers[0].readinessProbe.periodSecond"',
    },
  },
  {
    name: 'missing required field',
    edits: [{ file: 'base/web.yaml', find: '      port: 80\n', replace: '' }],
    expect: {
      file: 'base/web.yaml',
      line: 41,
      rule: 'schema',
      message: 'Service web: spec.ports[0]: missing required field "port"',
    },
  },
  {
    name: 'invalid quantity',
    sizing: 'production',
    edits: [{ file: 'base/db.yaml', find: 'cpu: 500m', replace: 'cpu: lots' }],
    expect: {
      file: 'base/db.yaml',
      line: 73,
      rule: 'schema',
      message:
        'spec.template.spec.containers[0].resources.requests.cpu must be a quantity such as 500m, 2 or 1Gi, got "lots"',
    },
  },
  {
    name: 'unknown kind',
    sizing: 'production',
    edits: [{ file: 'base/db.yaml', find: 'kind: StatefulSet', replace: 'kind: StatefulSett' }],
    expect: {
      file: 'base/db.yaml',
      line: 28,
      rule: 'schema',
      message: 'unknown kind: Kubernetes has no StatefulSett in apps/v1',
    },
  },
  {
    name: 'not a Kubernetes object',
    edits: [
      {
        file: 'base/web.yaml',
        find: '                  name: web-config\n',
        replace: '                  name: web-config\n---\nfoo: bar\n',
      },
    ],
    expect: { file: 'base/web.yaml', line: 116, rule: 'schema', message: 'not a Kubernetes object' },
  },
  {
    name: 'Service selector matches no workload',
    edits: [
      {
        file: 'base/web.yaml',
        find: '  selector:\n    app: web\n  ports',
        replace: '  selector:\n    app: webb\n  ports',
      },
    ],
    expect: {
      file: 'base/web.yaml',
      line: 38,
      rule: 'service-selector',
      message: "Service web selects app=webb, but no workload's pod template has these labels",
    },
  },
  {
    name: 'missing Secret',
    edits: [
      { file: 'base/web.yaml', find: SECRET_ENV, replace: SECRET_ENV.replace('db-secret', 'db-secrets') },
    ],
    expect: {
      file: 'base/web.yaml',
      line: 75,
      rule: 'missing-reference',
      message:
        'Deployment web (env DB_PASSWORD of container web) uses Secret db-secrets, which is not in the stack',
    },
  },
  {
    name: 'missing Secret key',
    edits: [{ file: 'base/db.yaml', find: 'key: DB_USER', replace: 'key: DB_USERNAME' }],
    expect: {
      file: 'base/db.yaml',
      line: 65,
      rule: 'missing-reference',
      message: 'uses key "DB_USERNAME" of Secret db-secret, which has no such key',
    },
  },
  {
    name: 'missing ConfigMap in envFrom',
    edits: [
      {
        file: 'base/web.yaml',
        find: 'configMapRef:\n                name: web-config',
        replace: 'configMapRef:\n                name: web-conf',
      },
    ],
    expect: {
      file: 'base/web.yaml',
      line: 70,
      rule: 'missing-reference',
      message: 'Deployment web (envFrom of container web) uses ConfigMap web-conf, which is not in the stack',
    },
  },
  {
    name: 'missing key in a configMap volume',
    edits: [{ file: 'base/web.yaml', find: '- key: site.conf', replace: '- key: nginx.conf' }],
    expect: {
      file: 'base/web.yaml',
      line: 106,
      rule: 'missing-reference',
      message:
        'Deployment web (volume conf) uses key "nginx.conf" of ConfigMap web-config, which has no such key',
    },
  },
  {
    name: 'wrong numeric targetPort',
    edits: [{ file: 'base/web.yaml', find: 'targetPort: 8080', replace: 'targetPort: 8081' }],
    expect: {
      file: 'base/web.yaml',
      line: 43,
      rule: 'service-port',
      message:
        'Service web port 80 targets port 8081, which no container of Deployment web declares (they declare http/8080)',
    },
  },
  {
    name: 'wrong named targetPort',
    edits: [{ file: 'base/db.yaml', find: 'targetPort: sql', replace: 'targetPort: postgres' }],
    expect: {
      file: 'base/db.yaml',
      line: 25,
      rule: 'service-port',
      message:
        'Service db port 5432 targets port name "postgres", which no container of StatefulSet db declares',
    },
  },
  {
    name: 'duplicate object',
    edits: [
      {
        file: 'base/web.yaml',
        find: '                  name: web-config\n',
        replace:
          '                  name: web-config\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\n  namespace: demo\n',
      },
    ],
    expect: {
      file: 'base/web.yaml',
      line: 116,
      rule: 'duplicate',
      message: 'duplicate object: ConfigMap demo/web-config is also defined at',
    },
  },
  {
    name: 'wrong namespace',
    edits: [
      {
        file: 'base/db.yaml',
        find: '  name: db-secret\n  namespace: demo',
        replace: '  name: db-secret\n  namespace: other',
      },
    ],
    expect: {
      file: 'base/db.yaml',
      line: 5,
      rule: 'namespace',
      message: 'Secret db-secret is in namespace "other", not the stack\'s "demo"',
    },
  },
  {
    name: 'no namespace',
    edits: [{ file: 'base/web.yaml', find: '  namespace: demo\ndata:', replace: 'data:' }],
    expect: {
      file: 'base/web.yaml',
      line: 3,
      rule: 'namespace',
      message: 'ConfigMap web-config has no namespace; it must be in "demo"',
    },
  },
  {
    name: 'Namespace object with another name',
    edits: [{ file: 'base/namespace.yaml', find: 'name: demo', replace: 'name: demo2' }],
    expect: {
      file: 'base/namespace.yaml',
      line: 4,
      rule: 'namespace',
      message: 'Namespace demo2 is not the stack\'s namespace "demo"',
    },
  },
  {
    name: 'image tag latest',
    edits: [{ file: 'base/web.yaml', find: 'image: nginx:1.27.2', replace: 'image: nginx:latest' }],
    expect: {
      file: 'base/web.yaml',
      line: 64,
      rule: 'image-tag',
      message: 'container web of Deployment web: image "nginx:latest" uses the tag "latest" (pin a version)',
    },
  },
  {
    name: 'untagged image',
    edits: [{ file: 'base/db.yaml', find: 'image: busybox:1.36', replace: 'image: busybox' }],
    expect: {
      file: 'base/db.yaml',
      line: 46,
      rule: 'image-tag',
      message: 'init container init-perms of StatefulSet db: image "busybox" has no tag',
    },
  },
  {
    name: 'missing liveness probe',
    edits: [
      {
        file: 'base/web.yaml',
        find: '          livenessProbe:\n            httpGet:\n              path: /healthz\n              port: 8080\n',
        replace: '',
      },
    ],
    expect: {
      file: 'base/web.yaml',
      line: 63,
      rule: 'probes',
      message: 'container web of Deployment web has no livenessProbe',
    },
  },
  {
    name: 'missing probe on a container an overlay patches: points at the base',
    edits: [
      {
        file: 'base/db.yaml',
        find: '          readinessProbe:\n            exec:\n              command: [pg_isready, -U, app]\n            periodSeconds: 5\n',
        replace: '',
      },
    ],
    expect: {
      file: 'base/db.yaml',
      line: 55,
      rule: 'probes',
      message: 'container db of StatefulSet db has no readinessProbe',
    },
  },
  {
    name: 'missing limits on an init container',
    edits: [{ file: 'base/db.yaml', find: '            limits: { cpu: 100m, memory: 32Mi }\n', replace: '' }],
    expect: {
      file: 'base/db.yaml',
      line: 48,
      rule: 'resources',
      message:
        'init container init-perms of StatefulSet db has no resources.limits.cpu, resources.limits.memory',
    },
  },
  {
    name: 'missing requests on a Job container',
    edits: [
      { file: 'base/web.yaml', find: '            requests: { cpu: 50m, memory: 64Mi }\n', replace: '' },
    ],
    expect: {
      file: 'base/web.yaml',
      line: 28,
      rule: 'resources',
      message: 'container migrate of Job migrate has no resources.requests.cpu, resources.requests.memory',
    },
  },
  {
    name: 'default password under production',
    sizing: 'production',
    edits: [
      {
        file: 'base/web.yaml',
        find: 'ADMIN_PASSWORD: fixture-only-Hn4c',
        replace: 'ADMIN_PASSWORD: changeme',
      },
    ],
    expect: {
      file: 'base/web.yaml',
      line: 124,
      rule: 'default-credential',
      severity: 'error',
      message:
        "Secret web-secret: stringData.ADMIN_PASSWORD is a default credential published in the seed's README",
    },
  },
  {
    name: 'default password under kind is a warning',
    sizing: 'kind',
    edits: [
      {
        file: 'base/web.yaml',
        find: 'ADMIN_PASSWORD: fixture-only-Hn4c',
        replace: 'ADMIN_PASSWORD: changeme',
      },
    ],
    expect: {
      file: 'base/web.yaml',
      line: 124,
      rule: 'default-credential',
      severity: 'warning',
      message: 'stringData.ADMIN_PASSWORD is a default credential',
    },
  },
  {
    name: 'default password base64-encoded in data',
    sizing: 'production',
    edits: [
      {
        file: 'base/web.yaml',
        find: 'stringData:\n  ADMIN_USER: webadmin\n  ADMIN_PASSWORD: fixture-only-Hn4c',
        replace: 'data:\n  ADMIN_USER: d2ViYWRtaW4=\n  ADMIN_PASSWORD: bWluaW9hZG1pbjEyMw==',
      },
    ],
    expect: {
      file: 'base/web.yaml',
      line: 124,
      rule: 'default-credential',
      severity: 'error',
      message: 'Secret web-secret: data.ADMIN_PASSWORD is a default credential',
    },
  },
  {
    name: 'default password in the env file of a generated Secret',
    sizing: 'production',
    edits: [
      {
        file: 'overlays/production/secrets/db.env',
        find: 'DB_PASSWORD=fixture-only-Vb3k',
        replace: 'DB_PASSWORD=minioadmin123',
      },
    ],
    expect: {
      file: 'overlays/production/secrets/db.env',
      line: 3,
      rule: 'default-credential',
      severity: 'error',
      message: 'Secret db-secret: data.DB_PASSWORD is a default credential',
    },
  },
  {
    name: 'admin password in a container env',
    sizing: 'production',
    edits: [
      {
        file: 'base/web.yaml',
        find: '          env:\n',
        replace: '          env:\n            - name: ADMIN_PASSWORD\n              value: admin\n',
      },
    ],
    expect: {
      file: 'base/web.yaml',
      line: 73,
      rule: 'default-credential',
      severity: 'error',
      message: 'Deployment web: env ADMIN_PASSWORD of container web is a default credential',
    },
  },
  {
    name: 'field set by an overlay patch',
    sizing: 'production',
    edits: [{ file: 'overlays/production/replicas.yaml', find: 'replicas: 3', replace: 'replicas: three' }],
    expect: {
      file: 'overlays/production/replicas.yaml',
      line: 7,
      rule: 'schema',
      message: 'Deployment web: spec.replicas must be integer',
    },
  },
  {
    name: 'kustomization names a missing file',
    edits: [{ file: 'base/kustomization.yaml', find: '  - web.yaml', replace: '  - webapp.yaml' }],
    expect: {
      file: 'base/kustomization.yaml',
      line: 6,
      rule: 'kustomization',
      message: 'webapp.yaml: no such file or directory',
    },
  },
  {
    name: 'overlay patch targets no object',
    edits: [{ file: 'overlays/kind/sizing.yaml', find: '  name: web\n', replace: '  name: webapp\n' }],
    expect: {
      file: 'overlays/kind/sizing.yaml',
      line: 27,
      rule: 'render',
      message:
        'kustomize cannot render this overlay: no resource matches strategic merge patch "Deployment.v1.apps/webapp.demo"',
    },
  },
  {
    name: 'dependency cycle',
    edits: [
      {
        file: 'stack.yaml',
        find: '    manifests: [base/db.yaml]\n',
        replace: '    manifests: [base/db.yaml]\n    dependsOn: [web]\n',
      },
    ],
    expect: {
      file: 'stack.yaml',
      line: 29,
      rule: 'dependency-cycle',
      message: 'dependency cycle: db -> web -> db',
    },
  },
  {
    name: 'unknown component in dependsOn',
    edits: [
      { file: 'stack.yaml', find: 'dependsOn: [db, migrate]', replace: 'dependsOn: [db, migrate, cache]' },
    ],
    expect: {
      file: 'stack.yaml',
      line: 39,
      rule: 'catalog',
      message: 'component "web" depends on unknown component "cache"',
    },
  },
  {
    name: 'unknown component in a profile',
    edits: [{ file: 'stack.yaml', find: 'full: [minimal, apps]', replace: 'full: [minimal, apps, extras]' }],
    expect: {
      file: 'stack.yaml',
      line: 23,
      rule: 'catalog',
      message: 'profile "full" names unknown component or profile "extras"',
    },
  },
  {
    name: 'catalog schema: misspelt field',
    edits: [
      { file: 'stack.yaml', find: '    manifests: [base/db.yaml]', replace: '    manifest: [db.yaml]' },
    ],
    expect: {
      file: 'stack.yaml',
      line: 28,
      rule: 'catalog-schema',
      message: 'components.db: unknown field "manifest"',
    },
  },
  {
    name: 'component manifest does not exist',
    edits: [
      {
        file: 'stack.yaml',
        find: 'manifests: [base/db.yaml]',
        replace: 'manifests: [base/db.yaml, base/db-backup.yaml]',
      },
    ],
    expect: {
      file: 'stack.yaml',
      line: 28,
      rule: 'catalog-manifest',
      message: 'component "db" lists manifest base/db-backup.yaml, which does not exist',
    },
  },
  {
    name: 'component manifest not in the kustomization',
    edits: [
      {
        file: 'base/extra.yaml',
        create: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n  namespace: demo\n',
      },
      {
        file: 'stack.yaml',
        find: 'manifests: [base/db.yaml]',
        replace: 'manifests: [base/db.yaml, base/extra.yaml]',
      },
    ],
    expect: {
      file: 'stack.yaml',
      line: 28,
      rule: 'catalog-manifest',
      message: 'component "db" lists manifest base/extra.yaml, which the kustomization does not include',
    },
  },
  {
    name: 'catalog workload not rendered',
    edits: [
      {
        file: 'stack.yaml',
        find: '{ kind: Job, name: migrate }',
        replace: '{ kind: Job, name: migrations }',
      },
    ],
    expect: {
      file: 'stack.yaml',
      line: 35,
      rule: 'catalog-workload',
      message: 'component "migrate" names Job migrations, which is not in the rendered manifests',
    },
  },
  {
    name: 'catalog workload written in another component file',
    edits: [
      {
        file: 'stack.yaml',
        find: '    manifests: [base/web.yaml]\n    dependsOn: [db]\n',
        replace: '    manifests: [base/db.yaml]\n    dependsOn: [db]\n',
      },
    ],
    expect: {
      file: 'stack.yaml',
      line: 35,
      rule: 'catalog-workload',
      message: 'component "migrate" names Job migrate, which is written in',
    },
  },
  {
    // kubelet pkg/kubelet/kubelet_pods.go makeEnvironmentVariables: a missing Secret fails the
    // container config (CreateContainerConfigError) until the Secret exists
    name: 'workload reads a Secret owned by a component applied after it',
    edits: [
      {
        file: 'base/db.yaml',
        find: '  name: db-secret\n  namespace: demo\ntype',
        replace: '  name: db-secret\n  namespace: demo\n  labels:\n    app.kubernetes.io/name: web\ntype',
      },
      {
        file: 'base/db.yaml',
        find: '  name: db\n  namespace: demo\nspec:\n  serviceName',
        replace:
          '  name: db\n  namespace: demo\n  labels:\n    app.kubernetes.io/name: db\nspec:\n  serviceName',
      },
    ],
    expect: {
      file: 'base/db.yaml',
      line: 68,
      rule: 'ownership',
      message:
        "StatefulSet db (component db): env POSTGRES_USER of container db uses Secret db-secret, which belongs to component web, not one of db's dependencies (none)",
    },
  },
  {
    // kubelet pkg/kubelet/kubelet_pods.go getServiceEnvVarMap: links are on unless the pod says false
    name: 'pod template without enableServiceLinks: false',
    edits: [
      {
        file: 'base/web.yaml',
        find: '    spec:\n      enableServiceLinks: false\n      containers:',
        replace: '    spec:\n      containers:',
      },
    ],
    expect: {
      file: 'base/web.yaml',
      line: 60,
      rule: 'service-links',
      message: 'Deployment web: set enableServiceLinks: false in the pod template (the default is true)',
    },
  },
  {
    name: 'an overlay turns service links back on (production sizing)',
    sizing: 'production',
    edits: [
      {
        file: 'overlays/production/replicas.yaml',
        find: '  replicas: 3',
        replace: '  replicas: 3\n  template:\n    spec:\n      enableServiceLinks: true',
      },
    ],
    expect: {
      file: 'overlays/production/replicas.yaml',
      line: 10,
      rule: 'service-links',
      message: 'Deployment web: set enableServiceLinks: false in the pod template (it is true)',
    },
  },
  {
    // docker-library/postgres: PGDATA defaults to /var/lib/postgresql/data (Dockerfile); initdb refuses
    // a non-empty directory, and an ext4 volume root holds lost+found
    name: 'database data directory is the volume mount point',
    edits: [
      {
        file: 'stack.yaml',
        find: '  strictSizings: [production]\n',
        replace:
          '  strictSizings: [production]\n  dataDirectories:\n    - { image: postgres, env: PGDATA, default: /var/lib/postgresql/data }\n',
      },
    ],
    expect: {
      file: 'base/db.yaml',
      line: 88,
      rule: 'data-dir',
      message:
        "StatefulSet db: container db keeps its data in /var/lib/postgresql/data (the image's default), which is the mount point of volume data itself",
    },
  },
  {
    name: 'catalog Service port missing',
    edits: [{ file: 'stack.yaml', find: 'ports: [5432]', replace: 'ports: [5432, 5433]' }],
    expect: {
      file: 'stack.yaml',
      line: 30,
      rule: 'catalog-service',
      message: 'component "db" expects port 5433 on Service db, which has 5432',
    },
  },
];

describeWithKubectl('validate: broken-manifest corpus', () => {
  const cleanups: (() => void)[] = [];
  afterAll(() => {
    for (const c of cleanups) c();
  });

  it('has at least 25 distinct cases', () => {
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
    expect(cases.length).toBeGreaterThanOrEqual(25);
  });

  for (const [sizing, objects] of [
    ['kind', 9],
    ['production', 10], // + the generated app-config Secret
  ] as const) {
    it(`finds no problem in the valid fixture stack (${sizing})`, async () => {
      const r = await validateStack({ catalog: `${GOOD}/stack.yaml`, sizing });
      expect(r.problems).toEqual([]);
      expect(r.rendered).toBe(true);
      expect(r.objects).toBe(objects);
    });
  }

  it('accepts base64 that kustomize folds over several lines (the API server ignores the newlines)', async () => {
    const { kustomize, parseRendered } = await import('../../src/manifests/render.ts');
    const objects = parseRendered(await kustomize(`${GOOD}/overlays/production`));
    const generated = objects.find((o) => o.kind === 'Secret' && o.metadata.name.startsWith('app-config'));
    if (!generated) throw new Error('the production overlay generates no app-config Secret');
    expect(String((generated.data as Record<string, string>)['app.conf'])).toContain('\n');
    const { schemaFindings } = await import('../../src/manifests/kube-schema.ts');
    expect(await schemaFindings(generated)).toEqual([]);
  });

  it.concurrent.each(cases)('$name', async (c) => {
    const stack = brokenStack(c.edits);
    cleanups.push(stack.cleanup);
    const r = await validateStack({ catalog: stack.catalog, sizing: c.sizing });
    const problems = relativeTo(stack.dir, r.problems);
    const e = c.expect;
    const match = problems.find((p) => p.rule === e.rule && p.message.includes(e.message));
    expect(
      match,
      `no ${e.rule} problem "${e.message}" in:\n${problems.map((p) => `${p.file}:${p.line} ${p.message} [${p.rule}]`).join('\n')}`,
    ).toBeDefined();
    expect({ file: match!.file, line: match!.line, severity: match!.severity }).toEqual({
      file: e.file,
      line: e.line,
      severity: e.severity ?? 'error',
    });
  });
});

describeWithKubectl('validate: checking sources that kustomize could not render', () => {
  it("applies the kustomization's namespace and image tags, as kustomize would", async () => {
    const { asKustomizeWould } = await import('../../src/manifests/validate.ts');
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: {
        template: {
          spec: {
            initContainers: [{ name: 'a', image: 'busybox' }],
            containers: [
              { name: 'b', image: 'registry.local:5000/team/web' },
              { name: 'c', image: 'nginx:1.0' },
              { name: 'd', image: 'redis@sha256:abc' },
            ],
          },
        },
      },
    };
    const out = asKustomizeWould(deployment, {
      namespace: 'demo',
      images: [
        { name: 'busybox', newTag: '1.36' },
        { name: 'registry.local:5000/team/web', newName: 'ghcr.io/team/web', newTag: '2.1' },
        { name: 'nginx', digest: 'sha256:def' },
      ],
    });
    expect(out.metadata.namespace).toBe('demo');
    const spec = (out.spec as { template: { spec: Record<string, { image: string }[]> } }).template.spec;
    expect(spec.initContainers!.map((c) => c.image)).toEqual(['busybox:1.36']);
    expect(spec.containers!.map((c) => c.image)).toEqual([
      'ghcr.io/team/web:2.1',
      'nginx@sha256:def',
      'redis@sha256:abc',
    ]);
    expect(deployment.metadata).toEqual({ name: 'web' }); // the source is not changed
    expect(
      asKustomizeWould(
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' } },
        { namespace: 'demo', images: [] },
      ).metadata.namespace,
    ).toBeUndefined();
  });
});
