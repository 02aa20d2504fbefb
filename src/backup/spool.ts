/**
 * The restore spool: the verify pass writes each artifact to a private local file while hashing
 * it, and the restore reads that file instead of downloading the artifact a second time. The
 * safety property is unchanged (nothing touches the target before every sha256 is proven); the
 * cost is local disk, as much as the selected artifacts' stored (compressed) size, for the length
 * of the restore. Above the cap, or without room, the restore downloads twice as before.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';

/** Default cap on the spooled bytes (the artifacts' stored size): 4 GiB. */
export const SPOOL_MAX_BYTES = 4 * 1024 ** 3;
/** Free space that must remain on the spool's file system after the spool is full. */
export const SPOOL_RESERVE_BYTES = 256 * 1024 ** 2;

export interface SpoolOptions {
  /** Parent directory of the spool (default: os.tmpdir()). */
  dir?: string;
  /** Spool only when the artifacts' stored bytes are at most this (0: never spool). */
  maxBytes?: number;
}

/** Whether to spool `need` bytes, and why not (pure). */
export function spoolDecision(
  need: number,
  maxBytes: number,
  freeBytes: number,
): { spool: true } | { spool: false; why: string } {
  const mib = (n: number) => `${(n / 1048576).toFixed(0)} MiB`;
  if (maxBytes <= 0) return { spool: false, why: 'spooling is off' };
  if (need > maxBytes)
    return { spool: false, why: `${mib(need)} of artifacts exceed the spool cap ${mib(maxBytes)}` };
  if (need + SPOOL_RESERVE_BYTES > freeBytes)
    return { spool: false, why: `${mib(need)} of artifacts need more than the ${mib(freeBytes)} free` };
  return { spool: true };
}

export interface Spool {
  readonly dir: string;
  /** The spool file of artifact number `i` (in verify order). */
  file(i: number): string;
  /** Removes the spool; safe to call more than once. */
  dispose(): void;
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Creates the spool directory (mkdtemp: mode 0700, a fresh name) when `spoolDecision` allows, and
 * makes sure it is removed on every way out: `dispose()`, process exit, and SIGINT/SIGTERM/SIGHUP
 * (removed, then the signal raised again so the process ends as it would have).
 */
export function openSpool(need: number, opts: SpoolOptions, log: (line: string) => void): Spool | undefined {
  const parent = opts.dir ?? tmpdir();
  let free: number;
  try {
    const s = statfsSync(parent);
    free = s.bavail * s.bsize;
  } catch (err) {
    log(`no spool in ${parent} (${(err as Error).message}): downloading every artifact twice`);
    return undefined;
  }
  const d = spoolDecision(need, opts.maxBytes ?? SPOOL_MAX_BYTES, free);
  if (!d.spool) {
    log(`no spool (${d.why}): downloading every artifact twice`);
    return undefined;
  }
  let dir: string;
  try {
    dir = mkdtempSync(join(parent, 'kindling-restore-'));
  } catch (err) {
    log(`no spool in ${parent} (${(err as Error).message}): downloading every artifact twice`);
    return undefined;
  }
  let done = false;
  const remove = () => {
    if (done) return;
    done = true;
    rmSync(dir, { recursive: true, force: true });
    process.off('exit', remove);
    for (const sig of SIGNALS) process.off(sig, onSignal);
  };
  const onSignal = (sig: NodeJS.Signals) => {
    remove();
    // no listener left of ours: the default action (or the CLI's own listener) runs again
    if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
  };
  process.on('exit', remove);
  for (const sig of SIGNALS) process.on(sig, onSignal);
  return { dir, file: (i) => join(dir, String(i)), dispose: remove };
}

/**
 * Reads a spool file on demand, one synchronous 64 KiB read each time the consumer asks (the file
 * was just written: page cache). fs.createReadStream reads ahead into fresh 256 KiB buffers that
 * wait for pg_restore and outlive scavenges: the bench's restore then ran 35–39 full GCs, 15–16
 * when downloading.
 */
export function readSpool(file: string, chunkBytes = 64 * 1024): Readable {
  let fd: number | undefined;
  return new Readable({
    highWaterMark: chunkBytes,
    construct(cb) {
      try {
        fd = openSync(file, 'r');
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
    read() {
      try {
        const buf = Buffer.allocUnsafeSlow(chunkBytes);
        const n = readSync(fd!, buf, 0, chunkBytes, null);
        this.push(n === 0 ? null : n === chunkBytes ? buf : buf.subarray(0, n));
      } catch (err) {
        this.destroy(err as Error);
      }
    },
    destroy(err, cb) {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
      cb(err);
    },
  });
}
