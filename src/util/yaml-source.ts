import { type Document, isCollection, isMap, isScalar, isSeq, LineCounter, parseAllDocuments } from 'yaml';
import type { Problem } from './problem.ts';

/** A parsed YAML document that remembers where each of its nodes came from. */
export interface SourceDoc {
  file: string;
  /** Index of the document in its file (0-based). */
  index: number;
  /** Line where the document starts (1-based). */
  line: number;
  value: unknown;
  doc: Document.Parsed;
  lineCounter: LineCounter;
}

export interface ParsedSource {
  docs: SourceDoc[];
  problems: Problem[];
}

/** Parses every document of a YAML file, reporting syntax errors with their positions instead of throwing. */
export function parseYamlSource(file: string, text: string): ParsedSource {
  const lineCounter = new LineCounter();
  const problems: Problem[] = [];
  const docs: SourceDoc[] = [];
  let parsed: Document.Parsed[];
  try {
    parsed = parseAllDocuments(text, {
      lineCounter,
      prettyErrors: false,
      uniqueKeys: true,
    }) as Document.Parsed[];
  } catch (err) {
    problems.push({ severity: 'error', file, line: 1, rule: 'yaml-syntax', message: String(err) });
    return { docs, problems };
  }
  if (!Array.isArray(parsed)) parsed = [parsed];
  parsed.forEach((doc, index) => {
    const start = doc.contents?.range?.[0] ?? doc.range?.[0] ?? 0;
    for (const e of [...doc.errors, ...doc.warnings]) {
      const pos = lineCounter.linePos(e.pos[0]);
      problems.push({
        severity: doc.errors.includes(e as never) ? 'error' : 'warning',
        file,
        line: pos.line,
        column: pos.col,
        rule: 'yaml-syntax',
        message: firstLine(e.message),
      });
    }
    if (doc.errors.length) return;
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      problems.push({
        severity: 'error',
        file,
        line: lineCounter.linePos(start).line,
        rule: 'yaml-syntax',
        message: String(err),
      });
      return;
    }
    if (value === null || value === undefined) return; // empty document, e.g. a trailing `---`
    docs.push({ file, index, line: lineCounter.linePos(start).line, value, doc, lineCounter });
  });
  return { docs, problems };
}

/**
 * The line of the node at `path` in a document, or of its nearest existing ancestor.
 * For a map key it points at the key, which is where a person looks.
 */
export function lineAt(src: SourceDoc, path: readonly (string | number)[]): number {
  let node: unknown = src.doc.contents;
  let best = src.line;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((it) => isScalar(it.key) && String(it.key.value) === String(seg));
      if (!pair) break;
      const keyRange = isScalar(pair.key) ? pair.key.range : undefined;
      if (keyRange) best = src.lineCounter.linePos(keyRange[0]).line;
      node = pair.value;
    } else if (isSeq(node)) {
      const item = node.items[Number(seg)];
      if (item === undefined) break;
      const r = (item as { range?: [number, number, number] }).range;
      if (r) best = src.lineCounter.linePos(r[0]).line;
      node = item;
    } else {
      break;
    }
  }
  if (!isCollection(node) && isScalar(node) && node.range) {
    // a scalar value on its own line (block scalars) is more precise than its key
    const l = src.lineCounter.linePos(node.range[0]).line;
    if (l > best && l - best <= 1) best = l;
  }
  return best;
}

/** Turns a JSON pointer (`/spec/replicas`, as ajv reports) into path segments. */
export function pointerToPath(pointer: string): string[] {
  if (!pointer) return [];
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.trim();
}
