import { readFileSync } from 'node:fs';
import { getSerializationType } from '@kubernetes/client-node/dist/util.js';
import type { Finding, Path } from './findings.ts';
import { showObject, showPath } from './findings.ts';
import { isRecord } from './objects.ts';
import type { KubeObject } from './render.ts';

/**
 * Strict field checking, as `kubectl apply --validate=strict` does: kubernetes-models' schemas
 * allow unknown fields, so the object is walked against the fields client-node's model classes
 * declare (`getAttributeTypeMap()`: wire name + type). Those are read from one table generated
 * from the installed client-node (`npm run gen:field-types`); importing the model modules one by
 * one cost a good part of validate's start-up.
 */

/** Field wire name to type name, per model class; in the API's order (closest() breaks ties by it). */
type Fields = Readonly<Record<string, string>>;

const LEAF = new Set(['string', 'number', 'boolean', 'Date', 'any', 'object', 'IntOrString']);
const ARRAY = /^Array<(.+)>$/;
const MAP = /^\{ \[key: string\]: (.+); \}$/;

let table: Record<string, Fields> | undefined;

function fieldsOf(type: string): Fields | undefined {
  table ??= (
    JSON.parse(readFileSync(new URL('./generated/field-types.json', import.meta.url), 'utf8')) as {
      types: Record<string, Fields>;
    }
  ).types;
  return Object.hasOwn(table, type) ? table[type] : undefined;
}

export function unknownFieldFindings(o: KubeObject): Finding[] {
  if (typeof o.apiVersion !== 'string' || typeof o.kind !== 'string') return [];
  const type = getSerializationType(o.apiVersion, o.kind);
  if (type === 'KubernetesObject') return []; // a custom resource: no model to check against
  const found: { path: Path; field: string; known: string[] }[] = [];
  walk(o, type, [], found);
  return found.map(({ path, field, known }) => {
    const hint = closest(field, known);
    return {
      severity: 'error',
      rule: 'unknown-field',
      message: `${showObject(o)}: unknown field "${showPath(path)}"${hint ? ` (did you mean "${hint}"?)` : ''}`,
      object: o,
      path,
    };
  });
}

function walk(
  value: unknown,
  type: string,
  path: Path,
  found: { path: Path; field: string; known: string[] }[],
): void {
  if (LEAF.has(type) || value === null || value === undefined) return;
  const arr = ARRAY.exec(type);
  if (arr) {
    if (Array.isArray(value))
      for (let i = 0; i < value.length; i++) walk(value[i], arr[1]!, [...path, i], found);
    return;
  }
  const map = MAP.exec(type);
  if (map) {
    if (isRecord(value)) for (const [k, v] of Object.entries(value)) walk(v, map[1]!, [...path, k], found);
    return;
  }
  if (!isRecord(value)) return; // wrong types are the schema check's to report
  const fields = fieldsOf(type);
  if (!fields) return;
  for (const [k, v] of Object.entries(value)) {
    const t = Object.hasOwn(fields, k) ? fields[k] : undefined;
    if (t === undefined) found.push({ path: [...path, k], field: k, known: Object.keys(fields) });
    else walk(v, t, [...path, k], found);
  }
}

/** The known field a typo most likely meant (edit distance at most 2), for the message. */
export function closest(word: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const k of known) {
    const d = distance(word.toLowerCase(), k.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best;
}

function distance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}
