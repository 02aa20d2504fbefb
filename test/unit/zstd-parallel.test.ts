import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants, zstdCompressSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { compressor, decompressor, ZSTD } from '../../src/backup/compression.ts';
import { ParallelZstdCompress } from '../../src/backup/zstd-parallel.ts';
import { describeWithServices } from '../harness/services.ts';

const dir = mkdtempSync(join(tmpdir(), 'kindling-zstd-'));

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

async function compress(input: Buffer, z: ParallelZstdCompress, chunk = 65536): Promise<Buffer> {
  const out: Buffer[] = [];
  const chunks = [];
  for (let o = 0; o < input.length; o += chunk) chunks.push(input.subarray(o, o + chunk));
  await pipeline(
    Readable.from(chunks),
    z,
    new Writable({
      write(b: Buffer, _e, cb) {
        out.push(b);
        cb();
      },
    }),
  );
  return Buffer.concat(out);
}

/** The real zstd CLI decodes it, and counts its frames. */
function zstdCli(compressed: Buffer): { data: Buffer; frames: number } {
  const file = join(dir, `${Math.random().toString(36).slice(2)}.zst`);
  writeFileSync(file, compressed);
  const data = execFileSync('zstd', ['-dc', file], { maxBuffer: 1 << 30 });
  const listing = execFileSync('zstd', ['-l', file], { encoding: 'utf8' });
  // `zstd -l`: a header line, then "Frames  Skips  Compressed ..." values
  const frames = Number(listing.trim().split('\n')[1]!.trim().split(/\s+/)[0]);
  return { data, frames };
}

const small = (workers: number) =>
  new ParallelZstdCompress({ level: 3, segmentBytes: 64 * 1024, workers, chunkSize: 16 * 1024 });

describe('ParallelZstdCompress', () => {
  it('reads back through kindling’s own decompressor (all frames, not just the first)', async () => {
    const input = dumpLike(1_000_000);
    const out = await compress(input, small(2));
    const back: Buffer[] = [];
    await pipeline(
      Readable.from([out]),
      decompressor('zstd'),
      new Writable({
        write(b: Buffer, _e, cb) {
          back.push(b);
          cb();
        },
      }),
    );
    expect(Buffer.concat(back).equals(input)).toBe(true);
  });

  it('emits nothing for empty input', async () => {
    expect((await compress(Buffer.alloc(0), small(2))).length).toBe(0);
  });

  it('holds a bounded amount of input when its reader does not read (backpressure)', async () => {
    const z = small(2);
    let accepted = 0;
    const block = randomBytes(16 * 1024);
    // nobody reads z: writes must start reporting "full" after a few segments, not after 64 MiB
    for (let i = 0; i < 4096; i++) {
      accepted += block.length;
      if (!z.write(block)) break;
      await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(accepted).toBeLessThan(1024 * 1024);
    z.destroy();
  });

  it('fails the stream when destroyed mid-way, without hanging', async () => {
    const z = small(2);
    const source = new Readable({
      read() {
        this.push(randomBytes(32 * 1024));
      },
    });
    setTimeout(() => z.destroy(new Error('upload failed')), 50);
    await expect(
      pipeline(
        source,
        z,
        new Writable({
          write(_b, _e, cb) {
            cb();
          },
        }),
      ),
    ).rejects.toThrow('upload failed');
  });
});

describeWithServices('ParallelZstdCompress, read back by the zstd CLI', ['zstd-cli'], () => {
  it('writes one frame per segment, in input order, that the zstd CLI decodes byte for byte', async () => {
    // incompressible and highly compressible segments alternate, so later frames finish first
    const parts: Buffer[] = [];
    for (let i = 0; i < 12; i++) parts.push(i % 2 ? Buffer.alloc(64 * 1024, i) : randomBytes(64 * 1024));
    parts.push(dumpLike(10_000));
    const input = Buffer.concat(parts);
    const out = await compress(input, small(3), 5000);
    const { data, frames } = zstdCli(out);
    expect(data.equals(input)).toBe(true);
    expect(frames).toBe(13);
  });

  it('with the shipped settings, compresses within 1 % of one single frame', async () => {
    const input = dumpLike(3 * ZSTD.segmentBytes + 12345);
    const single = zstdCompressSync(input, { params: { [constants.ZSTD_c_compressionLevel]: ZSTD.level } });
    const framed = await compress(input, compressor('zstd') as ParallelZstdCompress);
    expect(zstdCli(framed).frames).toBe(4);
    expect(framed.length / single.length).toBeLessThan(1.01);
  });
});
