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
  /** Something is missing: point at the base document, not at an overlay patch that merely names the container. */
  preferBase?: boolean;
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

/** Any value from a manifest as text for a message or key; never throws (`{toString: null}` would). */
export function text(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v === null || v === undefined) return '?';
  try {
    return JSON.stringify(v) ?? '?';
  } catch {
    return '?';
  }
}

/** `StatefulSet db` (namespace omitted: every object is meant to be in the stack's namespace). */
export function showObject(o: KubeObject): string {
  return `${text(o.kind)} ${text(o.metadata?.name)}`;
}
