/** Reading the V1Status an exec sends on channel 3: pure decisions, no I/O. */
import type { V1Status } from '@kubernetes/client-node';

/** What a finished exec means: the command's exit code, or why it did not run at all. */
export type ExecOutcome = { exitCode: number } | { error: string };

/**
 * `Success` → 0; `NonZeroExitCode` with an `ExitCode` cause → that code (never 0: a Failure is not
 * a success even when the cause is garbled); any other Failure (no such container, executable not
 * found, internal error) → an error carrying the API server's message.
 */
export function execOutcome(status: V1Status): ExecOutcome {
  if (status.status === 'Success') return { exitCode: 0 };
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  if (cause) {
    const code = Number(cause.message);
    return { exitCode: Number.isInteger(code) && code > 0 ? code : 1 };
  }
  return { error: status.message || status.reason || `exec status ${JSON.stringify(status).slice(0, 200)}` };
}

/** Exit code from the V1Status; failures without an ExitCode cause count as 1. */
export function exitCodeOfStatus(status: V1Status): number {
  const o = execOutcome(status);
  return 'exitCode' in o ? o.exitCode : 1;
}

/** Parses channel-3 bytes; undefined while the JSON is incomplete or not a Status. */
export function parseStatus(text: string): V1Status | undefined {
  try {
    const v = JSON.parse(text);
    return v && typeof v === 'object' && typeof v.status === 'string' ? (v as V1Status) : undefined;
  } catch {
    return undefined;
  }
}
