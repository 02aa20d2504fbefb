import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { constructFromEvents, parseEvents } from 'js-yaml';
import type { Problem } from '../util/problem.ts';
import { lineAt, parseYamlSource, type SourceDoc } from '../util/yaml-source.ts';
import { documentRegions } from './doc-regions.ts';
import { text } from './findings.ts';
import { asArray, get, isKubeObject, isRecord, objectKey, str } from './objects.ts';

/**
 * The kustomization tree read as written, with positions: kustomize's output has none, so every
 * rendered object is traced back to the document (and patches) it came from.
 */
/**
 * A document read with the fast js-yaml; its positions (`src`, the `yaml` library's AST) are parsed
 * only when a problem has to be pointed at, which on a clean stack is never.
 */
export interface LazyDoc {
  file: string;
  value: unknown;
  readonly src: SourceDoc;
}

export interface SourceObject extends LazyDoc {
  kind: string;
  name: string;
  namespace?: string;
}

export interface PatchSource extends LazyDoc {
  /** Which object it patches; a missing field matches any. */
  target: { kind?: string; name?: string; namespace?: string };
  /** A JSON 6902 patch is a list of operations; a strategic merge patch is a partial object. */
  json6902: boolean;
  /** Set for a patch written inline in a kustomization: its positions are pinned to this line. */
  inlineLine?: number;
}

/** A Secret or ConfigMap made by a kustomize generator, with where each of its keys is written. */
export interface GeneratorSource {
  kind: 'Secret' | 'ConfigMap';
  name: string;
  file: string;
  line: number;
  keys: Map<string, { file: string; line: number }>;
}

export interface SourceSet {
  /** Absolute paths of every resource file rendered. */
  resourceFiles: Set<string>;
  kustomizations: string[];
  objects: SourceObject[];
  patches: PatchSource[];
  generators: GeneratorSource[];
  /** kustomize's `images` and `namespace` settings, for checking the sources when rendering failed. */
  images: { name: string; newName?: string; newTag?: string; digest?: string }[];
  namespace?: string;
  problems: Problem[];
}

const KUSTOMIZATION_NAMES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];

/** Shows a path as the user typed it: relative to the working directory when inside it. */
export function displayPath(abs: string): string {
  const rel = relative(process.cwd(), abs);
  return rel && !rel.startsWith('..') ? rel : abs;
}

