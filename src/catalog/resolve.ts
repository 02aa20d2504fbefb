import { UsageError } from '../util/errors.ts';
import type { Component, Stack } from './types.ts';

/**
 * Resolves a selection — profile names and/or component names, comma separated
 * (`minimal`, `minimal,monitoring`, `postgres,redis`) — into components plus their
 * dependencies, dependencies first. Ties keep catalog order, so the result is stable.
 */
export function resolveSelection(stack: Stack, selection: string | readonly string[]): Component[] {
  const words = (typeof selection === 'string' ? selection.split(',') : selection)
    .map((s) => s.trim())
    .filter(Boolean);
  if (words.length === 0) throw new UsageError('empty selection: name a profile or components');
  const chosen = new Set<string>();
  for (const w of words) for (const c of expand(stack, w, [])) chosen.add(c);
  return orderWithDependencies(stack, chosen);
}

/** Every name a profile stands for (profiles may include profiles). */
function expand(stack: Stack, word: string, trail: string[]): string[] {
  // own properties only: a word like "constructor" must not find Object.prototype's
  if (Object.hasOwn(stack.components, word)) return [word];
  const members = Object.hasOwn(stack.profiles, word) ? stack.profiles[word] : undefined;
  if (!members) {
    throw new UsageError(
      `unknown profile or component "${word}"; profiles: ${Object.keys(stack.profiles).join(', ')}; components: ${Object.keys(stack.components).join(', ')}`,
    );
  }
  if (trail.includes(word)) throw new UsageError(`profile cycle: ${[...trail, word].join(' -> ')}`);
  return members.flatMap((m) => expand(stack, m, [...trail, word]));
}

/** Topological order of `names` and everything they depend on. */
export function orderWithDependencies(stack: Stack, names: Iterable<string>): Component[] {
  const cycle = findCycle(stack);
  if (cycle) throw new UsageError(`dependency cycle in the catalog: ${cycle.join(' -> ')}`);
  const needed = new Set<string>();
  const visit = (n: string) => {
    if (needed.has(n)) return;
    const c = Object.hasOwn(stack.components, n) ? stack.components[n] : undefined;
    if (!c) throw new UsageError(`unknown component "${n}"`);
    needed.add(n);
    for (const d of c.dependsOn) visit(d);
  };
  for (const n of names) visit(n);

  const order: Component[] = [];
  const done = new Set<string>();
  const place = (n: string) => {
    if (done.has(n)) return;
    const c = stack.components[n]!;
    for (const d of c.dependsOn) place(d);
    done.add(n);
    order.push(c);
  };
  for (const n of Object.keys(stack.components)) if (needed.has(n)) place(n);
  return order;
}

/**
 * Groups components into waves: each wave depends only on earlier waves, so a wave's
 * members can be deployed (and waited on) in parallel.
 */
export function dependencyWaves(components: readonly Component[]): Component[][] {
  const byName = new Map(components.map((c) => [c.name, c]));
  const level = new Map<string, number>();
  // depth-first, so the input need not already be in dependency order
  const levelOf = (c: Component, trail: Set<string>): number => {
    const known = level.get(c.name);
    if (known !== undefined) return known;
    if (trail.has(c.name)) throw new UsageError(`dependency cycle: ${[...trail, c.name].join(' -> ')}`);
    trail.add(c.name);
    const deps = c.dependsOn.map((d) => byName.get(d)).filter((d): d is Component => d !== undefined);
    const l = deps.length ? Math.max(...deps.map((d) => levelOf(d, trail))) + 1 : 0;
    trail.delete(c.name);
    level.set(c.name, l);
    return l;
  };
  const waves: Component[][] = [];
  for (const c of components) {
    const l = levelOf(c, new Set());
    waves[l] = [...(waves[l] ?? []), c];
  }
  return waves;
}

/** A dependency cycle as a path that returns to its start, or undefined. */
export function findCycle(stack: Pick<Stack, 'components'>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const stackPath: string[] = [];
  const visit = (n: string): string[] | undefined => {
    const s = state.get(n);
    if (s === 'done') return undefined;
    if (s === 'visiting') return [...stackPath.slice(stackPath.indexOf(n)), n];
    const c = Object.hasOwn(stack.components, n) ? stack.components[n] : undefined;
    if (!c) return undefined; // unknown names are reported elsewhere
    state.set(n, 'visiting');
    stackPath.push(n);
    for (const d of c.dependsOn) {
      const found = visit(d);
      if (found) return found;
    }
    stackPath.pop();
    state.set(n, 'done');
    return undefined;
  };
  for (const n of Object.keys(stack.components)) {
    const found = visit(n);
    if (found) return found;
  }
  return undefined;
}

/** The components whose manifest files include any of `files` (paths relative to the catalog dir). */
export function componentsForFiles(stack: Stack, files: readonly string[]): Component[] {
  const set = new Set(files);
  return Object.values(stack.components).filter((c) => c.manifests.some((m) => set.has(m)));
}
