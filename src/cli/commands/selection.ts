import type { Command } from 'commander';
import type { SelectionSettings } from '../../app/plan.ts';
import { flag } from '../options.ts';

export interface SelectionFlags {
  catalog: string;
  profile?: string;
  components?: string;
  sizing?: string;
  rendered?: string;
}

/** The flags that choose what to deploy, shared by `plan`, `up` and `deploy`. */
export function withSelectionFlags(cmd: Command): Command {
  return cmd
    .option(
      '--profile <names>',
      "component set(s) from the catalog's profiles (or component names), comma separated (default: the catalog's first profile)",
    )
    .option(
      '--components <list>',
      'component names instead of --profile (dependencies are added), comma separated',
    )
    .option('--sizing <overlay>', "kustomize overlay from the catalog's render.overlays (default kind)")
    .option('--rendered <file>', 'use this rendered YAML instead of running kustomize on the overlay');
}

export const selectionSettings = (o: SelectionFlags): SelectionSettings => ({
  catalog: flag('--catalog', o.catalog),
  profile: flag('--profile', o.profile),
  components: flag('--components', o.components),
  sizing: flag('--sizing', o.sizing),
  rendered: flag('--rendered', o.rendered),
});