export function findKustomization(dir: string): string | undefined {
  for (const n of KUSTOMIZATION_NAMES) {
    const p = join(dir, n);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** Reads the kustomization at `dir` and everything it includes. Never throws. */
export function loadSources(dir: string): SourceSet {
  const set: SourceSet = {
    resourceFiles: new Set(),
    kustomizations: [],
    objects: [],
    patches: [],
    generators: [],
    images: [],
    problems: [],
  };
  const parsed = new Map<string, LazyDoc[]>();
  const read = (abs: string): LazyDoc[] | undefined => {
    if (parsed.has(abs)) return parsed.get(abs);
    let text: string;
    try {
      text = readFileSync(abs, 'utf8');
    } catch {
      return undefined;
    }
    const docs = readLazily(displayPath(abs), text, set.problems);
    parsed.set(abs, docs);
    return docs;
  };
  const visited = new Set<string>();

  const walk = (kdir: string, from?: { file: string; line: number }) => {
    const kfile = findKustomization(kdir);
    if (!kfile) {
      set.problems.push({
        severity: 'error',
        file: from?.file ?? displayPath(kdir),
        line: from?.line,
        rule: 'kustomization',
        message: `no kustomization.yaml in ${displayPath(kdir)}`,
      });
      return;
    }
    if (visited.has(kfile)) return;
    visited.add(kfile);
    set.kustomizations.push(kfile);
    const kdoc = read(kfile)?.[0]?.src; // small: positions parsed eagerly
    if (!kdoc || !isRecord(kdoc.value)) return;
    const k = kdoc.value;
    const kshown = displayPath(kfile);
    // the first kustomization walked (the overlay) is applied last, so its namespace wins
    if (typeof k.namespace === 'string' && set.namespace === undefined) set.namespace = k.namespace;
    for (const img of asArray(k.images))
      if (isRecord(img) && typeof img.name === 'string')
        set.images.push({
          name: img.name,
          newName: str(img.newName),
          newTag: str(img.newTag),
          digest: str(img.digest),
        });
    const missing = (field: (string | number)[], what: string) =>
      set.problems.push({
        severity: 'error',
        file: kshown,
        line: lineAt(kdoc, field),
        rule: 'kustomization',
        message: `${what}: no such file or directory`,
      });

    for (const field of ['resources', 'bases', 'components']) {
      for (const [i, entry] of asArray(k[field]).entries()) {
        const rel = str(entry);
        if (!rel || /^[a-z][a-z0-9+.-]*:\/\//i.test(rel)) continue; // remote bases are kustomize's business
        const abs = resolve(kdir, rel);
        if (!existsSync(abs)) missing([field, i], rel);
        else if (statSync(abs).isDirectory()) walk(abs, { file: kshown, line: lineAt(kdoc, [field, i]) });
        else {
          set.resourceFiles.add(abs);
          for (const src of read(abs) ?? []) addObject(set, src);
        }
      }
    }
    const patchFile = (
      field: (string | number)[],
      rel: string,
      target: PatchSource['target'] | undefined,
    ) => {
      const abs = resolve(kdir, rel);
      if (!existsSync(abs)) missing(field, rel);
      else for (const src of read(abs) ?? []) addPatch(set, src, target);
    };
    asArray(k.patches).forEach((p, i) => {
      if (!isRecord(p)) return;
      const target = isRecord(p.target) ? targetOf(p.target) : undefined;
      const path = str(p.path);
      if (path) patchFile(['patches', i, 'path'], path, target);
      else if (typeof p.patch === 'string') addInlinePatch(set, kdoc, ['patches', i, 'patch'], target);
    });
    asArray(k.patchesStrategicMerge).forEach((p, i) => {
      if (typeof p !== 'string') return;
      if (p.includes('\n')) addInlinePatch(set, kdoc, ['patchesStrategicMerge', i], undefined);
      else patchFile(['patchesStrategicMerge', i], p, undefined);
    });
    asArray(k.patchesJson6902).forEach((p, i) => {
      if (!isRecord(p)) return;
      const target = isRecord(p.target) ? targetOf(p.target) : undefined;
      const path = str(p.path);
      if (path) patchFile(['patchesJson6902', i, 'path'], path, target);
      else addInlinePatch(set, kdoc, ['patchesJson6902', i], target);
    });
    for (const [field, kind] of [
      ['secretGenerator', 'Secret'],
      ['configMapGenerator', 'ConfigMap'],
    ] as const) {
      asArray(k[field]).forEach((g, i) => {
        if (!isRecord(g) || typeof g.name !== 'string') return;
        const gen: GeneratorSource = {
          kind,
          name: g.name,
          file: kshown,
          line: lineAt(kdoc, [field, i]),
          keys: new Map(),
        };
        asArray(g.literals).forEach((lit, j) => {
          const key = text(lit).split('=')[0]!;
          gen.keys.set(key, { file: kshown, line: lineAt(kdoc, [field, i, 'literals', j]) });
        });
        asArray(g.files).forEach((f, j) => {
          const spec = text(f);
          const key = spec.includes('=') ? spec.split('=')[0]! : spec.split('/').at(-1)!;
          gen.keys.set(key, { file: kshown, line: lineAt(kdoc, [field, i, 'files', j]) });
        });
        asArray(g.envs ?? (g.env ? [g.env] : [])).forEach((f, j) => {
          const abs = resolve(kdir, text(f));
          let content = '';
          try {
            content = readFileSync(abs, 'utf8');
          } catch {
            missing([field, i, 'envs', j], text(f));
            return;
          }
          content.split('\n').forEach((line, n) => {
            const m = /^\s*([^#=\s][^=]*)=/.exec(line);
            if (m) gen.keys.set(m[1]!.trim(), { file: displayPath(abs), line: n + 1 });
          });
        });
        set.generators.push(gen);
      });
    }
  };
  walk(resolve(dir));
  return set;
}

/** Every non-empty document of a file; a syntax error is reported with its position by `yaml`. */
export function readLazily(file: string, text: string, problems: Problem[]): LazyDoc[] {
  let full: SourceDoc[] | undefined;
  const positions = () => {
    full ??= parseYamlSource(file, text).docs;
    return full;
  };
  let values: unknown[];
  /** Each kept value's index among all the file's documents (empty ones are dropped). */
  let origin: number[] = [];
  let regions: string[] | undefined;
  try {
    const events = parseEvents(text, {});
    const all = constructFromEvents(events, { source: text }); // what js-yaml's loadAll does
    values = [];
    all.forEach((v, j) => {
      if (v === null || v === undefined) return;
      values.push(v);
      origin.push(j);
    });
    regions = documentRegions(text, events);
  } catch {
    // js-yaml's message has no position we trust: let `yaml` say what and where
    const r = parseYamlSource(file, text);
    problems.push(...r.problems);
    full = r.docs;
    values = r.docs.map((d) => d.value);
    origin = [];
  }
  const own: (SourceDoc | undefined)[] = [];
  /** Positions of one document, parsing only its own text when the file splits cleanly. */
  const ownPositions = (i: number): SourceDoc | undefined => {
    const j = origin[i];
    if (own[i] || !regions || j === undefined || regions[j] === undefined) return own[i];
    const r = parseYamlSource(file, regions[j]);
    if (r.docs.length === 1 && r.problems.length === 0) own[i] = { ...r.docs[0]!, index: j };
    else regions = undefined; // `yaml` sees it differently: read the file as a whole from now on
    return own[i];
  };
  return values.map((value, i) => ({
    file,
    value,
    get src() {
      const mine = ownPositions(i);
      if (mine) return mine;
      const docs = positions();
      return docs[i] ?? docs.at(-1) ?? parseYamlSource(file, '{}\n').docs[0]!;
    },
  }));
}

function addObject(set: SourceSet, doc: LazyDoc): void {
  const v = doc.value;
  if (!isKubeObject(v)) {
    set.problems.push({
      severity: 'error',
      file: doc.file,
      line: doc.src.line,
      rule: 'schema',
      message: 'not a Kubernetes object: a document needs apiVersion, kind and metadata.name',
    });
    return;
  }
  set.objects.push({
    file: doc.file,
    value: v,
    get src() {
      return doc.src;
    },
    kind: v.kind,
    name: v.metadata.name,
    namespace: str(v.metadata.namespace),
  });
}

function addPatch(
  set: SourceSet,
  doc: LazyDoc,
  target: PatchSource['target'] | undefined,
  inlineLine?: number,
): void {
  const v = doc.value;
  const base = {
    file: doc.file,
    value: v,
    get src() {
      return doc.src;
    },
    inlineLine,
  };
  if (Array.isArray(v)) {
    set.patches.push({ ...lazy(base, doc), target: target ?? {}, json6902: true });
  } else if (isRecord(v)) {
    const meta = isRecord(v.metadata) ? v.metadata : {};
    set.patches.push({
      ...lazy(base, doc),
      target: target ?? { kind: str(v.kind), name: str(meta.name), namespace: str(meta.namespace) },
      json6902: false,
    });
  }
}

/** An inline patch has no file of its own; it is located at its entry in the kustomization. */
function addInlinePatch(
  set: SourceSet,
  kdoc: SourceDoc,
  field: (string | number)[],
  target: PatchSource['target'] | undefined,
): void {
  const line = lineAt(kdoc, field);
  const inline = get(kdoc.value, field);
  if (typeof inline !== 'string') return;
  const { docs } = parseYamlSource(kdoc.file, inline);
  // positions inside the inline text are relative to it; they are all pinned to the entry's line
  for (const d of docs) addPatch(set, { file: d.file, value: d.value, src: { ...d, line } }, target, line);
}

/** Spreading an object evaluates its getters: keep `src` lazy by defining it again. */
function lazy<T extends { src: SourceDoc }>(o: T, doc: LazyDoc): T {
  const { src: _ignored, ...rest } = Object.getOwnPropertyDescriptors(o);
  const copy = Object.defineProperties({}, rest) as T;
  Object.defineProperty(copy, 'src', { get: () => doc.src, enumerable: true });
  return copy;
}

function targetOf(t: Record<string, unknown>): PatchSource['target'] {
  return { kind: str(t.kind), name: str(t.name), namespace: str(t.namespace) };
}

export function sourceKey(o: SourceObject): string {
  return objectKey(o.kind, o.namespace, o.name);
}
