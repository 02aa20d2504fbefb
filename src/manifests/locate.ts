import { isMap, isScalar, isSeq, type Node } from 'yaml';
import type { SourceDoc } from '../util/yaml-source.ts';
import { type Path, text } from './findings.ts';
import { get, isRecord } from './objects.ts';
import type { KubeObject } from './render.ts';
import type { GeneratorSource, PatchSource, SourceObject, SourceSet } from './sources.ts';

export interface Location {
  file: string;
  line?: number;
}

interface Match {
  /** How many path segments were found in the source. */
  depth: number;
  line: number;
}

/**
 * Finds `path` of the rendered object `rendered` in a source document. Lists are matched by
 * their items' merge keys (name, containerPort, mountPath) before position, because an overlay
 * patch merges containers by name, not by index.
 */
export function matchPath(src: SourceDoc, rendered: unknown, path: Path): Match {
  let node: unknown = src.doc.contents;
  let value: unknown = rendered;
  let line = src.line;
  let depth = 0;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((it) => isScalar(it.key) && String(it.key.value) === String(seg));
      if (!pair) break;
      const r = isScalar(pair.key) ? pair.key.range : undefined;
      if (r) line = src.lineCounter.linePos(r[0]).line;
      node = pair.value;
    } else if (isSeq(node)) {
      const item = Array.isArray(value) ? value[Number(seg)] : undefined;
      const found = findItem(node.items as Node[], item, Number(seg));
      if (!found) break;
      const r = found.range;
      if (r) line = src.lineCounter.linePos(r[0]).line;
      node = found;
    } else {
      break;
    }
    value = get(value, [seg]);
    depth++;
  }
  return { depth, line };
}

const MERGE_KEYS = ['name', 'containerPort', 'mountPath', 'devicePath', 'ip', 'topologyKey'];

function findItem(items: Node[], rendered: unknown, index: number): Node | undefined {
  if (isRecord(rendered)) {
    for (const k of MERGE_KEYS) {
      if (rendered[k] === undefined) continue;
      const want = text(rendered[k]);
      return items.find(
        (it) =>
          isMap(it) &&
          it.items.some(
            (p) =>
              isScalar(p.key) && p.key.value === k && isScalar(p.value) && String(p.value.value) === want,
          ),
      );
    }
  }
  return items[index];
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Turns a JSON 6902 `path` (`/spec/template/spec/containers/0/image`) into segments. */
function pointerSegments(pointer: string): string[] {
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Maps rendered objects back to the file and line a person should edit. */
export class Locator {
  readonly #objects = new Map<string, SourceObject[]>();
  readonly #patches: PatchSource[];
  readonly #generators: GeneratorSource[];
  readonly #fallback: string;

  constructor(sources: SourceSet, fallbackFile: string) {
    for (const o of sources.objects) {
      const k = `${o.kind}/${o.name}`;
      this.#objects.set(k, [...(this.#objects.get(k) ?? []), o]);
    }
    this.#patches = sources.patches;
    this.#generators = sources.generators;
    this.#fallback = fallbackFile;
  }

  /** The source document an object was written in (first by kind/name, then namespace). */
  source(o: KubeObject): SourceObject | undefined {
    const list = this.#objects.get(`${o.kind}/${o.metadata?.name}`) ?? [];
    return list.find((s) => (s.namespace ?? '') === (o.metadata?.namespace ?? '')) ?? list[0];
  }

  patchesOf(o: KubeObject): PatchSource[] {
    return this.#patches.filter(
      (p) =>
        (!p.target.kind || p.target.kind === o.kind) &&
        (!p.target.name || p.target.name === o.metadata?.name) &&
        (!p.target.namespace || !o.metadata?.namespace || p.target.namespace === o.metadata.namespace),
    );
  }

  /**
   * Where a field of a rendered object was written: the last patch that sets it, else the
   * base document; a field nobody wrote (a missing one) points at its nearest written parent.
   */
  locate(o: KubeObject | undefined, path: Path = [], preferBase = false): Location {
    if (!o) return { file: this.#fallback };
    const gen = this.#generator(o);
    if (gen) {
      const key = ['data', 'stringData', 'binaryData'].includes(String(path[0]))
        ? gen.keys.get(String(path[1]))
        : undefined;
      if (key) return key;
    }
    const base = this.source(o);
    const patches = this.patchesOf(o);
    if (preferBase && base && matchPath(base.src, o, path).depth === path.length)
      return { file: base.file, line: matchPath(base.src, o, path).line };
    for (const p of [...patches].reverse()) {
      if (p.json6902) {
        const hit = this.#json6902(p, path);
        if (hit) return hit;
        continue;
      }
      const m = matchPath(p.src, o, path);
      if (m.depth === path.length && path.length > 0) return { file: p.file, line: p.inlineLine ?? m.line };
    }
    if (base) return { file: base.file, line: matchPath(base.src, o, path).line };
    const p = patches.at(-1);
    if (p) return { file: p.file, line: p.inlineLine ?? p.src.line };
    if (gen) return { file: gen.file, line: gen.line };
    return { file: this.#fallback };
  }

  /** The generator that made an object; generated names carry a content hash suffix. */
  #generator(o: KubeObject): GeneratorSource | undefined {
    const name = o.metadata?.name ?? '';
    return [...this.#generators]
      .reverse()
      .find(
        (g) =>
          g.kind === o.kind &&
          (name === g.name || new RegExp(`^${escapeRe(g.name)}-[a-z0-9]{10}$`).test(name)),
      );
  }

  #json6902(p: PatchSource, path: Path): Location | undefined {
    const ops = Array.isArray(p.src.value) ? p.src.value : [];
    for (let i = ops.length - 1; i >= 0; i--) {
      const op = ops[i];
      if (!isRecord(op) || typeof op.path !== 'string') continue;
      const segs = pointerSegments(op.path);
      const covers = segs.every((s, j) => j < path.length && (s === String(path[j]) || s === '-'));
      if (covers) return { file: p.file, line: p.inlineLine ?? matchPath(p.src, ops, [i]).line };
    }
    return undefined;
  }
}
