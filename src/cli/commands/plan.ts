import type { Command } from 'commander';
import { phaseName, planSequence } from '../../plan/order.ts';
import { formatMatrix } from '../../security/matrix.ts';
import { catalogOption } from '../options.ts';
import { type SelectionFlags, selectionSettings, withSelectionFlags } from './selection.ts';

/** `kindling plan`: the ordered objects the deploy would apply. Needs no cluster. */
export function registerPlan(program: Command): void {
  withSelectionFlags(
    program.command('plan').description('print the objects `deploy` would apply, in order, with no cluster'),
  )
    .option('--json', 'print JSON')
    .addOption(catalogOption())
    .action(async (o: SelectionFlags & { json?: boolean }) => {
      const { plan: planUseCase } = await import('../../app/plan.ts');
      const { plan, network } = await planUseCase(selectionSettings(o));
      const seq = planSequence(plan);
      if (o.json) {
        const waves = plan.waves.map((w) => w.map((c) => ({ name: c.name, dependsOn: c.dependsOn })));
        const objects = seq.map((s) => ({
          wave: s.wave,
          component: s.component,
          kind: s.object.kind,
          name: s.object.metadata.name,
          namespace: s.object.metadata.namespace,
        }));
        const reach = { cells: network.cells, violations: network.violations.map((v) => v.message) };
        const json = { namespace: plan.namespace, waves, objects, warnings: plan.warnings, network: reach };
        process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
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
      process.stdout.write(`${out.join('\n')}\n${formatMatrix(network)}`);
    });
}
