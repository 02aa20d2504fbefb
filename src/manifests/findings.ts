import type { KubeObject } from './render.ts';

/** A path into an object: map keys and array indices. */
export type Path = (string | number)[];

/**
 * A problem found in the rendered set, before it has a file and line. `object` + `path` say
 * where; `locate.ts` turns that into the source file and line.
 */
export interface Finding {
  severity: 'error' | 'warning';
  rule: string;
  message: string;
  object?: KubeObject;
  path?: Path;
}

/** `spec.template.spec.containers[0].image` */
export function showPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${seg}` : seg;
  }
  return out;
}

/** `StatefulSet db` (namespace omitted: every object is meant to be in the stack's namespace). */
export function showObject(o: KubeObject): string {
  return `${String(o.kind)} ${String(o.metadata?.name)}`;
}
