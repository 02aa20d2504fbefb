/**
 * The catalog as every use case loads it: structure (schema, references, cycles) and every check's
 * and backup's parameter rules, checked together before any work, so `validate` and the commands
 * that act agree on what a valid catalog is.
 */
import { loadStack } from '../catalog/load.ts';
import type { Stack } from '../catalog/types.ts';
import { assertChecksValid } from '../probes/validate.ts';
import { UsageError } from '../util/errors.ts';
import type { Setting } from './settings.ts';

export function loadCatalog(s: Setting<string>): Stack {
  const stack = loadStack(s.value);
  assertChecksValid(stack);
  return stack;
}

/** Component names of the catalog, e.g. for a summary (no service names in src/). */
export const componentNames = (stack: Stack): string[] => Object.keys(stack.components);

/** Profile names as the catalog defines them: help texts and errors list these, never a fixed list. */
export function profileNames(stack: Stack): string[] {
  const names = Object.keys(stack.profiles);
  if (names.length === 0) throw new UsageError(`${stack.file}: the catalog defines no profiles`);
  return names;
}
