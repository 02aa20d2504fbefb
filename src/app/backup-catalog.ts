/**
 * The catalog as `backup`, `restore` and the drill load it: its structure and every backup's
 * parameters, and not its checks. They run no check, so a mistake in one (a PromQL typo, an
 * unknown expect key) must not stop the nightly backup — `validate` and `verify` still refuse it.
 * This module also keeps the probes (and their client libraries: kafkajs, pg, the PromQL parser)
 * out of the streaming commands: about 7 MiB of resident memory they never use (issue #15's
 * memory budget; test/unit/startup-modules.test.ts).
 */
import { SOURCES } from '../backup/sources/index.ts';
import { loadStack } from '../catalog/load.ts';
import type { Component, Stack } from '../catalog/types.ts';
import { UsageError } from '../util/errors.ts';
import { formatProblem, type Problem } from '../util/problem.ts';
import type { Setting } from './settings.ts';

/** Every backup's parameters against its type's rules, each with the component's catalog line (pure). */
export const backupProblems = (stack: Stack): Problem[] =>
  Object.values(stack.components).flatMap((c) => componentBackupProblems(stack, c));

/** One component's backups against their types' rules: the check `backup` repeats for its selection. */
export function componentBackupProblems(stack: Stack, c: Component): Problem[] {
  const at = {
    severity: 'error' as const,
    file: stack.file,
    line: stack.lines[c.name],
    rule: 'backup-params',
  };
  return c.backups.flatMap((spec) => {
    const source = SOURCES.get(spec.type);
    if (!source)
      return [
        {
          ...at,
          message: `backup "${spec.name}" of "${c.name}" has unknown type "${spec.type}"; types: ${[...SOURCES.keys()].join(', ')}`,
        },
      ];
    return source.validate(spec, c).map((p) => ({
      ...at,
      message: `backup "${spec.name}" of "${c.name}": ${p.path.join('.')} ${p.message}`,
    }));
  });
}

/** Throws one UsageError (exit 2) listing every problem, or returns the stack. */
export function refuseProblems(stack: Stack, problems: Problem[]): Stack {
  if (problems.length)
    throw new UsageError(
      `invalid catalog parameters:\n${problems.map((p) => `  ${formatProblem(p)}`).join('\n')}`,
    );
  return stack;
}

/** The catalog for `backup`, `restore` and the drill (see loadCatalog in ./catalog.ts for the others). */
export function loadBackupCatalog(s: Setting<string>): Stack {
  const stack = loadStack(s.value);
  return refuseProblems(stack, backupProblems(stack));
}
