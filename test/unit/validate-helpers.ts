import { accessSync, constants, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, relative, resolve } from 'node:path';
import { describe, it } from 'vitest';
import type { Problem } from '../../src/util/problem.ts';

const isCI = process.env.CI === 'true' || process.env.CI === '1';
const onPath = (bin: string) =>
  (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, bin), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });

/**
 * `describe` for suites that render with the real `kubectl kustomize`. Without kubectl the suite
 * is skipped with the reason in its title; under CI it fails instead.
 */
export function describeWithKubectl(title: string, fn: () => void): void {
  const reason = 'kubectl is not on PATH (it renders the kustomize overlays)';
  if (onPath('kubectl')) describe(title, fn);
  else if (isCI)
    describe(title, () => {
      it('needs kubectl', () => {
        throw new Error(`CI=true and ${reason}`);
      });
    });
  else describe.skip(`${title} — skipped: ${reason}`, fn);
}

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
