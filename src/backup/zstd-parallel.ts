/**
 * zstd compression on more than one core, with node:zlib only.
 *
 * Node's zstd has no worker threads (`ZSTD_c_nbWorkers` is rejected) and one stream compresses on
 * one thread-pool thread at a time, so a backup's speed was capped by a single core while the dump
 * itself used the other. Here the input is cut into fixed-size segments and each segment becomes
 * an independent zstd frame, compressed by one of `workers` long-lived contexts at the same time;
 * frames are emitted in input order. Concatenated frames are one valid zstd stream (RFC 8878 §3.1):
 * `zstd -d` reads it whole. Node's own decompressor stops after the first frame, so kindling reads
 * it back with `createZstdFramesDecompress` (zstd-frames.ts).
 *
 * Memory is fixed: `workers + 1` segment buffers, reused, plus each context's window.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { constants, createZstdCompress, type ZstdCompress } from 'node:zlib';

export interface ParallelZstdOptions {
  level: number;
  /** Input bytes per frame. Each frame starts with an empty window, so much larger than the window (2 MiB at level 3). */
  segmentBytes: number;
  /** Frames compressed at once. */
  workers: number;
  /** Output buffer of each context. */
  chunkSize: number;
}

interface Job {
  segment: Buffer;
  output: Promise<Buffer[]>;
}

export class ParallelZstdCompress extends Transform {
  readonly #options: ParallelZstdOptions;
  readonly #contexts: ZstdCompress[];
  readonly #free: Buffer[] = [];
  /** Frames in flight, oldest first; job i runs on context i % workers. */
  readonly #jobs: Job[] = [];
  #started = 0;
  #segment: Buffer | undefined;
  #filled = 0;

  constructor(options: ParallelZstdOptions) {
    super({ readableHighWaterMark: options.segmentBytes, writableHighWaterMark: 64 * 1024 });
    this.#options = options;
    this.#contexts = Array.from({ length: Math.max(1, options.workers) }, () =>
      createZstdCompress({
        chunkSize: options.chunkSize,
        params: { [constants.ZSTD_c_compressionLevel]: options.level },
      }),
    );
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    // most chunks (a pipe delivers ~12 KiB at a time) only fill the segment: no promise for those
    if (this.#filled + chunk.length < this.#options.segmentBytes) {
      this.#segment ??= this.#free.pop() ?? Buffer.allocUnsafeSlow(this.#options.segmentBytes);
      chunk.copy(this.#segment, this.#filled);
      this.#filled += chunk.length;
      done();
      return;
    }
    this.#take(chunk).then(() => done(), done);
  }

  override _flush(done: TransformCallback): void {
    (async () => {
      if (this.#filled > 0) await this.#dispatch();
      await this.#emitUntil(0);
    })().then(() => done(), done);
  }

  override _destroy(err: Error | null, done: (error?: Error | null) => void): void {
    for (const c of this.#contexts) c.destroy();
    done(err);
  }

  async #take(chunk: Buffer): Promise<void> {
    const size = this.#options.segmentBytes;
    for (let offset = 0; offset < chunk.length; ) {
      this.#segment ??= this.#free.pop() ?? Buffer.allocUnsafeSlow(size);
      const n = Math.min(size - this.#filled, chunk.length - offset);
      chunk.copy(this.#segment, this.#filled, offset, offset + n);
      this.#filled += n;
      offset += n;
      if (this.#filled === size) await this.#dispatch();
    }
  }

  /** Starts compressing the current segment as a frame, once a context is free. */
  async #dispatch(): Promise<void> {
    // the context this job will use is free once the job `workers` places earlier has finished
    await this.#emitUntil(this.#contexts.length - 1);
    const segment = this.#segment!;
    const length = this.#filled;
    this.#segment = undefined;
    this.#filled = 0;
    const context = this.#contexts[this.#started++ % this.#contexts.length]!;
    const output = compressFrame(context, segment.subarray(0, length));
    // a failure is raised where the frame is awaited, in order; not as an unhandled rejection before
    output.catch(() => {});
    this.#jobs.push({ segment, output });
  }

  /** Pushes finished frames, in order, until at most `pending` remain in flight. */
  async #emitUntil(pending: number): Promise<void> {
    while (this.#jobs.length > pending) {
      const job = this.#jobs.shift()!;
      const output = await job.output;
      this.#free.push(job.segment);
      for (const b of output) this.push(b);
    }
  }
}

/** One complete frame: the segment, then ZSTD_e_end. The context starts a fresh frame afterwards. */
function compressFrame(context: ZstdCompress, input: Buffer): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const output: Buffer[] = [];
    const onData = (b: Buffer) => output.push(b);
    const onError = (err: Error) => {
      context.off('data', onData);
      reject(err);
    };
    context.on('data', onData);
    context.once('error', onError);
    context.write(input);
    context.flush(constants.ZSTD_e_end, () => {
      context.off('data', onData);
      context.off('error', onError);
      resolve(output);
    });
  });
}
