import type { Transform } from 'node:stream';
import { PassThrough } from 'node:stream';
import { constants, createGunzip, createGzip, createZstdCompress, createZstdDecompress } from 'node:zlib';

export const COMPRESSIONS = ['zstd', 'gzip', 'none'] as const;
export type Compression = (typeof COMPRESSIONS)[number];

/** File-name suffix for an artifact stored with this compression. */
export function compressionSuffix(c: Compression): string {
  return c === 'zstd' ? '.zst' : c === 'gzip' ? '.gz' : '';
}

/** zstd level 3 (zstd's own default: fast, good ratio); gzip level 6. */
export function compressor(c: Compression): Transform {
  if (c === 'zstd') return createZstdCompress({ params: { [constants.ZSTD_c_compressionLevel]: 3 } });
  if (c === 'gzip') return createGzip({ level: 6 });
  return new PassThrough();
}

export function decompressor(c: Compression): Transform {
  if (c === 'zstd') return createZstdDecompress();
  if (c === 'gzip') return createGunzip();
  return new PassThrough();
}
