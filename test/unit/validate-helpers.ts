import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import type { Problem } from '../../src/util/problem.ts';

export const GOOD = resolve(import.meta.dirname, '../fixtures/validate/good');

/** Replace `find` (which must occur exactly once) with `replace`; or write a whole new file. */
export type Edit = { file: string; find: string; replace: string } | { file: string; create: string };

/** A copy of the valid fixture stack in a temp dir, with the edits applied. */
export function brokenStack(edits: readonly Edit[]): { dir: string; catalog: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'kindling-validate-'));
  cpSync(GOOD, dir, { recursive: true });
  for (const e of edits) {
    const path = join(dir, e.file);
    if ('create' in e) {
      writeFileSync(path, e.create);
      continue;
    }
    const text = readFileSync(path, 'utf8');
    const count = text.split(e.find).length - 1;
    if (count !== 1) throw new Error(`fixture edit: "${e.find}" occurs ${count} times in ${e.file}`);
    writeFileSync(path, text.replace(e.find, e.replace));
  }
  return {
    dir,
    catalog: join(dir, 'stack.yaml'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Problems with their file relative to the stack dir, for assertions. */
export function relativeTo(dir: string, problems: readonly Problem[]): Problem[] {
  return problems.map((p) => ({ ...p, file: p.file ? relative(dir, resolve(p.file)) : p.file }));
}
