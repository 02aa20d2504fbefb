// Service knowledge lives in the catalog (issue #16): no code in src/ decides by a component's name.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadStack } from '../../src/catalog/load.ts';

const stack = loadStack('manifests/stack.yaml');
const names = [...Object.keys(stack.components), ...Object.keys(stack.profiles)];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A component or profile name used to decide something: compared, switched on, looked up, or a
 * list of names. Check types and tool names (`type: 'redis'`, `'etcd'` as a binary) are not
 * component names in use, so only these shapes count.
 */
function nameUses(text: string, file: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  const out: string[] = [];
  for (const n of names) {
    const q = `['"\`]${esc(n)}['"\`]`;
    const shapes = [
      new RegExp(`(===|!==|==|!=)\\s*${q}`),
      new RegExp(`${q}\\s*(===|!==|==|!=)`),
      new RegExp(`case\\s+${q}\\s*:`),
      new RegExp(`\\.(includes|has|get|indexOf)\\(\\s*${q}\\s*\\)`),
      new RegExp(`(components|profiles)(\\?\\.|\\.)?\\[\\s*${q}\\s*\\]`),
      new RegExp(`components\\.${esc(n).replace(/-/g, '_')}\\b`),
      new RegExp(`\\.option\\([^)]*,\\s*${q}\\s*\\)`),
    ];
    for (const re of shapes) if (re.test(code)) out.push(`${file}: "${n}" (${re.source})`);
  }
  return out;
}

describe('no catalog component or profile name decides anything in src/', () => {
  it('the scanner catches the shapes it looks for (fixtures)', () => {
    const [c, p] = [Object.keys(stack.components)[0]!, Object.keys(stack.profiles)[0]!];
    for (const snippet of [
      `if (name === '${c}') x();`,
      `switch (n) { case "${c}": }`,
      `const s = stack.components['${c}'];`,
      `if (chosen.includes('${c}')) y();`,
      `.option('--profile <p>', 'which', '${p}')`,
    ])
      expect(nameUses(snippet, 'fixture.ts'), snippet).not.toEqual([]);
    expect(nameUses(`// if (name === '${c}') in a comment`, 'fixture.ts')).toEqual([]);
  });
  it('src/ has none', () => {
    const files = sources('src');
    expect(files.length).toBeGreaterThan(50);
    expect(files.flatMap((f) => nameUses(readFileSync(f, 'utf8'), f))).toEqual([]);
  });
});
