// The Elasticsearch vm.max_map_count preflight is catalog data (issue #16): it applies when a
// component that needs it is selected, and its message names that component.
import { describe, expect, it } from 'vitest';
import { sysctlNeeds } from '../../src/app/up.ts';
import { loadStack, resolveSelection } from '../../src/catalog/index.ts';
import { judgeSysctls } from '../../src/kind/preflight.ts';

const stack = loadStack('manifests/stack.yaml');
const needing = Object.values(stack.components).filter((c) => c.host?.sysctls);

describe('host sysctls from the catalog', () => {
  it('the catalog declares them (the component whose image needs them)', () => {
    expect(needing.map((c) => [c.name, c.host!.sysctls])).toEqual([
      ['elasticsearch', { 'vm.max_map_count': 262144 }],
    ]);
  });
  it('a selection without such a component needs nothing; one with it needs its settings', () => {
    const without = Object.keys(stack.profiles).find(
      (p) => !resolveSelection(stack, [p]).some((c) => c.host),
    )!;
    expect(sysctlNeeds(resolveSelection(stack, [without]))).toEqual([]);
    expect(sysctlNeeds(resolveSelection(stack, [needing[0]!.name]))).toEqual([
      { component: needing[0]!.name, key: 'vm.max_map_count', min: 262144 },
    ]);
  });
  it('judgeSysctls warns only below the minimum, naming the component and the fix', () => {
    const needs = [{ component: 'search', key: 'vm.max_map_count', min: 262144 }];
    expect(judgeSysctls(needs, () => 262144)).toEqual([]);
    expect(judgeSysctls(needs, () => undefined)).toEqual([]);
    expect(judgeSysctls(needs, () => 65530)).toEqual([
      {
        level: 'warning',
        message:
          'vm.max_map_count is 65530; search needs >= 262144 on the host (kind nodes share its kernel): sudo sysctl -w vm.max_map_count=262144',
      },
    ]);
  });
});
