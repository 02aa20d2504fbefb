import { Command, CommanderError } from 'commander';
import { filterKnownWarnings } from '../app/warnings.ts';
import { ExitCode, errorMessage, exitCodeOf, UsageError } from '../util/errors.ts';
import { VERSION } from '../version.ts';
import { commandsFor } from './commands/index.ts';

/**
 * Builds the `kindling` program for `argv`. Each command lives in its own module under ./commands;
 * only the one being run is loaded (all of them for `--help` or an unknown command).
 */
export async function buildProgram(argv: readonly string[] = []): Promise<Command> {
  const program = new Command('kindling')
    .description(
      'Stand up the voiceassistant infrastructure stack on Kubernetes, prove it healthy, keep it backed up.',
    )
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  for (const register of await commandsFor(argv)) register(program);
  // every subcommand inherits exitOverride so usage errors come back to us as exit 2
  for (const c of program.commands) inheritExitOverride(c);
  return program;
}

function inheritExitOverride(cmd: Command): void {
  cmd.exitOverride().showHelpAfterError('(run with --help for usage)');
  for (const c of cmd.commands) inheritExitOverride(c);
}

/** Runs the CLI and returns the exit code: 0 ok, 1 failed, 2 usage/config error. Never throws. */
export async function main(argv: string[]): Promise<number> {
  filterKnownWarnings();
  let program: Command;
  try {
    program = await buildProgram(argv);
  } catch (err) {
    process.stderr.write(`kindling: failed to start: ${errorMessage(err)}\n`);
    return ExitCode.Failed;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.Ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version are successes; everything else commander reports is a usage error
      if (['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(err.code))
        return ExitCode.Ok;
      if (err.code === 'commander.executeSubCommandAsync') return ExitCode.Failed;
      return ExitCode.Usage;
    }
    const code = exitCodeOf(err);
    const prefix = err instanceof UsageError ? 'error' : 'failed';
    process.stderr.write(`kindling: ${prefix}: ${errorMessage(err)}\n`);
    if (process.env.KINDLING_DEBUG && err instanceof Error && err.stack)
      process.stderr.write(`${err.stack}\n`);
    return code;
  }
}
