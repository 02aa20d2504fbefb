/**
 * Regenerates the tables of manifests/README.md from the rendered manifests (both sizings):
 * services, replicas, requests and storage per component, and summed requests per catalog profile.
 *
 *   npm run docs:manifests            rewrite the tables in place
 *   npm run docs:manifests -- --check exit 1 when the README is out of date
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadStack, resolveSelection, type Stack } from '../src/catalog/index.ts';
import { type KubeObject, renderSizing } from '../src/manifests/render.ts';
import {
  type ComponentSizing,
  formatBytes,
  formatCpu,
  NAME_LABEL,
  sizeByComponent,
  totalRequests,
} from './manifests-sizing.ts';

export const START = '<!-- generated:manifests-tables:start (npm run docs:manifests) -->';
export const END = '<!-- generated:manifests-tables:end -->';

/** Sizings in the order the tables show them. */
export const SIZINGS = ['kind', 'production'] as const;
type Rendered = Record<(typeof SIZINGS)[number], KubeObject[]>;

const pair = (values: string[]): string =>
  values.every((v) => v === values[0]) ? values[0]! : values.join(' / ');

/** `name:port,port` for every non-headless Service of a component. */
function servicesOf(objects: readonly KubeObject[], component: string): string {
  return objects
    .filter((o) => o.kind === 'Service' && o.metadata.labels?.[NAME_LABEL] === component)
    .filter((o) => (o.spec as { clusterIP?: string }).clusterIP !== 'None')
    .map((o) => {
      const ports = ((o.spec as { ports?: { port: number }[] }).ports ?? []).map((p) => p.port);
      return `${o.metadata.name}:${ports.join(',')}`;
    })
    .join(' ');
}

export function generateTables(stack: Stack, rendered: Rendered): string {
  const sizing = Object.fromEntries(SIZINGS.map((p) => [p, sizeByComponent(rendered[p])])) as Record<
    (typeof SIZINGS)[number],
    Map<string, ComponentSizing>
  >;
  const of = (c: string) => SIZINGS.map((p) => sizing[p].get(c));
  const lines: string[] = [];

  lines.push(`Per component (values are ${SIZINGS.join(' / ')} when they differ):`, '');
  lines.push('| component | file | Services (port) | replicas | CPU requests | memory requests | storage |');
  lines.push('| --- | --- | --- | --- | --- | --- | --- |');
  for (const c of Object.values(stack.components)) {
    const s = of(c.name);
    lines.push(
      `| ${c.name} | \`${c.manifests.join('`, `')}\` | ${servicesOf(rendered.production, c.name)} | ${pair(s.map((x) => String(x?.replicas ?? 0)))} | ${pair(s.map((x) => formatCpu(x?.requests.cpu ?? 0)))} | ${pair(s.map((x) => formatBytes(x?.requests.memory ?? 0)))} | ${pair(s.map((x) => formatBytes(x?.storage ?? 0)))} |`,
    );
  }

  lines.push('', 'Summed requests per catalog profile (dependencies included), long-running pods only:', '');
  lines.push(
    `| profile | components | ${SIZINGS.map((p) => `${p} CPU | ${p} memory`).join(' | ')} | ${SIZINGS.map((p) => `${p} storage`).join(' | ')} |`,
  );
  lines.push(
    `| --- | --- | ${SIZINGS.map(() => '--- | ---').join(' | ')} | ${SIZINGS.map(() => '---').join(' | ')} |`,
  );
  for (const profile of Object.keys(stack.profiles)) {
    const names = resolveSelection(stack, profile).map((c) => c.name);
    const cells = SIZINGS.map((p) => {
      const t = totalRequests(sizing[p], names);
      return `${formatCpu(t.cpu)} | ${formatBytes(t.memory)}`;
    });
    const storage = SIZINGS.map((p) =>
      formatBytes(names.reduce((sum, n) => sum + (sizing[p].get(n)?.storage ?? 0), 0)),
    );
    lines.push(`| ${profile} | ${names.length} | ${cells.join(' | ')} | ${storage.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** The README text with the generated block replaced. */
export function withTables(readme: string, tables: string): string {
  const a = readme.indexOf(START);
  const b = readme.indexOf(END);
  if (a < 0 || b < a) throw new Error(`manifests/README.md lacks the markers ${START} ... ${END}`);
  return `${readme.slice(0, a + START.length)}\n${tables}\n${readme.slice(b)}`;
}

export async function renderAll(stack: Stack): Promise<Rendered> {
  const out = {} as Rendered;
  for (const p of SIZINGS) out[p] = await renderSizing(stack, p);
  return out;
}

async function main(): Promise<void> {
  const check = process.argv.includes('--check');
  const stack = loadStack();
  const readmePath = resolve(stack.dir, 'README.md');
  const current = readFileSync(readmePath, 'utf8');
  const next = withTables(current, generateTables(stack, await renderAll(stack)));
  if (next === current) {
    console.log('manifests/README.md tables are up to date');
  } else if (check) {
    console.error('manifests/README.md tables are out of date: run `npm run docs:manifests`');
    process.exitCode = 1;
  } else {
    writeFileSync(readmePath, next);
    console.log('manifests/README.md tables regenerated');
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 2;
  });
}
