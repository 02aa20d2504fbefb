import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { planStack } from '../../app/deploy.ts';
import { loadStack } from '../../catalog/index.ts';
import { parseRendered } from '../../manifests/render.ts';
import { phaseName, planSequence } from '../../plan/order.ts';
import { catalogOption } from '../options.ts';
import { type SelectionFlags, selectionFrom, withSelectionFlags } from './selection.ts';

interface PlanFlags extends SelectionFlags {
  catalog: string;
  json?: boolean;
  rendered?: string;
}

/** `kindling plan`: the ordered objects the deploy would apply. Needs no cluster. */
export function registerPlan(program: Command): void {
  withSelectionFlags(
    program.command('plan').description('print the objects `deploy` would apply, in order, with no cluster'),
  )
    .option('--rendered <file>', 'use this rendered YAML instead of running kustomize')
    .option('--json', 'print JSON')
    .addOption(catalogOption())
    .action(async (flags: PlanFlags) => {
      const stack = loadStack(flags.catalog);
      const rendered = flags.rendered ? parseRendered(readFileSync(flags.rendered, 'utf8')) : undefined;
      const { plan } = await planStack(stack, selectionFrom(flags), flags.sizing, rendered);
      const seq = planSequence(plan);
      if (flags.json) {
        process.stdout.write(
          `${JSON.stringify({ namespace: plan.namespace, waves: plan.waves.map((w) => w.map((c) => ({ name: c.name, dependsOn: c.dependsOn }))), objects: seq.map((s) => ({ wave: s.wave, component: s.component, kind: s.object.kind, name: s.object.metadata.name, namespace: s.object.metadata.namespace })), warnings: plan.warnings }, null, 2)}\n`,
        );
        return;
      }
      const out: string[] = [];
      let last = '';
      for (const s of seq) {
        const head = s.component === '(shared)' ? 'shared' : `wave ${s.wave} · ${s.component}`;
        if (head !== last) {
          const deps = plan.waves.flat().find((c) => c.name === s.component)?.dependsOn ?? [];
          out.push(`${head}${deps.length ? ` (after ${deps.join(', ')})` : ''}`);
          last = head;
        }
        const ns = s.object.metadata.namespace ? ` -n ${s.object.metadata.namespace}` : '';
        out.push(`  ${phaseName(s.object.kind).padEnd(9)} ${s.object.kind}/${s.object.metadata.name}${ns}`);
      }
      for (const w of plan.warnings) out.push(`warning: ${w}`);
      process.stdout.write(`${out.join('\n')}\n`);
    });
}
