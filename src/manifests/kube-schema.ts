import { createRequire } from 'node:module';
import { getSerializationType } from '@kubernetes/client-node/dist/util.js';
import type { Finding, Path } from './findings.ts';
import { showObject, showPath } from './findings.ts';
import type { KubeObject } from './render.ts';

/**
 * Checks an object against the Kubernetes OpenAPI schema of its apiVersion/kind, using the
 * validators kubernetes-models generates from it. Each kind is imported on first use: loading
 * every model would cost more than the whole of `validate` may take.
 */

interface AjvError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}
type ModelClass = new (data: unknown) => { validate(): void };

const models = new Map<string, ModelClass | undefined>();
const require = createRequire(import.meta.url);

/**
 * `kubernetes-models/<group>/<version>/<Kind>` (core: `kubernetes-models/v1/<Kind>`), required as
 * CommonJS: the package ships both builds, and its ESM graph of a hundred-odd validator modules
 * loads about 100 ms slower than the same graph through require().
 */
function loadModel(apiVersion: string, kind: string): ModelClass | undefined {
  const key = `${apiVersion}/${kind}`;
  if (!models.has(key)) {
    let model: ModelClass | undefined;
    try {
      const mod = require(`kubernetes-models/${apiVersion}/${kind}`) as Record<string, unknown>;
      if (typeof mod[kind] === 'function') model = mod[kind] as ModelClass;
    } catch {
      model = undefined; // no such kind in kubernetes-models
    }
    models.set(key, model);
  }
  return models.get(key);
}

/** Loads the validators of these objects' kinds, while kustomize renders. */
export function preloadSchemas(objects: readonly KubeObject[]): void {
  for (const o of objects)
    if (typeof o.apiVersion === 'string' && typeof o.kind === 'string' && wellFormed(o.apiVersion, o.kind))
      loadModel(o.apiVersion, o.kind);
}

const wellFormed = (apiVersion: string, kind: string) =>
  /^[a-z0-9.-]+(\/[a-z0-9]+)?$/i.test(apiVersion) && /^[A-Za-z][A-Za-z0-9]*$/.test(kind);

/** Whether Kubernetes itself defines the group (client-node's list); otherwise it is a custom resource. */
export function isBuiltIn(apiVersion: string, kind: string): boolean {
  return getSerializationType(apiVersion, kind) !== 'KubernetesObject';
}

export async function schemaFindings(o: KubeObject): Promise<Finding[]> {
  const { apiVersion, kind } = o;
  const at = (path: Path, message: string, severity: Finding['severity'] = 'error'): Finding => ({
    severity,
    rule: 'schema',
    message,
    object: o,
    path,
  });
  if (typeof apiVersion !== 'string' || !/^[a-z0-9.-]+(\/[a-z0-9]+)?$/i.test(apiVersion))
    return [at(['apiVersion'], `${showObject(o)}: apiVersion must be a string like "apps/v1"`)];
  if (!/^[A-Za-z][A-Za-z0-9]*$/.test(kind))
    return [at(['kind'], `${showObject(o)}: kind must be a word like "Deployment"`)];
  const Model = loadModel(apiVersion, kind);
  if (!Model) {
    if (!isBuiltIn(apiVersion, kind))
      return [
        at(['kind'], `${apiVersion} ${kind} is a custom resource; its schema is not checked`, 'warning'),
      ];
    return [at(['kind'], `unknown kind: Kubernetes has no ${kind} in ${apiVersion}`)];
  }
  try {
    new Model(withoutBase64Newlines(o)).validate();
    return [];
  } catch (err) {
    const errors = (err as { errors?: AjvError[] }).errors;
    if (!Array.isArray(errors)) return [at([], `${showObject(o)}: ${String(err)}`)];
    return describe(o, errors).map(({ path, message }) => at(path, `${showObject(o)}: ${message}`));
  }
}

/**
 * kustomize writes long base64 values as block scalars over several lines; the API server's
 * decoder ignores the newlines, so the schema's `byte` format must see them removed.
 */
function withoutBase64Newlines(o: KubeObject): KubeObject {
  if (o.kind !== 'Secret' || typeof o.data !== 'object' || o.data === null) return o;
  const data = Object.fromEntries(
    Object.entries(o.data as Record<string, unknown>).map(([k, v]) => [
      k,
      typeof v === 'string' ? v.replace(/[\r\n]/g, '') : v,
    ]),
  );
  return { ...o, data };
}

/** One message per field: ajv reports `oneOf` branches (int-or-string, quantity) separately. */
export function describe(o: KubeObject, errors: AjvError[]): { path: Path; message: string }[] {
  const byPath = new Map<string, AjvError[]>();
  for (const e of errors) byPath.set(e.instancePath, [...(byPath.get(e.instancePath) ?? []), e]);
  const out: { path: Path; message: string }[] = [];
  for (const [pointer, group] of byPath) {
    const path = toPath(pointer, o);
    const where = showPath(path) || 'the object';
    const value = got(getAt(o, path));
    const formats = group.filter((e) => e.keyword === 'format').map((e) => String(e.params.format));
    if (formats.includes('quantity')) {
      out.push({ path, message: `${where} must be a quantity such as 500m, 2 or 1Gi${value}` });
      continue;
    }
    if (group.some((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf')) {
      const types = [...new Set(group.filter((e) => e.keyword === 'type').map((e) => String(e.params.type)))];
      out.push({ path, message: `${where} must be ${types.join(' or ') || 'a valid value'}${value}` });
      continue;
    }
    for (const e of group) {
      if (e.keyword === 'required') {
        const field = String(e.params.missingProperty);
        out.push({
          path,
          message: `${where === 'the object' ? '' : `${where}: `}missing required field "${field}"`,
        });
      } else if (e.keyword === 'type') {
        out.push({ path, message: `${where} must be ${String(e.params.type)}${value}` });
      } else if (e.keyword === 'enum') {
        const allowed = (e.params.allowedValues as unknown[]).map(String).join(', ');
        out.push({ path, message: `${where} must be one of ${allowed}${value}` });
      } else if (e.keyword === 'format') {
        out.push({ path, message: `${where} must be a valid ${String(e.params.format)}${value}` });
      } else {
        out.push({ path, message: `${where} ${e.message ?? 'is invalid'}` });
      }
    }
  }
  return out;
}

function toPath(pointer: string, o: KubeObject): Path {
  const segs = pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  // array indices become numbers so they print as [0] and match YAML sequences
  const path: Path = [];
  let v: unknown = o;
  for (const s of segs) {
    const seg = Array.isArray(v) && /^\d+$/.test(s) ? Number(s) : s;
    path.push(seg);
    v = v === null || typeof v !== 'object' ? undefined : (v as Record<string, unknown>)[s];
  }
  return path;
}

function getAt(o: unknown, path: Path): unknown {
  let v = o;
  for (const s of path)
    v = v === null || typeof v !== 'object' ? undefined : (v as Record<string, unknown>)[s];
  return v;
}

function got(v: unknown): string {
  if (v === undefined || (typeof v === 'object' && v !== null) || typeof v === 'function') return '';
  const s = JSON.stringify(v);
  if (typeof s !== 'string') return '';
  return `, got ${s.length > 40 ? `${s.slice(0, 37)}...` : s}`;
}
