/**
 * The expectation vocabulary of the catalog's checks (pure).
 *
 * Text (a reply, a query's first column, a command's output, an HTTP body):
 *   equals: X          the whole value is X (for a list: exactly these items, in order)
 *   matches: REGEX     the value (for a list: some item) matches
 *   contains: [A, B]   every item is present (text: as substrings; list: as items)
 *
 * JSON (`json:` under an http check): `{ PATH: SPEC }`; PATH is `a.b[0].c`, `[*]` takes every item
 * (and then every item must satisfy SPEC, and there must be at least one). SPEC is a scalar (equal,
 * compared as text), a list (one of), or an object with any of `equals`, `oneOf`, `matches`,
 * `type` (string|number|boolean|array|object|null), `exists` (true|false), `minItems`.
 */
import type { ParamProblem } from './types.ts';

export const TEXT_KEYS = ['equals', 'matches', 'contains'] as const;
export const JSON_SPEC_KEYS = ['equals', 'oneOf', 'matches', 'type', 'exists', 'minItems'] as const;

export interface TextExpect {
  equals?: string | string[];
  matches?: string;
  contains?: string[];
}

/** A mismatch in words, or undefined when `actual` satisfies `spec`. */
export function checkText(actual: string | string[], spec: TextExpect): string | undefined {
  if (spec.equals !== undefined) {
    const want = spec.equals;
    const same = Array.isArray(actual)
      ? Array.isArray(want)
        ? want.length === actual.length && want.every((w, i) => String(w) === actual[i])
        : actual.length === 1 && actual[0] === String(want)
      : actual === (Array.isArray(want) ? want.join('\n') : String(want));
    if (!same) return `expected ${show(want)}`;
  }
  if (spec.matches !== undefined) {
    const re = new RegExp(spec.matches);
    const ok = Array.isArray(actual) ? actual.some((a) => re.test(a)) : re.test(actual);
    if (!ok) return `expected a value matching /${spec.matches}/`;
  }
  if (spec.contains !== undefined) {
    const missing = spec.contains
      .map(String)
      .filter((w) => (Array.isArray(actual) ? !actual.includes(w) : !actual.includes(w)));
    if (missing.length) return `missing ${missing.map((m) => JSON.stringify(m)).join(', ')}`;
  }
  return undefined;
}

export function describeText(spec: TextExpect): string {
  const parts: string[] = [];
  if (spec.equals !== undefined) parts.push(`= ${show(spec.equals)}`);
  if (spec.matches !== undefined) parts.push(`~ /${spec.matches}/`);
  if (spec.contains !== undefined)
    parts.push(`contains ${spec.contains.map((c) => JSON.stringify(c)).join(', ')}`);
  return parts.join(' and ');
}

