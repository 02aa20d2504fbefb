import { describe, expect, it } from 'vitest';
import { selectForChanges, toGithubOutput } from '../../scripts/changed-components.ts';
import { loadStack, orderWithDependencies } from '../../src/catalog/index.ts';

// The real catalog: the selection must follow its manifests and dependencies.
const stack = loadStack('manifests/stack.yaml');
const opts = {
  fullStackLabel: false,
  always: [] as string[],
  actionsProfile: 'minimal',
  catalogPath: 'manifests/stack.yaml',
};
const owner = (file: string) => Object.values(stack.components).filter((c) => c.manifests.includes(file));
const withDeps = Object.values(stack.components).find((c) => c.dependsOn.length > 0)!;

describe('PR component selection from changed files', () => {
  it('deploys the components whose manifest changed, plus their dependencies, dependencies first', () => {
    const file = withDeps.manifests[0]!;
    const sel = selectForChanges(stack, [`manifests/${file}`, 'README.md'], opts);
    const expected = orderWithDependencies(
      stack,
      owner(file).map((c) => c.name),
    ).map((c) => c.name);
    expect(sel.mode).toBe('components');
    expect(sel.components).toEqual(expected);
    for (const d of withDeps.dependsOn)
      expect(sel.components.indexOf(d)).toBeLessThan(sel.components.indexOf(withDeps.name));
  });

  it('adds the components the pipeline always needs', () => {
    const [first] = Object.values(stack.components);
    const sel = selectForChanges(stack, [`manifests/${first!.manifests[0]}`], { ...opts, always: ['minio'] });
    expect(sel.components).toContain('minio');
  });

  it('the full stack when src/ changes, on the label, or when a shared stack file changes', () => {
    expect(selectForChanges(stack, ['src/cli/main.ts'], opts)).toMatchObject({
      mode: 'full',
      profile: 'full',
    });
    expect(
      selectForChanges(stack, ['manifests/base/postgres.yaml'], { ...opts, fullStackLabel: true }).mode,
    ).toBe('full');
    for (const shared of [
      'manifests/stack.yaml',
      'manifests/overlays/kind/kustomization.yaml',
      `manifests/${stack.shared.manifests[0]}`,
    ])
      expect(selectForChanges(stack, [shared], opts).mode, shared).toBe('full');
  });

  it('the actions profile when only actions/ changed; nothing when nothing relevant changed', () => {
    const sel = selectForChanges(stack, ['actions/verify/action.yml'], opts);
    expect(sel.components).toEqual(orderWithDependencies(stack, stack.profiles.minimal!).map((c) => c.name));
    expect(selectForChanges(stack, ['docs/architecture.md', 'README.md'], opts).mode).toBe('none');
  });

  it('writes single-line GITHUB_OUTPUT entries', () => {
    const out = toGithubOutput({ mode: 'components', profile: '', components: ['a', 'b'], reason: 'x\ny' });
    expect(out).toBe('mode=components\nprofile=\ncomponents=a,b\nreason=x y\n');
  });
});
