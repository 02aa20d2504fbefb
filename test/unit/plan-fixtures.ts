/** Loads the rollout-stage fixtures in test/fixtures/k8s by file and `fixture/stage` annotation. */
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import type { Obj } from '../../src/plan/conditions.ts';

const cache = new Map<string, Obj[]>();

export function docs(file: string): Obj[] {
  if (!cache.has(file)) {
    const text = readFileSync(new URL(`../fixtures/k8s/${file}`, import.meta.url), 'utf8');
    cache.set(
      file,
      parseAllDocuments(text)
        .map((d) => d.toJS() as Obj)
        .filter(Boolean),
    );
  }
  return cache.get(file)!;
}

/** A deep copy of the document of `file` whose stage annotation is `stage`. */
export function stage(file: string, name: string): Obj {
  const found = docs(file).find((d) => d.metadata?.annotations?.['fixture/stage'] === name);
  if (!found) throw new Error(`no stage "${name}" in ${file}`);
  return structuredClone(found);
}
