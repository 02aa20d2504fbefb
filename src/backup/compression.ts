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
 * zstd: level 3 (zstd's own default: fast, good ratio) in independent 2 MiB frames, two at a time
 * (zstd-parallel.ts): the dump and its compression then use both cores of a runner instead of one.
 * Memory: three segments (the one filling, two compressing), their frames' output and a second
 * context. Frame size (issue #15; the bench's 414 MB backup, 5 MiB parts, 4 alternating runs):
 * 4 MiB frames peaked at 171–181 MiB, 2 MiB at 156–158 MiB, same wall time (2.3–2.6 s); 1 MiB
 * at 149–155 MiB but smaller frames than the 2 MiB window cost ratio. The cost, against zstd -3's
 * one stream: the bench's artifact 89.76 MB in 4 MiB frames, 89.81 MB in 2 MiB, 90.05 MB in 1 MiB;
 * a text-only dump (pgbench, 204 MB, ~100:1) 1.90 / 2.02 / 2.38 MB, zstd -3 1.87 MB.
 * One zstd stream on one thread instead had peaked 20–30 MiB lower than 4 MiB frames but took
 * 4.0 s against 2.8 s (the dump alone: 2.1 s; 5 alternating runs): the second core is worth it.
 */
export const ZSTD = { level: 3, segmentBytes: 2 * 1024 * 1024, workers: 2 } as const;

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
