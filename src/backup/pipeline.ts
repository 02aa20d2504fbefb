import { createHash } from 'node:crypto';
import { pipeline, Transform, type Writable } from 'node:stream';
import type { S3Store } from '../store/s3.ts';
import { formatDuration, parseDuration } from '../util/duration.ts';
import { FailedError } from '../util/errors.ts';
import { type Compression, compressor } from './compression.ts';
import { formatBytes } from './format.ts';
import type { CommandResult } from './runner.ts';

/** Looks at the first bytes a command wrote and its total; returns a problem, or undefined when it looks right. */
export type Probe = (head: Buffer, rawBytes: number) => string | undefined;

export interface StreamedArtifact {
  bytes: number;
  rawBytes: number;
  sha256: string;
  exitCode: number;
  durationMs: number;
}

const HEAD_BYTES = 4096;

/**
 * Streams one command's stdout → compression → sha256/byte tee → S3 multipart upload, without
 * holding it whole anywhere. The stream ends only once the command's exit status is known: a
 * non-zero status, an empty output or a failed probe errors the stream, so the upload is aborted
 * and nothing is committed. A failed upload stops the command.
 */
export async function streamArtifact(args: {
  store: S3Store;
  bucket: string;
  key: string;
  compression: Compression;
  /** What produced the bytes, for messages: `pg_dump -Fc identity`. */
  label: string;
  produce: (stdout: Writable, signal: AbortSignal) => Promise<CommandResult>;
  probe?: Probe;
  /** Told the bytes produced so far, per chunk (progress reports). */
  onBytes?: (rawBytes: number) => void;
  /** Stop a producer that writes nothing for this long (default `dumpIdleTimeoutFromEnv()`; 0 = never). */
  idleMs?: number;
}): Promise<StreamedArtifact> {
  const started = Date.now();
  const controller = new AbortController();
  let failure: Error | undefined;
  const fail = (err: Error) => {
    failure ??= err;
    controller.abort();
  };
  const idleMs = args.idleMs ?? dumpIdleTimeoutFromEnv();

  let rawBytes = 0;
  let head = Buffer.alloc(0);
  let settle!: (r: CommandResult) => void;
  const result = new Promise<CommandResult>((r) => {
    settle = r;
  });

  const gate = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      rawBytes += chunk.length;
      args.onBytes?.(rawBytes);
      if (head.length < HEAD_BYTES) head = Buffer.concat([head, chunk.subarray(0, HEAD_BYTES - head.length)]);
      cb(null, chunk);
    },
    flush(cb) {
      // hold the end of the stream until the producing command has exited
      result.then((r) => {
        if (failure) return cb(failure);
        const problem =
          r.exitCode !== 0
            ? `${args.label} exited ${r.exitCode} after writing ${formatBytes(rawBytes)}${stderrNote(r.stderr)}`
            : rawBytes === 0
              ? `${args.label} exited 0 but wrote nothing${stderrNote(r.stderr)}`
              : args.probe?.(head, rawBytes);
        if (problem) {
          const err = new FailedError(`${problem}; nothing was stored`);
          failure ??= err;
          return cb(err);
        }
        cb();
      });
    },
  });

  const hash = createHash('sha256');
  let storedBytes = 0;
  const tee = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      storedBytes += chunk.length;
      cb(null, chunk);
    },
  });
  // a broken pipe is a consequence (of an upload or a gate failure), reported only when nothing else was
  let pipeError: Error | undefined;
  const body = pipeline(gate, compressor(args.compression), tee, (err) => {
    if (err) pipeError ??= err;
  });

  // a dump whose server went silent mid-way writes nothing and never exits: checked once per
  // interval (no per-chunk cost), only while the producer runs
  let seen = -1;
  const watchdog =
    idleMs > 0
      ? setInterval(() => {
          if (rawBytes === seen)
            fail(
              new FailedError(
                `${args.label} wrote nothing for ${formatDuration(idleMs)} (KINDLING_DUMP_IDLE_TIMEOUT); stopped it, nothing was stored`,
              ),
            );
          seen = rawBytes;
        }, idleMs)
      : undefined;
  watchdog?.unref();
  const produced = args
    .produce(gate, controller.signal)
    .finally(() => clearInterval(watchdog))
    .then(
      (r) => {
        settle(r);
        return r;
      },
      (err: Error) => {
        const r = { exitCode: 255, stderr: err.message };
        settle(r);
        return r;
      },
    );

  let uploadError: unknown;
  try {
    await args.store.upload(args.bucket, args.key, body, {
      signal: controller.signal,
      expectedBytes: () => storedBytes,
    });
  } catch (err) {
    uploadError = err;
    fail(args.store.explain(err, args.bucket, `upload of ${args.key} failed`));
    gate.destroy();
    body.destroy();
  }
  const r = await produced;
  if (!failure && pipeError) failure = pipeError;
  if (failure) throw withAbortNote(failure, uploadError);
  return {
    bytes: storedBytes,
    rawBytes,
    sha256: hash.digest('hex'),
    exitCode: r.exitCode,
    durationMs: Date.now() - started,
  };
}

export const DEFAULT_DUMP_IDLE_TIMEOUT_MS = 15 * 60_000;

/** `KINDLING_DUMP_IDLE_TIMEOUT` (a duration; `0` = never), else 15 minutes. */
export function dumpIdleTimeoutFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.KINDLING_DUMP_IDLE_TIMEOUT;
  if (text === undefined || text === '') return DEFAULT_DUMP_IDLE_TIMEOUT_MS;
  return text === '0' ? 0 : parseDuration(text, 'KINDLING_DUMP_IDLE_TIMEOUT');
}

function stderrNote(stderr: string): string {
  const last = stderr.trim().split('\n').slice(-3).join(' | ');
  return last ? ` (stderr: ${last})` : '';
}

function withAbortNote(failure: Error, uploadError: unknown): Error {
  // the multipart uploader attaches the abort's own failure as the cause
  const cause = (uploadError as { cause?: unknown } | undefined)?.cause;
  if (cause instanceof Error && failure instanceof FailedError)
    return new FailedError(`${failure.message}; aborting the multipart upload also failed: ${cause.message}`);
  return failure;
}
