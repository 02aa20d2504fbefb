import type { Command } from 'commander';
import { splitList } from '../options.ts';

export interface SelectionFlags {
  profile: string;
  components?: string;
  sizing: string;
}

/** `--profile` (components to deploy) plus `--components`, as one selection. */
export function selectionFrom(flags: Pick<SelectionFlags, 'profile' | 'components'>): string[] {
  return [...splitList(flags.profile), ...splitList(flags.components)];
}

/** The flags that choose what to deploy, shared by `plan`, `up` and `deploy`. */
export function withSelectionFlags(cmd: Command): Command {
  return cmd
    .option(
      '--profile <names>',
      'components to deploy: minimal, full, analytics, messaging, monitoring, comma-composable',
      'minimal',
    )
    .option('--components <list>', 'component names (added to --profile), comma separated')
    .option('--sizing <overlay>', 'kustomize overlay: kind or production', 'kind');
}
