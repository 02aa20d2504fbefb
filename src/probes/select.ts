import type { Component, Stack } from '../catalog/types.ts';
import { UsageError } from '../util/errors.ts';

/**
 * Which components `verify` checks (pure). `names` are components or profiles (no dependencies are
 * added: verify checks what it is asked to). On target local, with no names, every component is
 * listed and those without an `--endpoint` are reported as not checked; a component named
 * explicitly without any endpoint given is a usage error.
 */
export function selectForVerify(
  stack: Stack,
  opts: { target: 'kube' | 'local'; names: readonly string[]; endpoints: ReadonlyMap<string, URL> },
): Component[] {
  if (opts.target === 'local' && opts.endpoints.size === 0)
    throw new UsageError(
      '--target local needs --endpoint NAME=URL for each component to check',
      '--endpoint',
    );
  if (opts.target === 'kube' && opts.endpoints.size > 0)
    throw new UsageError(
      '--endpoint is for --target local; on kube endpoints are reached by port-forward',
      '--endpoint',
    );
  const all = Object.values(stack.components);
  if (opts.names.length === 0) return all;
  const chosen = new Set<string>();
  for (const n of opts.names) for (const c of expand(stack, n, [])) chosen.add(c);
  if (opts.target === 'local') {
    const given = new Set([...opts.endpoints.keys()].map((k) => k.split('.')[0]!));
    const without = opts.names.filter((n) => n in stack.components && !given.has(n));
    if (without.length)
      throw new UsageError(
        `no --endpoint given for ${without.join(', ')}; add --endpoint ${without[0]}=URL or leave it out of --components`,
        '--components',
      );
  }
  return all.filter((c) => chosen.has(c.name));
}

function expand(stack: Stack, word: string, trail: string[]): string[] {
  if (word in stack.components) return [word];
  const members = stack.profiles[word];
  if (!members)
    throw new UsageError(
      `unknown component or profile "${word}"; components: ${Object.keys(stack.components).join(', ')}; profiles: ${Object.keys(stack.profiles).join(', ')}`,
      '--components',
    );
  if (trail.includes(word)) throw new UsageError(`profile cycle: ${[...trail, word].join(' -> ')}`);
  return members.flatMap((m) => expand(stack, m, [...trail, word]));
}
