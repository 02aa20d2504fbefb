import { createHash } from 'node:crypto';
import { pipeline, type Readable, Transform } from 'node:stream';
import type { Stack } from '../catalog/types.ts';
import type { S3Store } from '../store/s3.ts';
import type { StoreLocation } from '../store/url.ts';
import { errorMessage, FailedError, UsageError } from '../util/errors.ts';
import { redact } from '../util/redact.ts';
import { decompressor } from './compression.ts';
import type { ArtifactRecord, BackupManifest, ComponentRecord } from './manifest.ts';
import { progressIntervalFromEnv, progressTicker } from './progress.ts';
import { SOURCES } from './sources/index.ts';
import { openSpool, readSpool, type SpoolOptions } from './spool.ts';
import type { RestoreContext, RestoreOptions, TargetAccess } from './types.ts';
import { rehashAll } from './verify.ts';
import { zstdCliAvailable, zstdCliDecompress } from './zstd-cli.ts';
import { createZstdFramesDecompress } from './zstd-frames.ts';

/** Read size of a spool file. */
const SPOOL_READ_BYTES = 64 * 1024;
/**
 * Output buffers of Node's zstd decompressor while restoring (used when no zstd tool is on PATH,
 * zstd-cli.ts): 64 KiB, a Linux pipe's default capacity
 * (pipe(7)), so that each one goes into the restore tool's stdin in one write and dies young; the
 * 256 KiB ones of compression.ts waited in the pipe's queue, outlived scavenges and cost full GCs.
 * The bench's 414 MB restore (4 alternating runs, load 2.3–2.5): 1.44–1.72 s CPU and 3.51–3.62 s
 * wall against 1.66–2.18 s and 3.62–3.68 s; full GCs 1–7 against 13–26 (3 runs, --trace-gc).
 */
const RESTORE_ZSTD_CHUNK = 64 * 1024;

export interface RestoreOutcome {
  id: string;
  ok: boolean;
  components: {
    component: string;
    backup: string;
    ok: boolean;
    durationMs: number;
    error?: string;
    notes: string[];
  }[];
  durationMs: number;
}

/** The manifest's components to restore: all, or the named ones (unknown names are usage errors). */
export function selectRecords(manifest: BackupManifest, names: readonly string[]): ComponentRecord[] {
  if (names.length === 0) return manifest.components;
  const have = manifest.components.map((c) => c.component);
  const unknown = names.filter((n) => !have.includes(n));
  if (unknown.length)
    throw new UsageError(
      `--components: backup ${manifest.id} has no ${unknown.join(', ')}; it has ${have.join(', ')}`,
    );
  return manifest.components.filter((c) => names.includes(c.component));
}

/**
 * Restores a backup: (1) re-hash every selected artifact against the manifest, (2) ask each
 * source whether the target can take the restore, (3) restore. Any problem in (1) or (2) refuses
 * the whole restore before the target is touched. While restoring, the bytes are hashed again
 * and a mismatch fails that component. The verify pass spools the artifacts to local disk (spool.ts)
 * and the restore reads them from there: one download instead of two (`spool: false`, a cap or a
 * lack of room: two).
 */
