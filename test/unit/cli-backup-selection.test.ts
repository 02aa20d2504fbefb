// Issue #16 defect 1: the PR pipeline backs up "the components deploy reported", which include
// components without backups. The lists here are the exact output of scripts/changed-components.ts
// (run as the workflow runs it, `--with minio`), expanded the way the deploy action resolves them.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planBackups, selectBackups, withBackups } from '../../src/app/backup.ts';
import { loadStack, resolveSelection } from '../../src/catalog/index.ts';

const stack = loadStack('manifests/stack.yaml');

/** What scripts/changed-components.ts prints for these changed files, as pr-validation.yml calls it. */
const seen = new Map<string, { mode: string; profile: string; components: string[] }>();
function selectionFor(files: string[]): { mode: string; profile: string; components: string[] } {
  const key = files.join('\n');
  if (!seen.has(key)) seen.set(key, run(files));
  return seen.get(key)!;
}
function run(files: string[]) {
  const list = join(mkdtempSync(join(tmpdir(), 'kindling-changed-')), 'changed.txt');
  writeFileSync(list, `${files.join('\n')}\n`);
  const out = execFileSync(
    process.execPath,
    ['scripts/changed-components.ts', '--changed-files', list, '--full-stack', 'false', '--with', 'minio'],
    { encoding: 'utf8' },
  );
  return JSON.parse(out);
}

/** The components the deploy action deploys for that selection (its `components` output). */
const deployed = (sel: { profile: string; components: string[] }) =>
  resolveSelection(stack, sel.components.length ? sel.components : [sel.profile]).map((c) => c.name);

const cases = [
  ...Object.values(stack.components).map((c) => [`manifests/${c.manifests[0]}`]),
  ['src/cli/main.ts'],
  ['actions/backup/action.yml'],
];

describe('backup of the deployed components (exact changed-components.ts selections)', () => {
  it.each(cases)('changed %s: backs up those with backups, lists the rest as not applicable', (file) => {
    const sel = selectionFor([file]);
    if (sel.mode === 'none') return;
    const names = deployed(sel);
    const plan = planBackups(stack, names, withBackups(stack));
    const expectedSelected = names.filter((n) => stack.components[n]!.backups.length > 0);
    expect([...new Set(plan.selected.map((s) => s.component.name))]).toEqual(expectedSelected);
    expect(plan.notApplicable).toEqual(names.filter((n) => !expectedSelected.includes(n)));
    // the backup run itself takes the same list without a usage error
    expect(selectBackups(stack, names, []).length).toBe(plan.selected.length);
  });

  it('the selections do include components without backups (the case that used to fail)', () => {
    const all = cases.flatMap(([f]) => {
      const sel = selectionFor([f!]);
      return sel.mode === 'none' ? [] : deployed(sel);
    });
    expect(all.some((n) => stack.components[n]!.backups.length === 0)).toBe(true);
  });

  it('a selection where nothing has a backup, or an unknown name, is still a usage error', () => {
    const without = Object.values(stack.components)
      .filter((c) => c.backups.length === 0)
      .map((c) => c.name);
    expect(() => planBackups(stack, without.slice(0, 1), [])).toThrow(/none of .* has a backup/);
    expect(() => planBackups(stack, ['no-such-component'], [])).toThrow(
      /unknown component "no-such-component"/,
    );
  });
});

describe('backup parameters: one rule for validate and the backup selection', () => {
  it('an unknown backup type and a bad parameter read the same from both, with the catalog line', async () => {
    const { parameterProblems } = await import('../../src/app/catalog.ts');
    const s = loadStack('manifests/stack.yaml');
    const first = s.components[withBackups(s)[0]!];
    const second = s.components.elasticsearch; // its source checks the repository name
    first!.backups = [{ ...first!.backups[0]!, type: 'no-such-type' }];
    second!.backups = [{ ...second!.backups[0]!, repository: 'Bad' }];
    const said = parameterProblems(s)
      .filter((p) => p.rule === 'backup-params')
      .map((p) => `${p.file}:${p.line}: ${p.message}`);
    expect(said).toHaveLength(2);
    expect(said[0]).toMatch(new RegExp(`:${s.lines[first!.name]}: .*has unknown type "no-such-type"`));
    expect(said[1]).toMatch(new RegExp(`:${s.lines[second!.name]}: .*repository must be lower case`));
    let thrown = '';
    try {
      planBackups(s, [first!.name, second!.name], []);
    } catch (err) {
      thrown = (err as Error).message;
    }
    for (const line of said) expect(thrown).toContain(line);
  });
});
