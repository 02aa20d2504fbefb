/**
 * Runs `kind`/`docker` with a deadline; the only place that spawns them. Not @actions/exec: its
 * ExecOptions (cwd, env, silent, out/errStream, windowsVerbatimArguments, failOnStdErr,
 * ignoreReturnCode, delay, input, listeners — actions/toolkit packages/exec/src/interfaces.ts) have
 * no timeout, signal or kill, and its ToolRunner keeps the child to itself, so a hung `kind create`
 * or `docker info` could not be bounded; execFile's `timeout` kills it.
 */
import { execFile } from 'node:child_process';

export interface RunResult {
  stdout: string;
  stderr: string;
}

export class CommandError extends Error {
  readonly code: string | number | undefined;
  readonly stderr: string;
  constructor(message: string, code: string | number | undefined, stderr: string) {
    super(message);
    this.code = code;
    this.stderr = stderr;
  }
}

export function run(
  cmd: string,
  args: readonly string[],
  opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      [...args],
      { timeout: opts.timeoutMs ?? 0, maxBuffer: 64 * 1024 * 1024, env: opts.env ?? process.env },
      (err, stdout, stderr) => {
        if (err) {
          const e = err as NodeJS.ErrnoException & { killed?: boolean };
          const why =
            e.code === 'ENOENT'
              ? 'not found on PATH'
              : e.killed
                ? `timed out after ${opts.timeoutMs}ms`
                : (stderr || e.message).trim();
          reject(new CommandError(`${cmd} ${args.join(' ')}: ${why}`, e.code, String(stderr)));
        } else resolve({ stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}
