/**
 * The two connections the PR pipeline asserts on kind (see .github/workflows/reusable-validate-deploy.yml):
 *
 *   node scripts/network-probes.ts --components '["postgres","redis"]' [--sizing kind] [--catalog FILE]
 *
 * prints a JSON array of {expect, as, labels, host, port, why}: one connection the generated
 * NetworkPolicies must allow, one they must deny, both already proven by the offline evaluator.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_CATALOG, loadStack } from '../src/catalog/index.ts';
import { renderSizing } from '../src/manifests/render.ts';
import { networkProbes } from '../src/security/probes.ts';

const { values } = parseArgs({
  options: {
    components: { type: 'string' },
    sizing: { type: 'string', default: 'kind' },
    catalog: { type: 'string', default: DEFAULT_CATALOG },
  },
});
let deployed: string[];
try {
  deployed = JSON.parse(values.components ?? '[]');
  if (!Array.isArray(deployed) || deployed.some((d) => typeof d !== 'string'))
    throw new Error('not an array of names');
} catch (err) {
  process.stderr.write(
    `network-probes: --components must be a JSON array of component names (${(err as Error).message})\n`,
  );
  process.exit(2);
}
const stack = loadStack(values.catalog);
const probes = networkProbes(stack, await renderSizing(stack, values.sizing), deployed);
if (probes.length === 0) {
  process.stderr.write(
    `network-probes: no allowed/denied pair among ${deployed.join(', ') || 'no components'}\n`,
  );
  process.exit(1);
}
process.stdout.write(`${JSON.stringify(probes, null, 2)}\n`);
