import type { Transform } from 'node:stream';
import { PassThrough } from 'node:stream';
import { constants, createGunzip, createGzip, createZstdCompress, createZstdDecompress } from 'node:zlib';

export const COMPRESSIONS = ['zstd', 'gzip', 'none'] as const;
export type Compression = (typeof COMPRESSIONS)[number];

/** File-name suffix for an artifact stored with this compression. */
export function compressionSuffix(c: Compression): string {
  return c === 'zstd' ? '.zst' : c === 'gzip' ? '.gz' : '';
}

/**
 * Output buffer of the (de)compressors. zlib's 16 KiB default turns one 256 KiB input block into
 * 16+ round trips to the thread pool; one buffer per block halves the CPU time of the stream.
 */
export const ZLIB_CHUNK = 256 * 1024;

/** zstd level 3 (zstd's own default: fast, good ratio); gzip level 6. */
export function compressor(c: Compression): Transform {
  if (c === 'zstd')
    return createZstdCompress({
      chunkSize: ZLIB_CHUNK,
      params: { [constants.ZSTD_c_compressionLevel]: 3 },
    });
  if (c === 'gzip') return createGzip({ level: 6, chunkSize: ZLIB_CHUNK });
  return new PassThrough();
}

export function decompressor(c: Compression): Transform {
  if (c === 'zstd') return createZstdDecompress({ chunkSize: ZLIB_CHUNK });
  if (c === 'gzip') return createGunzip({ chunkSize: ZLIB_CHUNK });
  return new PassThrough();
}
