import { describe, expect, it } from 'vitest';
import { parseCatalog, readCatalog } from '../../src/catalog/load.ts';
import { dependencyWaves, orderWithDependencies, resolveSelection } from '../../src/catalog/resolve.ts';
import type { Stack } from '../../src/catalog/types.ts';
import { UsageError } from '../../src/util/errors.ts';

// A catalog shaped like the real one: groups, profiles that compose, dependencies across groups.
const CATALOG = `apiVersion: kindling.dev/v1alpha1
kind: Stack
namespace: demo
render:
  base: .
  overlays: { kind: overlays/kind, production: overlays/production }
groups: { core: c, analytics: a, monitoring: m }
profiles:
  minimal: [postgres, nacos, milvus]
  analytics: [elasticsearch]
  monitoring: [prometheus, grafana, jaeger]
  full: [minimal, analytics, monitoring]
components:
  postgres: { group: core, manifests: [postgres.yaml], workloads: [] }
  nacos-mysql: { group: core, manifests: [nacos.yaml], workloads: [] }
  nacos: { group: core, manifests: [nacos.yaml], dependsOn: [nacos-mysql], workloads: [] }
  etcd: { group: core, manifests: [milvus.yaml], workloads: [] }
  minio: { group: core, manifests: [minio.yaml], workloads: [] }
  milvus: { group: core, manifests: [milvus.yaml], dependsOn: [etcd, minio], workloads: [] }
  elasticsearch: { group: analytics, manifests: [es.yaml], workloads: [] }
  prometheus: { group: monitoring, manifests: [prom.yaml], workloads: [] }
  grafana: { group: monitoring, manifests: [prom.yaml], dependsOn: [prometheus], workloads: [] }
  jaeger: { group: monitoring, manifests: [jaeger.yaml], dependsOn: [elasticsearch], workloads: [] }
`;

function load(text = CATALOG): Stack {
  const r = parseCatalog('stack.yaml', text, '/tmp');
  expect(r.problems).toEqual([]);
  return r.stack!;
}
const names = (list: { name: string }[]) => list.map((c) => c.name);

/** Every component comes after all of its dependencies. */
function expectDependencyOrder(list: { name: string; dependsOn: string[] }[]) {
  const seen = new Set<string>();
  for (const c of list) {
    for (const d of c.dependsOn) expect(seen.has(d), `${c.name} before its dependency ${d}`).toBe(true);
    seen.add(c.name);
  }
}

function problemsOf(text: string) {
  const r = parseCatalog('stack.yaml', text, '/tmp');
  expect(r.stack).toBeUndefined();
  return r.problems;
}

describe('catalog resolver', () => {
  const stack = load();

  it('resolves a profile to its components plus their dependencies, dependencies first', () => {
    expect(names(resolveSelection(stack, 'minimal'))).toEqual([
      'postgres',
      'nacos-mysql',
      'nacos',
      'etcd',
      'minio',
      'milvus',
    ]);
  });

  it("composes profiles: minimal,monitoring pulls in jaeger's elasticsearch too", () => {
    const list = resolveSelection(stack, 'minimal,monitoring');
    expect(names(list).sort()).toEqual(
      [
        'postgres',
        'nacos-mysql',
        'nacos',
        'etcd',
        'minio',
        'milvus',
        'elasticsearch',
        'prometheus',
        'grafana',
        'jaeger',
      ].sort(),
    );
    expectDependencyOrder(list);
  });

  it('resolves profiles of profiles (full) to every component, in dependency order', () => {
    const list = resolveSelection(stack, 'full');
    expect(list).toHaveLength(Object.keys(stack.components).length);
    expectDependencyOrder(list);
  });

  it('accepts an explicit component list, as a string or an array, with spaces', () => {
    expect(names(resolveSelection(stack, 'grafana, nacos'))).toEqual([
      'nacos-mysql',
      'nacos',
      'prometheus',
      'grafana',
    ]);
    expect(names(resolveSelection(stack, ['milvus']))).toEqual(['etcd', 'minio', 'milvus']);
  });

  it('names an unknown component or profile, and lists what exists', () => {
    expect(() => resolveSelection(stack, 'minimal,postgress')).toThrow(UsageError);
    expect(() => resolveSelection(stack, 'postgress')).toThrow(
      /unknown profile or component "postgress"; profiles: minimal, analytics/,
    );
  });

  it('does not mistake Object.prototype names for components or profiles', () => {
    for (const word of ['constructor', 'toString', '__proto__', 'hasOwnProperty'])
      expect(() => resolveSelection(stack, word)).toThrow(
        new RegExp(`unknown profile or component "${word}"`),
      );
    expect(() => orderWithDependencies(stack, ['constructor'])).toThrow(/unknown component "constructor"/);
  });

  it('rejects an empty selection', () => {
    expect(() => resolveSelection(stack, ' , ')).toThrow(/empty selection/);
  });

  it('groups components into waves that depend only on earlier waves, whatever the input order', () => {
    const all = resolveSelection(stack, 'full');
    const waves = dependencyWaves([...all].reverse());
    expect(waves.map((w) => names(w).sort())).toEqual([
      ['elasticsearch', 'etcd', 'minio', 'nacos-mysql', 'postgres', 'prometheus'],
      ['grafana', 'jaeger', 'milvus', 'nacos'],
    ]);
  });

  it('names the cycle when asked to order a cyclic stack', () => {
    const cyclic: Stack = structuredClone(stack);
    cyclic.components.etcd!.dependsOn = ['milvus'];
    expect(() => orderWithDependencies(cyclic, ['milvus'])).toThrow(
      /dependency cycle in the catalog: etcd -> milvus -> etcd/,
    );
  });
});

