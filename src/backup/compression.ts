import type { Transform } from 'node:stream';
import { PassThrough } from 'node:stream';
import { constants, createGunzip, createGzip, createZstdCompress } from 'node:zlib';
import { createZstdFramesDecompress } from './zstd-frames.ts';

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
 * zstd: level 3 (zstd's own default: fast, good ratio), one stream on one thread-pool thread.
 * Compressing 4 MiB frames on two threads at once (the former zstd-parallel.ts) held three
 * segment buffers and two contexts: peak RSS 196–219 MiB against 163–167 MiB for a 414 MB
 * backup; on 2 shared cores pg_dump, the server and the store keep the second core busy anyway
 * (`npm run bench:backup`).
 */
export const ZSTD_LEVEL = 3;

/** gzip: level 6 (gzip's default). */
export function compressor(c: Compression): Transform {
  if (c === 'zstd')
    return createZstdCompress({
      chunkSize: ZLIB_CHUNK,
      params: { [constants.ZSTD_c_compressionLevel]: ZSTD_LEVEL },
    });
  if (c === 'gzip') return createGzip({ level: 6, chunkSize: ZLIB_CHUNK });
  return new PassThrough();
}

/** zstd artifacts of earlier versions are series of frames: Node's own decompressor would stop after the first. */
export function decompressor(c: Compression): Transform {
  if (c === 'zstd') return createZstdFramesDecompress({ chunkSize: ZLIB_CHUNK });
  if (c === 'gzip') return createGunzip({ chunkSize: ZLIB_CHUNK });
  return new PassThrough();
}
