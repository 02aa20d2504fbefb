/**
 * Where a PostgreSQL dump is compressed (pure). On target kube the dump crosses the API server's
 * exec stream, so it is compressed in the pod by pg_dump itself whenever the pod's pg_dump can:
 * - 16+: `--compress=zstd:3` (compression specifications, PostgreSQL 16 release notes and the
 *   pg_dump reference "-Z level | method[:detail]"; gzip, lz4, zstd, none). The pinned image
 *   (postgres:16.x-alpine) is built `--with-zstd` (docker-library/postgres `16/alpine*\/Dockerfile`).
 * - up to 15: only a zlib level, `-Z 0..9` (pg_dump 15 reference; "invalid value "zstd" for
 *   option -Z/--compress" otherwise): `-Z1`, the cheapest level, which still shrinks text ~3×.
 * The pipeline then stores the bytes as they are (no second compression). On target local nothing
 * crosses an exec stream: `-Z0` and the pipeline's parallel zstd, faster than pg_dump's.
 */
import type { Compression } from '../compression.ts';

export interface DumpCompression {
  /** pg_dump arguments after `-Fc`. */
  args: string[];
  /** What the archive's data blocks are compressed with, for the manifest. */
  inDump: 'zstd:3' | 'gzip:1' | 'none';
  /** The pipeline's compression for this artifact: none when pg_dump compressed it. */
  pipeline?: Compression;
}

/** `pg_dump (PostgreSQL) 16.6` / `15.18 (Debian 15.18-0+deb12u1)` → 16 / 15; undefined when unreadable. */
export function pgMajor(version: string): number | undefined {
  const m = /\(PostgreSQL\)\s+(\d+)/.exec(version) ?? /^(\d+)/.exec(version.trim());
  return m ? Number(m[1]) : undefined;
}

export function dumpCompression(target: 'kube' | 'local', toolVersion: string): DumpCompression {
  if (target === 'local') return { args: ['-Z0'], inDump: 'none' };
  const major = pgMajor(toolVersion);
  if (major === undefined) return { args: ['-Z0'], inDump: 'none' };
  if (major >= 16) return { args: ['--compress=zstd:3'], inDump: 'zstd:3', pipeline: 'none' };
  return { args: ['-Z1'], inDump: 'gzip:1', pipeline: 'none' };
}
