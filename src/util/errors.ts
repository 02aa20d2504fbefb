/**
 * Exit codes used everywhere (CLI and actions):
 * 0 success, 1 failed checks/backups/problems found, 2 usage or configuration error.
 */
export const ExitCode = { Ok: 0, Failed: 1, Usage: 2 } as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A mistake in what the user asked for or configured: a flag, an input, a catalog or manifest file. */
export class UsageError extends Error {
  readonly exitCode = ExitCode.Usage;
  /** Where the mistake is, e.g. `manifests/stack.yaml:12` or `--profile`. */
  readonly where?: string;
  constructor(message: string, where?: string) {
    super(where ? `${where}: ${message}` : message);
    this.name = 'UsageError';
    this.where = where;
  }
}

/** Work that ran and failed: a check, a backup, a rollout. Carries every problem, not only the first. */
export class FailedError extends Error {
  readonly exitCode = ExitCode.Failed;
  readonly problems: readonly string[];
  constructor(message: string, problems: readonly string[] = []) {
    super(problems.length ? `${message}\n${problems.map((p) => `  - ${p}`).join('\n')}` : message);
    this.name = 'FailedError';
    this.problems = problems;
  }
}

/** The exit code an error maps to; anything unexpected is a failure (1), never silently 0. */
export function exitCodeOf(err: unknown): ExitCode {
  if (err instanceof UsageError) return ExitCode.Usage;
  return ExitCode.Failed;
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
