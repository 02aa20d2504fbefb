/**
 * `--set COMPONENT=IMAGE` and `--set COMPONENT/CONTAINER=IMAGE`: new image references applied to the
 * rendered workloads of a component (pure). Like `kubectl set image`, a name picks containers; here
 * the component picks the workloads (the catalog's `workloads`) and the container is optional when
 * only one container of them runs the image's repository.
 */
import type { Component, Stack } from '../catalog/types.ts';
import type { KubeObject } from '../manifests/render.ts';
import type { Obj } from '../plan/conditions.ts';
import { UsageError } from '../util/errors.ts';

export interface ImageSet {
  component: string;
  container?: string;
  image: string;
  /** As the user wrote it, for messages. */
  text: string;
}

/** `registry:5000/library/postgres:16.7-alpine@sha256:…` → `registry:5000/library/postgres`. */
export function repositoryOf(image: string): string {
  const noDigest = image.split('@')[0]!;
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  const bare = colon > slash ? noDigest.slice(0, colon) : noDigest;
  // docker.io/library/postgres and postgres are one repository (the Docker Hub defaults)
  return bare.replace(/^(docker\.io\/|index\.docker\.io\/)/, '').replace(/^library\//, '');
}

const IMAGE_RE = /^[a-z0-9][a-z0-9._\-/:]*(@sha256:[a-f0-9]{64})?$/;

/** Parses every `--set` value; all mistakes at once, each naming the value (exit 2). */
export function parseSets(values: readonly string[], stack: Stack, flag = '--set'): ImageSet[] {
  const problems: string[] = [];
  const out: ImageSet[] = [];
  for (const text of values) {
    const eq = text.indexOf('=');
    if (eq < 1) {
      problems.push(`"${text}": write COMPONENT=IMAGE or COMPONENT/CONTAINER=IMAGE`);
      continue;
    }
    const [component, container] = text.slice(0, eq).split('/', 2) as [string, string | undefined];
    const image = text.slice(eq + 1).trim();
    if (!stack.components[component]) {
      problems.push(
        `"${text}": no component "${component}" in the catalog (${Object.keys(stack.components).join(', ')})`,
      );
      continue;
    }
    if (!IMAGE_RE.test(image) || image.endsWith(':') || image.includes('//')) {
      problems.push(`"${text}": "${image}" is not an image reference (e.g. postgres:16.7-alpine)`);
      continue;
    }
    if (out.some((s) => s.component === component && s.container === container))
      problems.push(`"${text}": ${component}${container ? `/${container}` : ''} is set twice`);
    out.push({ component, ...(container ? { container } : {}), image, text });
  }
  if (problems.length) throw new UsageError(problems.join('; '), flag);
  return out;
}

/** The catalog workloads of a component, found among rendered objects. */
export function workloadObjects(component: Component, objects: readonly KubeObject[]): KubeObject[] {
  return component.workloads
    .filter((w) => w.kind === 'Deployment' || w.kind === 'StatefulSet')
    .map((w) => objects.find((o) => o.kind === w.kind && o.metadata.name === w.name))
    .filter((o): o is KubeObject => o !== undefined);
}

const containersOf = (o: Obj): Obj[] => o.spec?.template?.spec?.containers ?? [];

/**
 * The objects with the sets applied (copies; the others unchanged). A set without a container
 * changes the containers whose image has the new image's repository, or the only container;
 * anything ambiguous or absent is a usage error naming the containers there are.
 */
export function applySets(
  stack: Stack,
  objects: readonly KubeObject[],
  sets: readonly ImageSet[],
  flag = '--set',
): KubeObject[] {
  const out = objects.map((o) => structuredClone(o));
  const problems: string[] = [];
  for (const s of sets) {
    const component = stack.components[s.component]!;
    const workloads = workloadObjects(component, out);
    if (!workloads.length) {
      problems.push(`"${s.text}": ${s.component} has no Deployment or StatefulSet to upgrade`);
      continue;
    }
    const all = workloads.flatMap((w) => containersOf(w).map((c) => ({ w, c })));
    const names = [...new Set(all.map((x) => x.c.name as string))];
    let picked: typeof all;
    if (s.container) picked = all.filter((x) => x.c.name === s.container);
    else {
      const repo = repositoryOf(s.image);
      picked = all.filter((x) => repositoryOf(String(x.c.image)) === repo);
      if (!picked.length && all.length === 1) picked = all;
    }
    if (!picked.length) {
      problems.push(
        s.container
          ? `"${s.text}": ${s.component} has no container "${s.container}" (it has ${names.join(', ')})`
          : `"${s.text}": no container of ${s.component} runs ${repositoryOf(s.image)}; name one: ${names.map((n) => `${s.component}/${n}=…`).join(', ')}`,
      );
      continue;
    }
    for (const { c } of picked) c.image = s.image;
  }
  if (problems.length) throw new UsageError(problems.join('; '), flag);
  return out;
}
