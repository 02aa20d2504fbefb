import { getSerializationType } from '@kubernetes/client-node/dist/util.js';
import type { Finding, Path } from './findings.ts';
import { showObject, showPath } from './findings.ts';
import { isRecord } from './objects.ts';
import type { KubeObject } from './render.ts';

/**
 * Strict field checking, as `kubectl apply --validate=strict` does: kubernetes-models' schemas
 * allow unknown fields, so the object is walked against client-node's model classes, whose static
 * `getAttributeTypeMap()` lists every field the API knows (wire name + type).
 */

interface Attribute {
  baseName: string;
  type: string;
}
type TypeMap = readonly Attribute[];

const LEAF = new Set(['string', 'number', 'boolean', 'Date', 'any', 'object', 'IntOrString']);
const ARRAY = /^Array<(.+)>$/;
const MAP = /^\{ \[key: string\]: (.+); \}$/;

const typeMaps = new Map<string, Promise<TypeMap | undefined>>();

/** One model class per file; importing just the ones needed keeps start-up fast. */
function typeMap(name: string): Promise<TypeMap | undefined> {
  let m = typeMaps.get(name);
  if (!m) {
    m = /^[A-Za-z0-9]+$/.test(name)
      ? import(/* @vite-ignore */ `@kubernetes/client-node/dist/gen/models/${name}.js`).then(
          (mod: Record<string, { getAttributeTypeMap?: () => TypeMap }>) =>
            mod[name]?.getAttributeTypeMap?.(),
          () => undefined,
        )
      : Promise.resolve(undefined);
    typeMaps.set(name, m);
  }
  return m;
}

export async function unknownFieldFindings(o: KubeObject): Promise<Finding[]> {
  if (typeof o.apiVersion !== 'string' || typeof o.kind !== 'string') return [];
  const type = getSerializationType(o.apiVersion, o.kind);
  if (type === 'KubernetesObject') return []; // a custom resource: no model to check against
  const found: { path: Path; field: string; known: string[] }[] = [];
  await walk(o, type, [], found);
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

async function walk(
  value: unknown,
  type: string,
  path: Path,
  found: { path: Path; field: string; known: string[] }[],
): Promise<void> {
  if (LEAF.has(type) || value === null || value === undefined) return;
  const arr = ARRAY.exec(type);
  if (arr) {
    if (Array.isArray(value))
      for (let i = 0; i < value.length; i++) await walk(value[i], arr[1]!, [...path, i], found);
    return;
  }
  const map = MAP.exec(type);
  if (map) {
    if (isRecord(value))
      for (const [k, v] of Object.entries(value)) await walk(v, map[1]!, [...path, k], found);
    return;
  }
  if (!isRecord(value)) return; // wrong types are the schema check's to report
  const attrs = await typeMap(type);
  if (!attrs) return;
  for (const [k, v] of Object.entries(value)) {
    const attr = attrs.find((a) => a.baseName === k);
    if (!attr) found.push({ path: [...path, k], field: k, known: attrs.map((a) => a.baseName) });
    else await walk(v, attr.type, [...path, k], found);
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
