import type { Command } from 'commander';
import { UsageError } from '../../util/errors.ts';

// Placeholder until its issue lands: the command exists so --help lists it, and says plainly it is not built.
export function registerBackup(program: Command): void {
  program
    .command('backup')
    .description('(not built yet)')
    .action(() => {
      throw new UsageError('kindling backup is not built yet');
    });
}
