/**
 * V8 start-up flags for the commands that stream data (backup, restore, drills).
 *
 * V8 sizes a fresh heap for small programs. kindling's heap is ~15 MB while hundreds of MB of
 * buffers stream through it, and V8 then runs a full mark-compact every ~120 ms: 91 of them in one
 * 1.3 GB backup, ~3 s of CPU on a 2-core runner (mutator utilisation 0.77). Starting with a larger
 * old space leaves 2. V8 reads this flag only at start-up — not from NODE_OPTIONS, not from
 * `v8.setFlagsFromString` — so these commands run themselves once more with it.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { constants } from 'node:os';

export const HEAP_FLAGS = ['--initial-old-space-size=64'] as const;

/**
 * Without the flags: runs this same program (script, arguments, environment, stdio) again with
 * them, forwards termination signals, and resolves to its exit status. With them: undefined, and
 * the caller goes on.
 */
export async function relaunchWithHeapFlags(): Promise<number | undefined> {
  if (HEAP_FLAGS.every((f) => process.execArgv.includes(f))) return undefined;
  const script = process.argv[1];
  if (!script) return undefined;
  const child = spawn(
    process.execPath,
    [...HEAP_FLAGS, ...process.execArgv, script, ...process.argv.slice(2)],
    {
      stdio: 'inherit',
    },
  );
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, forward);
  try {
    const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
    return code ?? 128 + (signal ? constants.signals[signal] : 0);
  } catch {
    return undefined; // could not start a second Node: go on in this one, with V8's defaults
  } finally {
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.off(s, forward);
  }
}
