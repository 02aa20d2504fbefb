import type { BackupSpec, Component } from '../../catalog/types.ts';
import { parseDuration } from '../../util/duration.ts';
import { UsageError } from '../../util/errors.ts';
import type { ParamProblem, TargetAccess } from '../types.ts';

/** The `--endpoint` URL a backup uses on target local (its `endpoint:` or the component's first). */
export function localEndpoint(target: TargetAccess, component: Component, spec: BackupSpec): URL {
  const name = spec.endpoint ?? component.endpoints[0]?.name;
  const url = name ? target.endpoints.get(`${component.name}.${name}`) : undefined;
  if (!url)
    throw new UsageError(
      `backup "${spec.name}" of ${component.name} on target local needs --endpoint ${component.name}${spec.endpoint ? `.${spec.endpoint}` : ''}=URL`,
    );
  return url;
}

/** A literal username from the catalog endpoint (Secret refs cannot be used inside a pod's command line). */
export function catalogUser(component: Component, spec: BackupSpec, fallback: string): string {
  const ep = component.endpoints.find((e) => e.name === spec.endpoint) ?? component.endpoints[0];
  return typeof ep?.username === 'string' ? ep.username : fallback;
}

/** The pod to exec in on target kube: `pod:` or the first StatefulSet's first pod. */
export function podOf(component: Component, spec: BackupSpec): string {
  if (typeof spec.pod === 'string') return spec.pod;
  const sts = component.workloads.find((w) => w.kind === 'StatefulSet');
  if (!sts)
    throw new UsageError(
      `backup "${spec.name}" of ${component.name} needs pod: (no StatefulSet to derive it from)`,
    );
  return `${sts.name}-0`;
}

export function unknownParams(spec: BackupSpec, allowed: readonly string[]): ParamProblem[] {
  const known = new Set(['name', 'type', 'endpoint', ...allowed]);
  return Object.keys(spec)
    .filter((k) => !known.has(k))
    .map((k) => ({
      path: [k],
      message: `unknown parameter "${k}" for type ${spec.type}; known: ${allowed.join(', ')}`,
    }));
}

export function optionalStringParam(spec: BackupSpec, key: string): ParamProblem[] {
  return spec[key] === undefined || (typeof spec[key] === 'string' && spec[key] !== '')
    ? []
    : [{ path: [key], message: 'must be a non-empty string' }];
}

export function stringListParam(spec: BackupSpec, key: string, required: boolean): ParamProblem[] {
  const v = spec[key];
  if (v === undefined) return required ? [{ path: [key], message: 'is required' }] : [];
  return Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string' && x)
    ? []
    : [{ path: [key], message: 'must be a non-empty list of names' }];
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A duration parameter (`timeout: 10m`): a problem when it is not one parseDuration reads. */
export function durationParam(spec: BackupSpec, key: string): ParamProblem[] {
  if (spec[key] === undefined) return [];
  try {
    parseDuration(String(spec[key]), key);
    return [];
  } catch (err) {
    return [{ path: [key], message: (err as Error).message }];
  }
}

/** The value of a duration parameter in milliseconds, or `fallbackMs` when it is not set. */
export function durationOf(spec: BackupSpec, key: string, fallbackMs: number): number {
  return spec[key] === undefined ? fallbackMs : parseDuration(String(spec[key]), key);
}
