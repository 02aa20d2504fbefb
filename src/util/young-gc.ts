/**
 * Bounded memory for long streams: ask V8 for a young-generation collection every so many bytes.
 *
 * Every read from a pipe or socket is a new Buffer. The JavaScript around them allocates almost
 * nothing, so V8 rarely runs a scavenge, and the spent buffers are freed only when their external
 * memory reaches V8's own limit (64 MiB): a backup's resident memory rose by that much. A scavenge
 * frees them at once (they die young) and costs well under a millisecond with kindling's small
 * heap: a 1.3 GB backup peaked at 205–230 MiB without, 165–185 MiB with (`npm run bench:backup`).
 *
 * `gc` is exposed in a separate context (`--expose-gc` set at run time), so the program's own
 * global is untouched. Where that is unavailable, this does nothing: memory is then V8's default.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Gc = (options: { type: 'minor' | 'major' }) => void;

let gc: Gc | null | undefined;

function collector(): Gc | null {
  if (gc === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      gc = runInNewContext('gc') as Gc;
    } catch {
      gc = null;
    }
  }
  return gc;
}

/** Counts bytes through a stream and runs a young-generation GC each `every` bytes. */
export function youngGcPacer(every = 8 * 1024 * 1024): (bytes: number) => void {
  const run = collector();
  if (!run) return () => {};
  let since = 0;
  return (bytes) => {
    since += bytes;
    if (since < every) return;
    since = 0;
    run({ type: 'minor' });
  };
}
