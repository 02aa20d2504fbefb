/**
 * The sizing and `--rendered` settings as `plan`, `deploy` and `upgrade` check them: one rule, so
 * an unknown sizing or an unreadable rendered file says the same thing from every command.
 */
import { readFileSync } from 'node:fs';
import type { Stack } from '../catalog/types.ts';
import { type KubeObject, parseRendered } from '../manifests/render.ts';
import { inputFile, invalid, type Setting } from './settings.ts';

/** The sizing asked for, or the catalog's `render.defaultSizing`; one of its overlays (pure). */
export function checkSizing(stack: Stack, s: Setting<string | undefined>): string {
  const sizing = s.value?.trim() || stack.render.defaultSizing;
  if (!Object.hasOwn(stack.render.overlays, sizing))
    throw invalid(
      s,
      `unknown sizing "${sizing}"; the catalog has ${Object.keys(stack.render.overlays).join(', ')}`,
    );
  return sizing;
}

/** The objects of a `--rendered` file (taken as given instead of rendering), undefined without one. */
export function readRendered(s: Setting<string | undefined> | undefined): KubeObject[] | undefined {
  const file = s ? inputFile(s) : undefined;
  if (!file || !s) return undefined;
  try {
    return parseRendered(readFileSync(file, 'utf8'));
  } catch (err) {
    throw invalid(s, (err as Error).message);
  }
}
