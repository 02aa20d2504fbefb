import type { Transform } from 'node:stream';
import { PassThrough } from 'node:stream';
import { createGunzip, createGzip } from 'node:zlib';
import { createZstdFramesDecompress } from './zstd-frames.ts';
import { ParallelZstdCompress } from './zstd-parallel.ts';

export const COMPRESSIONS = ['zstd', 'gzip', 'none'] as const;
export type Compression = (typeof COMPRESSIONS)[number];

/** File-name suffix for an artifact stored with this compression. */
export function compressionSuffix(c: Compression): string {
  return c === 'zstd' ? '.zst' : c === 'gzip' ? '.gz' : '';
}

/**
 * Output buffer of the (de)compressors. zlib's 16 KiB default turns every input block into many
 * round trips to the thread pool and many small buffers for the garbage collector.
 */
export const ZLIB_CHUNK = 256 * 1024;

/**
 * zstd: level 3 (zstd's own default: fast, good ratio) in independent 4 MiB frames, two at a time
 * (zstd-parallel.ts): the dump and its compression then use both cores of a runner instead of one.
 * The window is 2 MiB, so frames cost no ratio: on the bench's 1.3 GB dump, 314.13 MB in 4 MiB
 * frames against 314.31 MB as one stream. Memory: three 4 MiB segments and a second context. One
 * zstd stream on one thread instead peaked at 140–150 MiB against 162–179 MiB for a 414 MB
 * backup, but took 4.0 s against 2.8 s (the dump alone: 2.1 s; medians of 5 alternating runs on
 * 2 cores shared with other work, `npm run bench:backup` data): the second core is worth it.
 */
export const ZSTD = { level: 3, segmentBytes: 4 * 1024 * 1024, workers: 2 } as const;

/** gzip: level 6 (gzip's default). */
export function compressor(c: Compression): Transform {
  if (c === 'zstd') return new ParallelZstdCompress({ ...ZSTD, chunkSize: ZLIB_CHUNK });
  if (c === 'gzip') return createGzip({ level: 6, chunkSize: ZLIB_CHUNK });
  return new PassThrough();
}

/** zstd artifacts are series of frames: Node's own decompressor would stop after the first. */
export function decompressor(c: Compression): Transform {
  if (c === 'zstd') return createZstdFramesDecompress({ chunkSize: ZLIB_CHUNK });
  if (c === 'gzip') return createGunzip({ chunkSize: ZLIB_CHUNK });
  return new PassThrough();
}
