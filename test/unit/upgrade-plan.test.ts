import { beforeAll, describe, expect, it } from 'vitest';
import { loadStack } from '../../src/catalog/load.ts';
import type { Stack } from '../../src/catalog/types.ts';
import type { KubeObject } from '../../src/manifests/render.ts';
import { renderChecked } from '../../src/manifests/validate.ts';
import type { Obj } from '../../src/plan/conditions.ts';
import { majorOf, planChanges, planLines, specChanges } from '../../src/upgrade/diff.ts';
import { applySets, parseSets, repositoryOf } from '../../src/upgrade/images.ts';
import { UsageError } from '../../src/util/errors.ts';

let stack: Stack;
let rendered: KubeObject[];
beforeAll(async () => {
  stack = loadStack('manifests/stack.yaml');
  rendered = await renderChecked(stack.file, 'kind');
}, 60_000);

const get = (objects: readonly KubeObject[], kind: string, name: string) =>
  objects.find((o) => o.kind === kind && o.metadata.name === name) as Obj;

/** The live object as the API server returns it: what was applied plus its defaults. */
function live(o: Obj): Obj {
  const l = structuredClone(o);
  for (const c of l.spec.template.spec.containers) {
    c.imagePullPolicy ??= 'IfNotPresent';
    c.terminationMessagePath = '/dev/termination-log';
  }
  l.spec.revisionHistoryLimit ??= 10;
  l.status = { replicas: 1 };
  return l;
}

const usage = (f: () => unknown): string => {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error('no UsageError');
};