export function validateText(value: unknown, path: (string | number)[]): ParamProblem[] {
  if (value === undefined) return [];
  if (!isObject(value)) return [{ path, message: `must be a map with ${TEXT_KEYS.join(', ')}` }];
  const problems: ParamProblem[] = [];
  for (const [k, v] of Object.entries(value)) {
    // unknown keys are reported by the check type, which knows its whole vocabulary
    if (k === 'matches') problems.push(...validateRegex(v, [...path, k]));
    else if (k === 'contains' && (!Array.isArray(v) || v.some((x) => !isScalar(x))))
      problems.push({ path: [...path, k], message: 'must be a list of values' });
    else if (k === 'equals' && !isScalar(v) && !(Array.isArray(v) && v.every(isScalar)))
      problems.push({ path: [...path, k], message: 'must be a value or a list of values' });
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// JSON paths

type Seg = { key: string } | { index: number } | { all: true };

export function parsePath(path: string): Seg[] {
  const segs: Seg[] = [];
  const re = /\.?([^.[\]]+)|\[(\d+|\*)\]/gy;
  let at = 0;
  const text = path === '$' ? '' : path.replace(/^\$\.?/, '');
  re.lastIndex = 0;
  while (at < text.length) {
    const m = re.exec(text);
    if (!m) break;
    if (m[1] !== undefined) segs.push(m[1] === '*' ? { all: true } : { key: m[1] });
    else if (m[2] === '*') segs.push({ all: true });
    else segs.push({ index: Number(m[2]) });
    at = re.lastIndex;
  }
  if (at !== text.length) throw new Error(`cannot read JSON path "${path}" at "${text.slice(at)}"`);
  return segs;
}

interface Found {
  /** Concrete path, e.g. `data.result[2].value[1]`. */
  path: string;
  value: unknown;
  /** For a wildcard path: the item the wildcard chose (names what failed, e.g. a scrape target). */
  item?: unknown;
  itemPath?: string;
}

/** Every value at `path` in `doc`; `undefined` values where a key is absent (not under a wildcard). */
export function select(doc: unknown, path: string): { found: Found[]; wildcard: boolean } {
  let cur: Found[] = [{ path: '', value: doc }];
  let wildcard = false;
  for (const seg of parsePath(path)) {
    const next: Found[] = [];
    for (const f of cur) {
      if ('all' in seg) {
        wildcard = true;
        const entries = Array.isArray(f.value)
          ? f.value.map((v, i) => [`${f.path}[${i}]`, v] as const)
          : isObject(f.value)
            ? Object.entries(f.value).map(([k, v]) => [join(f.path, k), v] as const)
            : [];
        for (const [p, v] of entries) next.push({ path: p, value: v, item: v, itemPath: p });
      } else if ('index' in seg) {
        const v = Array.isArray(f.value) ? f.value[seg.index] : undefined;
        next.push({ ...f, path: `${f.path}[${seg.index}]`, value: v });
      } else {
        const v = isObject(f.value) ? f.value[seg.key] : undefined;
        next.push({ ...f, path: join(f.path, seg.key), value: v });
      }
    }
    cur = next;
  }
  return { found: cur, wildcard };
}

/** Every mismatch of `doc` against a `json:` expectation map, in words naming the path. */
export function checkJson(doc: unknown, spec: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const [path, want] of Object.entries(spec)) {
    const { found, wildcard } = select(doc, path);
    if (wildcard && found.length === 0) {
      problems.push(`${path}: no values (expected ${describeJsonSpec(want)})`);
      continue;
    }
    for (const f of found) {
      const why = checkJsonValue(f.value, want);
      if (!why) continue;
      const shown =
        f.item !== undefined && f.itemPath
          ? `${f.itemPath} = ${compact(f.item)}`
          : `${f.path || '$'} = ${compact(f.value)}`;
      problems.push(`${shown} (${why})`);
    }
  }
  return problems;
}

function checkJsonValue(actual: unknown, want: unknown): string | undefined {
  if (isScalar(want)) return sameScalar(actual, want) ? undefined : `expected ${JSON.stringify(want)}`;
  if (Array.isArray(want))
    return want.some((w) => sameScalar(actual, w))
      ? undefined
      : `expected one of ${want.map((w) => JSON.stringify(w)).join(', ')}`;
  const spec = want as Record<string, unknown>;
  if (spec.exists !== undefined && (actual !== undefined) !== spec.exists)
    return spec.exists ? 'expected to exist' : 'expected to be absent';
  if (spec.equals !== undefined && !sameScalar(actual, spec.equals))
    return `expected ${JSON.stringify(spec.equals)}`;
  if (Array.isArray(spec.oneOf) && !spec.oneOf.some((w) => sameScalar(actual, w)))
    return `expected one of ${spec.oneOf.map((w) => JSON.stringify(w)).join(', ')}`;
  if (typeof spec.matches === 'string' && !new RegExp(spec.matches).test(String(actual ?? '')))
    return `expected to match /${spec.matches}/`;
  if (spec.type !== undefined && typeOf(actual) !== spec.type)
    return `expected ${spec.type}, got ${typeOf(actual)}`;
  if (typeof spec.minItems === 'number' && !(Array.isArray(actual) && actual.length >= spec.minItems))
    return `expected at least ${spec.minItems} items`;
  return undefined;
}

export function describeJson(spec: Record<string, unknown>): string {
  return Object.entries(spec)
    .map(([p, w]) => `${p} ${describeJsonSpec(w)}`)
    .join(', ');
}

function describeJsonSpec(want: unknown): string {
  if (isScalar(want)) return `= ${JSON.stringify(want)}`;
  if (Array.isArray(want)) return `in ${want.map((w) => JSON.stringify(w)).join('|')}`;
  return Object.entries(want as Record<string, unknown>)
    .map(([k, v]) => `${k} ${Array.isArray(v) ? v.join('|') : String(v)}`)
    .join(' ');
}

export function validateJson(value: unknown, path: (string | number)[]): ParamProblem[] {
  if (value === undefined) return [];
  if (!isObject(value)) return [{ path, message: 'must be a map of JSON path → expected value' }];
  const problems: ParamProblem[] = [];
  for (const [p, want] of Object.entries(value)) {
    const at = [...path, p];
    try {
      parsePath(p);
    } catch (err) {
      problems.push({ path: at, message: (err as Error).message });
      continue;
    }
    if (isScalar(want) || (Array.isArray(want) && want.every(isScalar))) continue;
    if (!isObject(want)) {
      problems.push({ path: at, message: 'must be a value, a list of values, or a map of checks' });
      continue;
    }
    for (const [k, v] of Object.entries(want)) {
      if (!(JSON_SPEC_KEYS as readonly string[]).includes(k))
        problems.push({
          path: [...at, k],
          message: `unknown JSON check "${k}"; use ${JSON_SPEC_KEYS.join(', ')}`,
        });
      else if (k === 'matches') problems.push(...validateRegex(v, [...at, k]));
      else if (
        k === 'type' &&
        !['string', 'number', 'boolean', 'array', 'object', 'null'].includes(String(v))
      )
        problems.push({
          path: [...at, k],
          message: 'must be string, number, boolean, array, object or null',
        });
      else if (k === 'exists' && typeof v !== 'boolean')
        problems.push({ path: [...at, k], message: 'must be true or false' });
      else if (k === 'minItems' && !(Number.isInteger(v) && (v as number) >= 0))
        problems.push({ path: [...at, k], message: 'must be a whole number' });
      else if (k === 'oneOf' && !(Array.isArray(v) && v.every(isScalar)))
        problems.push({ path: [...at, k], message: 'must be a list of values' });
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------

export function validateRegex(v: unknown, path: (string | number)[]): ParamProblem[] {
  if (typeof v !== 'string') return [{ path, message: 'must be a regular expression (text)' }];
  try {
    new RegExp(v);
    return [];
  } catch (err) {
    return [{ path, message: `invalid regular expression: ${(err as Error).message}` }];
  }
}

function sameScalar(actual: unknown, want: unknown): boolean {
  if (actual === null || actual === undefined) return want === null;
  if (typeof actual === 'object') return false;
  return String(actual) === String(want);
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (v === undefined) return 'absent';
  return typeof v;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function isScalar(v: unknown): v is string | number | boolean | null {
  return v === null || ['string', 'number', 'boolean'].includes(typeof v);
}

function join(base: string, key: string): string {
  return base ? `${base}.${key}` : key;
}

/** Short JSON for messages (long values cut). */
export function compact(v: unknown, max = 200): string {
  const s = v === undefined ? 'absent' : typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

function show(v: unknown): string {
  return Array.isArray(v) ? `[${v.map((x) => JSON.stringify(x)).join(', ')}]` : JSON.stringify(v);
}
