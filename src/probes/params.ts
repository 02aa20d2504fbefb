import type { CheckSpec } from '../catalog/types.ts';
import type { ParamProblem } from './types.ts';

/** Keys every check may have, whatever its type. */
export const COMMON_KEYS = ['name', 'type', 'endpoint', 'target', 'timeout', 'settles'] as const;

/** Unknown keys of a check, given the keys its type accepts. */
export function unknownKeys(check: CheckSpec, allowed: readonly string[]): ParamProblem[] {
  const known = new Set<string>([...COMMON_KEYS, ...allowed]);
  return Object.keys(check)
    .filter((k) => !known.has(k))
    .map((k) => ({
      path: [k],
      message: `unknown parameter "${k}" for a ${check.type} check; it takes ${allowed.join(', ') || 'no parameters'}`,
    }));
}

export function requireString(check: CheckSpec, key: string): ParamProblem[] {
  const v = check[key];
  if (typeof v !== 'string' || v.trim() === '')
    return [{ path: [key], message: `${check.type} check needs "${key}" (text)` }];
  return [];
}

export function optionalString(check: CheckSpec, key: string): ParamProblem[] {
  const v = check[key];
  return v === undefined || typeof v === 'string' ? [] : [{ path: [key], message: `"${key}" must be text` }];
}

export function stringList(check: CheckSpec, key: string, required: boolean): ParamProblem[] {
  const v = check[key];
  if (v === undefined)
    return required ? [{ path: [key], message: `${check.type} check needs "${key}" (a list)` }] : [];
  if (!Array.isArray(v) || v.length === 0 || v.some((x) => typeof x !== 'string' && typeof x !== 'number'))
    return [{ path: [key], message: `"${key}" must be a non-empty list of text` }];
  return [];
}

/** The check's `expect` map restricted to `keys`, with a problem per unknown key. */
export function expectKeys(check: CheckSpec, keys: readonly string[]): ParamProblem[] {
  const e = check.expect;
  if (e === undefined) return [];
  if (typeof e !== 'object' || e === null || Array.isArray(e))
    return [{ path: ['expect'], message: `"expect" must be a map with ${keys.join(', ')}` }];
  return Object.keys(e)
    .filter((k) => !keys.includes(k))
    .map((k) => ({
      path: ['expect', k],
      message: `unknown expectation "${k}" for a ${check.type} check; use ${keys.join(', ')}`,
    }));
}

export function expectOf(check: CheckSpec): Record<string, unknown> {
  const e = check.expect;
  return typeof e === 'object' && e !== null && !Array.isArray(e) ? (e as Record<string, unknown>) : {};
}

/** Cuts a value for a report line. */
export function clip(s: string, max = 160): string {
  const one = s.replace(/\s+$/, '');
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}