describe('upgrade plan: --set and the per-workload diff', () => {
  it('the catalog names the strategies: blue-green for Grafana, kafka-ui, Jaeger; dump-restore for PostgreSQL', () => {
    const byStrategy = (s: string) =>
      Object.values(stack.components)
        .filter((c) => c.upgrade?.strategy === s)
        .map((c) => c.name)
        .sort();
    expect(byStrategy('blue-green')).toEqual(['grafana', 'jaeger', 'kafka-ui']);
    expect(byStrategy('dump-restore')).toEqual(['postgres']);
    expect(stack.components.postgres!.upgrade?.backup).toBe('databases');
  });

  it('repositories compare without tag, digest or the Docker Hub defaults', () => {
    expect(repositoryOf('postgres:16.7-alpine')).toBe('postgres');
    expect(repositoryOf(`docker.io/library/postgres:15@sha256:${'a'.repeat(64)}`)).toBe('postgres');
    expect(repositoryOf('localhost:5001/grafana/grafana:11.2.0')).toBe('localhost:5001/grafana/grafana');
    expect(repositoryOf('localhost:5001/grafana')).toBe('localhost:5001/grafana');
  });

  it('--set COMPONENT=IMAGE changes the container running that repository; the plan shows old → new', () => {
    const sets = parseSets(['postgres=postgres:17.2-alpine'], stack);
    const desired = applySets(stack, rendered, sets);
    const before = get(rendered, 'StatefulSet', 'postgres');
    const oldImage = before.spec.template.spec.containers.find((c: Obj) => c.name === 'postgres').image;
    const liveMap = new Map([['StatefulSet/postgres', live(before)]]);
    const changes = planChanges([stack.components.postgres!], desired, liveMap);
    expect(changes).toEqual([
      {
        component: 'postgres',
        strategy: 'dump-restore',
        workloads: [
          {
            kind: 'StatefulSet',
            name: 'postgres',
            deployed: true,
            images: [{ container: 'postgres', from: oldImage, to: 'postgres:17.2-alpine' }],
            other: [],
          },
        ],
      },
    ]);
    expect(planLines(changes).join('\n')).toContain(`postgres: ${oldImage} → postgres:17.2-alpine`);
    // the rendered objects themselves are untouched
    expect(get(rendered, 'StatefulSet', 'postgres').spec.template.spec.containers[0].image).toBe(oldImage);
  });

  it('majorOnly: the same major (16.6 → 16.7) rolls; a new major, or a tag without a number, dumps and restores', () => {
    const pg = get(rendered, 'StatefulSet', 'postgres');
    const liveMap = new Map([['StatefulSet/postgres', live(pg)]]);
    const plan = (image: string) =>
      planChanges(
        [stack.components.postgres!],
        applySets(stack, rendered, parseSets([`postgres=${image}`], stack)),
        liveMap,
      )[0]!.strategy;
    const pinned = pg.spec.template.spec.containers[0].image as string;
    const [, tag] = pinned.split(':');
    const major = Number(/^(\d+)/.exec(tag!)![1]);
    expect(plan(`postgres:${major}.99-alpine`)).toBe('rolling');
    expect(plan(`postgres:${major + 1}.0-alpine`)).toBe('dump-restore');
    expect(plan('postgres:latest')).toBe('dump-restore');
    expect(majorOf(`registry:5000/postgres:v17.2@sha256:${'b'.repeat(64)}`)).toBe(17);
    expect(majorOf('postgres')).toBeUndefined();
  });

  it('a container-qualified --set picks that container only; a sidecar keeps its image', () => {
    const pg = get(rendered, 'StatefulSet', 'postgres');
    const names = pg.spec.template.spec.containers.map((c: Obj) => c.name);
    const desired = applySets(stack, rendered, parseSets([`postgres/${names[0]}=postgres:16.7`], stack));
    const after = get(desired, 'StatefulSet', 'postgres').spec.template.spec.containers;
    expect(after[0].image).toBe('postgres:16.7');
    for (let i = 1; i < after.length; i++)
      expect(after[i].image).toBe(pg.spec.template.spec.containers[i].image);
  });

  it('unchanged workloads are left out; a changed resource limit shows as another template change', () => {
    const g = get(rendered, 'Deployment', 'grafana');
    const liveMap = new Map([['Deployment/grafana', live(g)]]);
    expect(planChanges([stack.components.grafana!], rendered, liveMap)).toEqual([]);
    const changed = structuredClone(rendered);
    const c = get(changed, 'Deployment', 'grafana').spec.template.spec.containers[0];
    c.resources = { ...(c.resources ?? {}), limits: { ...(c.resources?.limits ?? {}), memory: '1Gi' } };
    const [plan] = planChanges([stack.components.grafana!], changed, liveMap);
    expect(plan!.strategy).toBe('blue-green');
    expect(plan!.workloads[0]!.images).toEqual([]);
    expect(plan!.workloads[0]!.other).toEqual([
      `spec.template.spec.containers[${c.name}].resources.limits.memory`,
    ]);
  });

  it('server defaults on the live object are not changes; a workload not deployed is said so', () => {
    const pg = get(rendered, 'StatefulSet', 'postgres');
    expect(specChanges(pg, live(pg))).toEqual([]);
    const [plan] = planChanges([stack.components.postgres!], rendered, new Map());
    expect(plan!.workloads[0]!.deployed).toBe(false);
    expect(planLines([plan!]).join('\n')).toContain('not deployed (run kindling deploy first)');
  });

  it('bad --set values are usage errors naming the flag, all at once', () => {
    const m = usage(() => parseSets(['postgres', 'nosuch=x:1', 'redis=Bad Image'], stack));
    expect(m).toMatch(/^--set: /);
    expect(m).toContain('"postgres": write COMPONENT=IMAGE');
    expect(m).toContain('no component "nosuch"');
    expect(m).toContain('"Bad Image" is not an image reference');
  });

  it('an unknown container or an image no container runs names the containers there are', () => {
    const pg = get(rendered, 'StatefulSet', 'postgres');
    const first = pg.spec.template.spec.containers[0].name;
    expect(
      usage(() => applySets(stack, rendered, parseSets(['postgres/nope=postgres:16'], stack))),
    ).toContain(`has no container "nope" (it has ${first}`);
    const multi = Object.values(stack.components).find(
      (c) =>
        c.workloads.length === 1 &&
        (get(rendered, c.workloads[0]!.kind, c.workloads[0]!.name)?.spec?.template?.spec?.containers
          ?.length ?? 0) > 1,
    );
    expect(multi, 'the stack has a workload with a sidecar').toBeDefined();
    if (multi)
      expect(
        usage(() => applySets(stack, rendered, parseSets([`${multi.name}=example/other:1`], stack))),
      ).toContain(`no container of ${multi.name} runs example/other; name one:`);
  });
});