export async function runRestore(opts: {
  stack: Stack;
  manifest: BackupManifest;
  components: readonly string[];
  target: TargetAccess;
  store: S3Store;
  location: StoreLocation;
  options: RestoreOptions;
  log?: (line: string) => void;
  spool?: SpoolOptions | false;
}): Promise<RestoreOutcome> {
  const t0 = Date.now();
  const log = opts.log ?? (() => {});
  const { manifest, store, location } = opts;
  const records = selectRecords(manifest, opts.components);
  const plans = records.map((record) => {
    const component = opts.stack.components[record.component];
    const spec = component?.backups.find((b) => b.name === record.backup);
    if (!component || !spec)
      throw new UsageError(
        `the catalog has no backup "${record.backup}" of component "${record.component}" (needed to restore ${manifest.id})`,
      );
    const source = SOURCES.get(record.type);
    if (!source?.restore)
      throw new UsageError(`backups of type ${record.type} cannot be restored by kindling`);
    return { record, component, spec, source };
  });

  log(
    `verifying ${records.reduce((n, r) => n + r.artifacts.length, 0)} artifact(s) of ${manifest.id} before touching the target`,
  );
  const need = records.reduce((n, r) => n + r.artifacts.reduce((m, a) => m + a.bytes, 0), 0);
  const spool = opts.spool === false ? undefined : openSpool(need, opts.spool ?? {}, log);
  // filled once the verify pass has spooled the artifacts; no context reads it before then
  const spooled = new Map<string, string>();
  const contexts = plans.map((p) => ({ ...p, ...restoreContext(p, spooled, opts, log) }));
  try {
    // The sources' preflight only reads the target (is the database there, is it empty?), so it
    // runs while the artifacts download and re-hash instead of after: on the bench's restore the
    // two took 200–230 ms and 30–40 ms one after the other. Both must pass before anything is
    // written; a mismatch is reported first, as the more serious of the two.
    const [checked, preflight] = await Promise.allSettled([
      rehashAll(store, location, records, spool?.file),
      preflightAll(contexts),
    ]);
    if (checked.status === 'rejected') throw checked.reason;
    const bad = checked.value.filter((r) => !r.ok);
    if (bad.length)
      throw new FailedError(
        `refusing to restore ${manifest.id}: artifacts do not match the manifest; the target was not touched`,
        bad.map((b) => b.problem!),
      );
    if (preflight.status === 'rejected') throw preflight.reason;
    if (preflight.value.length)
      throw new FailedError('refusing to restore; the target was not touched', preflight.value);
    for (const r of checked.value) {
      if (r.spoolError) log(`${r.key}: not spooled (${r.spoolError}): downloading it again to restore`);
      if (r.spooled) spooled.set(r.key, r.spooled);
    }
    return await restorePlans(contexts, log, manifest.id, t0);
  } finally {
    spool?.dispose();
  }
}

type Plan = {
  record: ComponentRecord;
  component: RestoreContext['component'];
  spec: RestoreContext['spec'];
  source: NonNullable<ReturnType<typeof SOURCES.get>>;
  ctx: RestoreContext;
  /** Stops the artifact streams the source left unread (it failed before reading them to the end). */
  release: () => void;
};

/** Every source's reasons to refuse the restore, each prefixed with its component. */
async function preflightAll(contexts: readonly Plan[]): Promise<string[]> {
  const refusals: string[] = [];
  for (const { ctx, source, record } of contexts) {
    for (const problem of (await source.preflightRestore?.(ctx)) ?? [])
      refusals.push(`${record.component}: ${problem}`);
  }
  return refusals;
}

async function restorePlans(
  contexts: readonly Plan[],
  log: (line: string) => void,
  id: string,
  t0: number,
): Promise<RestoreOutcome> {
  const components: RestoreOutcome['components'] = [];
  for (const { ctx, source, record, release } of contexts) {
    const c0 = Date.now();
    try {
      log(`${record.component}: restoring "${record.backup}"`);
      const notes = await source.restore!(ctx);
      components.push({
        component: record.component,
        backup: record.backup,
        ok: true,
        durationMs: Date.now() - c0,
        notes,
      });
    } catch (err) {
      const error = redact(errorMessage(err));
      log(`${record.component}: FAILED: ${error}`);
      components.push({
        component: record.component,
        backup: record.backup,
        ok: false,
        durationMs: Date.now() - c0,
        error,
        notes: [],
      });
    } finally {
      release();
    }
  }
  return { id, ok: components.every((c) => c.ok), components, durationMs: Date.now() - t0 };
}

