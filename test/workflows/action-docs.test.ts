import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { currentBlock, listActions, renderActionDocs, replaceBlock } from '../../scripts/action-docs.ts';

const readme = readFileSync('README.md', 'utf8');

describe('README action tables (drift)', () => {
  it('the three actions have an action.yml', () => {
    for (const a of ['deploy', 'verify', 'backup'])
      expect(existsSync(`actions/${a}/action.yml`), a).toBe(true);
  });

  it.each(listActions('.'))('README.md documents actions/%s exactly as its action.yml declares', (action) => {
    const expected = renderActionDocs(action, readFileSync(`actions/${action}/action.yml`, 'utf8'));
    const actual = currentBlock(readme, action);
    expect(actual, `no action-docs block for ${action} in README.md`).toBeDefined();
    expect(actual, 'README.md is stale: run npm run docs:actions').toBe(expected);
  });
});

describe('action docs generator', () => {
  const yml = `name: x
description: Does x
runs: { using: node24, main: dist/index.js, post: dist/post.js }
inputs:
  cluster:
    description: "kind | existing"
    required: true
  timeout:
    description: |
      How long to wait,
      e.g. 10m
    default: 10m
  empty:
    description: blank default
    default: ''
outputs:
  passed:
    description: Number of passed checks
`;
  it('renders every input (required, default, one-line description) and every output', () => {
    const md = renderActionDocs('x', yml);
    expect(md).toContain('`uses: OWNER/kindling/actions/x@REF` — runs on `node24` (with a post step).');
    expect(md).toContain('| `cluster` | yes |  | kind \\| existing |');
    expect(md).toContain('| `timeout` | no | `10m` | How long to wait, e.g. 10m |');
    expect(md).toContain("| `empty` | no | `''` | blank default |");
    expect(md).toContain('| `passed` | Number of passed checks |');
  });

  it('replaces only the text between the markers, and fails without them', () => {
    const doc = 'top\n<!-- action-docs:x:start -->\nold\n<!-- action-docs:x:end -->\nbottom\n';
    const out = replaceBlock(doc, 'x', 'new');
    expect(out).toBe('top\n<!-- action-docs:x:start -->\nnew\n<!-- action-docs:x:end -->\nbottom\n');
    expect(currentBlock(out, 'x')).toBe('new');
    expect(() => replaceBlock('no markers', 'x', 'new')).toThrow(/action-docs:x:start/);
  });

  it('detects drift: a changed action.yml gives a different block', () => {
    expect(renderActionDocs('x', yml.replace('default: 10m', 'default: 5m'))).not.toBe(
      renderActionDocs('x', yml),
    );
  });
});
