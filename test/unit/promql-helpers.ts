import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const MANIFESTS = resolve(import.meta.dirname, '../../manifests');

/** A copy of the stack's manifests with `find` (which must occur once) replaced in `file`. */
export function brokenCopy(
  file: string,
  find: string,
  replace: string,
): { dir: string; catalog: string; file: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'kindling-promql-'));
  cpSync(MANIFESTS, dir, { recursive: true });
  const path = join(dir, file);
  const text = readFileSync(path, 'utf8');
  const count = text.split(find).length - 1;
  if (count !== 1) throw new Error(`"${find}" occurs ${count} times in ${file}`);
  writeFileSync(path, text.replace(find, replace));
  return {
    dir,
    catalog: join(dir, 'stack.yaml'),
    file: path,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** 1-based line of the only line of `file` containing `needle`. */
export function lineOf(file: string, needle: string): number {
  const lines = readFileSync(file, 'utf8').split('\n');
  const hits = lines.flatMap((l, i) => (l.includes(needle) ? [i + 1] : []));
  if (hits.length !== 1) throw new Error(`"${needle}" is on ${hits.length} lines of ${file}`);
  return hits[0]!;
}
