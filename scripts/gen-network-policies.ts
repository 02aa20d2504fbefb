/**
 * Regenerates manifests/base/network-policies.yaml from the catalog and the rendered base pods.
 *
 *   npm run gen:network-policies            rewrite the file
 *   npm run gen:network-policies -- --check exit 1 when the file differs from what the catalog implies
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULT_CATALOG, loadStack } from '../src/catalog/index.ts';
import { kustomize, parseRendered } from '../src/manifests/render.ts';
import { generatePolicies, policiesYaml } from '../src/security/generate.ts';
import { buildModel } from '../src/security/model.ts';

export const POLICY_FILE = 'network-policies.yaml';

/** The file's expected text for a catalog (renders its base with kubectl kustomize). */
export async function expectedPolicies(catalog = DEFAULT_CATALOG): Promise<{ file: string; text: string }> {
  const stack = loadStack(catalog);
  const base = resolve(stack.dir, stack.render.base);
  const objects = parseRendered(await kustomize(base)).filter((o) => o.kind !== 'NetworkPolicy');
  const model = buildModel(stack, objects);
  if (model.problems.length) throw new Error(model.problems.map((p) => p.message).join('\n'));
  return { file: resolve(base, POLICY_FILE), text: policiesYaml(generatePolicies(stack, model)) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { file, text } = await expectedPolicies();
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(file, 'utf8');
    } catch {}
    if (current !== text) {
      process.stderr.write(`${file} is out of date: run npm run gen:network-policies\n`);
      process.exit(1);
    }
  } else {
    writeFileSync(file, text);
    process.stdout.write(`wrote ${file}\n`);
  }
}
