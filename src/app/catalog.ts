/**
 * The catalog as every use case loads it: structure (schema, references, cycles) and every check's
 * and backup's parameter rules, checked together before any work — and `validate` reports the same
 * parameter problems, so it never passes a catalog that verify or backup would refuse.
 */
import { loadStack } from '../catalog/load.ts';
import type { Stack } from '../catalog/types.ts';
import { checkProblems } from '../probes/validate.ts';
import { UsageError } from '../util/errors.ts';
import type { Problem } from '../util/problem.ts';
import { backupProblems, refuseProblems } from './backup-catalog.ts';
import type { Setting } from './settings.ts';

/** Check and backup parameter problems of a structurally valid catalog (pure apart from reading it). */
export const parameterProblems = (stack: Stack): Problem[] => [
  ...checkProblems(stack),
  ...backupProblems(stack),
];

/**
 * The catalog for every use case. `plan`, `deploy` and `upgrade` add the manifests cross-check
 * (`renderChecked`: they apply these manifests, so what validate refuses must not reach a cluster);
 * `verify`, `backup`, `restore` and the drill deliberately do not. They act on what is running, and
 * that may have been deployed from other manifests (an older commit, a hand-made cluster, target
 * local with servers and no manifests at all): the deployment is the truth for them, not this
 * checkout. Refusing a nightly backup because a manifest here has a validate error (the seed's
 * default credentials are errors under `production`), or because kubectl is missing on a backup
 * host, would fail the job that matters most for a problem it does not have; and a verify would
 * report the checkout instead of the cluster. What they do need from the catalog — its structure
 * and every check's and backup's parameters — is checked here; `backup`, `restore` and the drill,
 * which run no check, load it through loadBackupCatalog (./backup-catalog.ts) instead.
 */
export function loadCatalog(s: Setting<string>): Stack {
  const stack = loadStack(s.value);
  return refuseProblems(stack, parameterProblems(stack));
}

/** Profile names as the catalog defines them: help texts and errors list these, never a fixed list. */
export function profileNames(stack: Stack): string[] {
  const names = Object.keys(stack.profiles);
  if (names.length === 0) throw new UsageError(`${stack.file}: the catalog defines no profiles`);
  return names;
}
