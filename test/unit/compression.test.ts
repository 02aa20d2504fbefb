import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants, zstdCompressSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { type Compression, compressor, decompressor, ZSTD_LEVEL } from '../../src/backup/compression.ts';
import { describeWithServices } from '../harness/services.ts';

const dir = mkdtempSync(join(tmpdir(), 'kindling-compression-'));

/** Text like a dump's COPY rows: compressible, but not trivially. */
function dumpLike(bytes: number): Buffer {
  const lines: string[] = [];
  let size = 0;
  let x = 2463534242;
  for (let i = 0; size < bytes; i++) {
    // xorshift: a cheap, seeded stand-in for the random part of a row
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const line = `${i}\t${(i * 7919) % 100000}\t${(i * 104729) % 9973}\t${(x >>> 0).toString(16)}\n`;
    lines.push(line);
    size += line.length;
  }
  return Buffer.from(lines.join('')).subarray(0, bytes);
}

/** Through a stream in pipe-sized chunks, as the backup pipeline feeds it. */
async function through(input: Buffer, t: NodeJS.ReadWriteStream, chunk = 65536): Promise<Buffer> {
  const out: Buffer[] = [];
  const chunks = [];
  for (let o = 0; o < input.length; o += chunk) chunks.push(input.subarray(o, o + chunk));
  await pipeline(
    Readable.from(chunks),
    t,
    new Writable({
      write(b: Buffer, _e, cb) {
        out.push(b);
        cb();
      },
    }),
  );
  return Buffer.concat(out);
}

describe('compressor / decompressor', () => {
  for (const c of ['zstd', 'gzip', 'none'] as Compression[])
    it(`${c}: reads back byte for byte`, async () => {
      const input = dumpLike(3_000_000);
      const packed = await through(input, compressor(c));
      if (c !== 'none') expect(packed.length).toBeLessThan(input.length * 0.8);
      expect((await through(packed, decompressor(c))).equals(input)).toBe(true);
    });
});

describeWithServices('zstd artifacts, read by the zstd CLI', ['zstd-cli'], () => {
  it('are one level-3 frame that `zstd -dc` decodes, the size of a one-shot level-3 compression', async () => {
    const input = dumpLike(6 * 1024 * 1024 + 12345);
    const packed = await through(input, compressor('zstd'));
    const file = join(dir, 'a.zst');
    writeFileSync(file, packed);
    expect(execFileSync('zstd', ['-dc', file], { maxBuffer: 1 << 30 }).equals(input)).toBe(true);
    // `zstd -l`: a header line, then "Frames  Skips  Compressed ..." values
    const listing = execFileSync('zstd', ['-l', file], { encoding: 'utf8' });
    expect(Number(listing.trim().split('\n')[1]!.trim().split(/\s+/)[0])).toBe(1);
    const oneShot = zstdCompressSync(input, { params: { [constants.ZSTD_c_compressionLevel]: ZSTD_LEVEL } });
    expect(Math.abs(packed.length / oneShot.length - 1)).toBeLessThan(0.01);
  });
});