function restoreContext(
  p: { record: ComponentRecord; component: RestoreContext['component']; spec: RestoreContext['spec'] },
  spooled: ReadonlyMap<string, string>,
  opts: {
    manifest: BackupManifest;
    target: TargetAccess;
    store: S3Store;
    location: StoreLocation;
    options: RestoreOptions;
  },
  log: (line: string) => void,
): { ctx: RestoreContext; release: () => void } {
  const checks = new Map<string, Promise<void>>();
  // the open streams not yet read to their end (and hashed): a tool that exits early leaves its
  // input paused in the pipeline, which would then wait for a reader forever
  const unfinished = new Map<string, (why: Error) => void>();
  const ctx: RestoreContext = {
    component: p.component,
    spec: p.spec,
    record: p.record,
    manifest: opts.manifest,
    target: opts.target,
    store: opts.store,
    location: opts.location,
    options: opts.options,
    log: (line) => log(`${p.record.component}: ${line}`),
    async open(a: ArtifactRecord): Promise<Readable> {
      // the spooled copy was hashed as it was written; it is hashed again below all the same
      const file = spooled.get(a.key);
      const raw = file
        ? readSpool(file, SPOOL_READ_BYTES)
        : await opts.store.getStream(opts.location.bucket, a.key);
      const hash = createHash('sha256');
      let bytes = 0;
      const ticker = progressTicker({
        label: `${p.record.component}: restoring ${a.name}`,
        log,
        intervalMs: progressIntervalFromEnv(),
      });
      let settle!: (err?: Error) => void;
      checks.set(
        a.key,
        new Promise<void>((resolve, reject) => {
          settle = (err) => (err ? reject(err) : resolve());
        }),
      );
      const tee = new Transform({
        transform(chunk: Buffer, _e, cb) {
          hash.update(chunk);
          bytes += chunk.length;
          cb(null, chunk);
        },
        flush(cb) {
          const sha = hash.digest('hex');
          if (sha !== a.sha256 || bytes !== a.bytes) {
            const err = new FailedError(
              `${a.key} changed while restoring: sha256 ${sha} (${bytes} bytes), manifest ${a.sha256} (${a.bytes} bytes)`,
            );
            settle(err);
            return cb(err);
          }
          settle();
          cb();
        },
      });
      const inflate =
        a.compression !== 'zstd'
          ? decompressor(a.compression)
          : zstdCliAvailable()
            ? zstdCliDecompress()
            : createZstdFramesDecompress({ chunkSize: RESTORE_ZSTD_CHUNK });
      // progress counts what the restore tool has read (the dump's own bytes, as a backup counts
      // them): the compressed side runs ahead of it by the decompressor's read-ahead (the zstd
      // tool reads ahead with its asynchronous I/O, on by default since 1.5.4: `zstd -H`), so a
      // small artifact was all read before the first interval
      let restored = 0;
      const counted = new Transform({
        transform(chunk: Buffer, _e, cb) {
          restored += chunk.length;
          ticker.set(restored);
          cb(null, chunk);
        },
      });
      // the callback runs once `counted` has taken every byte (its writable side), which is
      // before the reader can see the end of it
      const out = pipeline(raw, tee, inflate, counted, (err) => {
        unfinished.delete(a.key);
        ticker.stop();
        if (err) settle(err);
      });
      unfinished.set(a.key, (why) => out.destroy(why));
      return out;
    },
    verified(a: ArtifactRecord): Promise<void> {
      const check = checks.get(a.key);
      if (!check) return Promise.reject(new Error(`internal: ${a.key} was never opened`));
      const stop = unfinished.get(a.key);
      if (!stop) return check;
      // the reader is done with it and left some unread: that part was neither restored nor verified
      const why = new FailedError(
        `${a.key}: the restore stopped reading it before its end, so it was neither fully restored nor verified`,
      );
      stop(why);
      return check.then(() => {
        throw why;
      });
    },
  };
  const release = () => {
    for (const stop of [...unfinished.values()])
      stop(new Error('released: the restore of its component ended'));
  };
  return { ctx, release };
}
