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
