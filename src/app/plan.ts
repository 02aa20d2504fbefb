/**
 * `plan`: which components, in which waves, with which objects, for a selection and a sizing —
 * with no cluster. `deploy` and `up` start from the same checked selection.
 */
import { resolveSelection } from '../catalog/resolve.ts';
import type { Component, Stack } from '../catalog/types.ts';
import type { KubeObject } from '../manifests/render.ts';
import { renderChecked } from '../manifests/validate.ts';
import { buildPlan, type Plan } from '../plan/order.ts';
import { type Reachability, reachability } from '../security/matrix.ts';
import { UsageError } from '../util/errors.ts';
import { loadCatalog, profileNames } from './catalog.ts';
import { invalid, list, type Setting } from './settings.ts';
import { checkSizing, readRendered } from './sizing.ts';

export interface SelectionSettings {
  catalog: Setting<string>;
  /** Component sets from the catalog's `profiles` (or component names), composable. */
  profile: Setting<string | readonly string[] | undefined>;
  /** Component names; when given, the profile is ignored (dependencies are added either way). */
  components: Setting<string | readonly string[] | undefined>;
  /** The kustomize overlay (the catalog's `render.overlays`). */
  sizing: Setting<string | undefined>;
  /** Rendered YAML to use instead of running kustomize. */
  rendered?: Setting<string | undefined>;
}

/** The CLI flags of the selection settings (see settings.ts `speaking`). */
export const SELECTION_FLAGS = {
  catalog: '--catalog',
  profile: '--profile',
  components: '--components',
  sizing: '--sizing',
  rendered: '--rendered',
} as const;

export interface CheckedSelection {
  stack: Stack;
  /** The words resolved (profiles and/or components). */
  selection: string[];
  components: Component[];
  sizing: string;
  rendered?: KubeObject[];
}

/** One rule everywhere: components given → profile ignored (pure). */
export function selectionWords(s: Pick<SelectionSettings, 'profile' | 'components'>): {
  words: string[];
  from: Setting<unknown>;
} {
  const components = list(s.components);
  if (components.length) return { words: components, from: s.components };
  return { words: list(s.profile), from: s.profile };
}

/** Loads the catalog and checks the selection, the sizing and a rendered file — no rendering yet. */
export function checkSelection(s: SelectionSettings): CheckedSelection {
  const stack = loadCatalog(s.catalog);
  const picked = selectionWords(s);
  const from = picked.from;
  // nothing named: the catalog's first profile (profile names are catalog data, not code)
  const words = picked.words.length ? picked.words : profileNames(stack).slice(0, 1);
  let components: Component[];
  try {
    components = resolveSelection(stack, words);
  } catch (err) {
    if (err instanceof UsageError) throw invalid(from, err.message);
    throw err;
  }
  const sizing = checkSizing(stack, s.sizing);
  const rendered = readRendered(s.rendered);
  return { stack, selection: words, components, sizing, ...(rendered ? { rendered } : {}) };
}

export async function planStack(
  stack: Stack,
  selection: readonly string[],
  sizing: string,
  rendered?: readonly KubeObject[],
) {
  const components = resolveSelection(stack, selection);
  // validate's own pass: its errors (file:line) refuse the plan, and so the deploy (issue #11 item 19);
  // a --rendered file is taken as given
  const objects = rendered ?? (await renderChecked(stack.file, sizing));
  return { components, plan: buildPlan(stack, components, objects), objects };
}

/** `plan`: the checked selection rendered and ordered, and who may connect to it (the NetworkPolicies evaluated). */
export async function plan(
  s: SelectionSettings,
): Promise<{ plan: Plan; components: Component[]; network: Reachability }> {
  const c = checkSelection(s);
  const { objects, ...planned } = await planStack(c.stack, c.selection, c.sizing, c.rendered);
  const selected = new Set(planned.components.map((x) => x.name));
  const network = reachability(c.stack, objects);
  return { ...planned, network: { ...network, cells: network.cells.filter((x) => selected.has(x.to)) } };
}