describe('catalog loader', () => {
  it('reports a dependency cycle naming every member, at the line of the first one', () => {
    const text = CATALOG.replace(
      'etcd: { group: core, manifests: [milvus.yaml], workloads: [] }',
      'etcd: { group: core, manifests: [milvus.yaml], dependsOn: [milvus], workloads: [] }',
    );
    const problems = problemsOf(text);
    expect(problems).toContainEqual(
      expect.objectContaining({
        rule: 'dependency-cycle',
        line: 17,
        message: 'dependency cycle: etcd -> milvus -> etcd',
      }),
    );
  });

  it('reports a component that depends on itself', () => {
    const text = CATALOG.replace('dependsOn: [prometheus]', 'dependsOn: [grafana]');
    expect(problemsOf(text)).toContainEqual(
      expect.objectContaining({ line: 22, message: 'component "grafana" depends on itself' }),
    );
  });

  it('reports profiles that include each other', () => {
    const text = CATALOG.replace('analytics: [elasticsearch]', 'analytics: [elasticsearch, full]');
    expect(problemsOf(text)).toContainEqual(
      expect.objectContaining({
        rule: 'profile-cycle',
        message: 'profile cycle: analytics -> full -> analytics',
      }),
    );
  });

  it('names an unknown dependency, profile member and group, each at its line', () => {
    const text = CATALOG.replace('dependsOn: [nacos-mysql]', 'dependsOn: [mysql]')
      .replace('monitoring: [prometheus, grafana, jaeger]', 'monitoring: [prometheus, grafana, jaegr]')
      .replace('elasticsearch: { group: analytics', 'elasticsearch: { group: search');
    const problems = problemsOf(text);
    expect(problems).toContainEqual(
      expect.objectContaining({
        line: 16,
        message: 'component "nacos" depends on unknown component "mysql"',
      }),
    );
    expect(problems).toContainEqual(
      expect.objectContaining({
        line: 11,
        message: 'profile "monitoring" names unknown component or profile "jaegr"',
      }),
    );
    expect(problems).toContainEqual(
      expect.objectContaining({
        line: 20,
        message: 'component "elasticsearch" is in unknown group "search"',
      }),
    );
  });

  it('reports schema errors at their line: unknown field, missing field, wrong type, bad duration', () => {
    const text = `${CATALOG.replace('postgres: { group: core, manifests: [postgres.yaml], workloads: [] }', 'postgres: { group: core, manifest: [postgres.yaml], workloads: [], readyTimeout: soon }')}`;
    const problems = problemsOf(text);
    expect(problems).toContainEqual(
      expect.objectContaining({
        rule: 'catalog-schema',
        line: 14,
        message: 'components.postgres: unknown field "manifest"',
      }),
    );
    expect(problems).toContainEqual(
      expect.objectContaining({
        line: 14,
        message: 'components.postgres: missing required field "manifests"',
      }),
    );
    expect(
      problems.some((p) => p.message.startsWith('components.postgres.readyTimeout: must match pattern')),
    ).toBe(true);
  });

  it('reports YAML syntax and duplicate keys with their position', () => {
    expect(problemsOf('namespace: demo\nnamespace: other\n')).toContainEqual(
      expect.objectContaining({ rule: 'yaml-syntax', line: 2, severity: 'error' }),
    );
    expect(problemsOf('a: [1, 2\nb: 3\n')[0]).toMatchObject({ rule: 'yaml-syntax', file: 'stack.yaml' });
  });

  it('wants exactly one document', () => {
    expect(problemsOf('')).toEqual([
      expect.objectContaining({ message: 'expected one YAML document, found 0' }),
    ]);
    expect(problemsOf(`${CATALOG}---\n${CATALOG}`)[0]!.message).toBe('expected one YAML document, found 2');
  });

  it('names a default sizing that is not an overlay', () => {
    const text = CATALOG.replace(
      'production: overlays/production }',
      'production: overlays/production }\n  defaultSizing: staging',
    );
    expect(problemsOf(text)).toContainEqual(
      expect.objectContaining({
        line: 7,
        message: 'default sizing "staging" is not one of the overlays (kind, production)',
      }),
    );
  });

  it('names the new key when a catalog still uses render.defaultProfile or policy.strictProfiles', () => {
    const text = CATALOG.replace(
      'production: overlays/production }',
      'production: overlays/production }\n  defaultProfile: kind',
    ).replace('groups:', 'policy:\n  strictProfiles: [production]\ngroups:');
    expect(problemsOf(text)).toEqual([
      expect.objectContaining({
        rule: 'catalog-schema',
        line: 7,
        message:
          'render.defaultProfile is now render.defaultSizing (a profile is a component set; the overlay is the sizing)',
      }),
      expect.objectContaining({
        rule: 'catalog-schema',
        line: 9,
        message:
          'policy.strictProfiles is now policy.strictSizings (a profile is a component set; the overlay is the sizing)',
      }),
    ]);
  });

  it('reads a missing file as a problem, not an exception', () => {
    const r = readCatalog('/nonexistent/stack.yaml');
    expect(r.stack).toBeUndefined();
    expect(r.problems[0]!.message).toBe('cannot read the stack catalog: no such file');
  });

  it('loads the real catalog (manifests/stack.yaml) with no problem, and full resolves in dependency order', () => {
    const r = readCatalog('manifests/stack.yaml');
    expect(r.problems).toEqual([]);
    expectDependencyOrder(resolveSelection(r.stack!, 'full'));
    expect(names(resolveSelection(r.stack!, 'minimal,monitoring'))).toEqual(
      expect.arrayContaining(['postgres', 'prometheus', 'elasticsearch']),
    );
  });
});
