// The zstd tool as a restore's decompressor (src/backup/zstd-cli.ts), against kindling's own frames
// and Node's decompressor of them (zstd-frames.ts): the same bytes, and a bad input is an error,
// never a clean end.
import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { zstdCliAvailable, zstdCliDecompress } from '../../src/backup/zstd-cli.ts';
import { createZstdFramesDecompress } from '../../src/backup/zstd-frames.ts';
import { ParallelZstdCompress } from '../../src/backup/zstd-parallel.ts';
import { describeWithServices } from '../harness/services.ts';

async function compress(data: Buffer): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(
    Readable.from([data]),
    new ParallelZstdCompress({ level: 3, segmentBytes: 256 * 1024, workers: 2, chunkSize: 64 * 1024 }),
    new Writable({
      write(c, _e, cb) {
        out.push(c);
        cb();
      },
    }),
  );
  return Buffer.concat(out);
}

/** Runs `input` through a decompressor: the output, whether it ended cleanly, and the error. */
async function through(
  d: NodeJS.ReadWriteStream,
  input: Buffer,
): Promise<{ out: Buffer; ended: boolean; error?: Error }> {
  const out: Buffer[] = [];
  let ended = false;
  (d as unknown as Readable).on('end', () => {
    ended = true;
  });
  try {
    await pipeline(
      Readable.from([input.subarray(0, input.length >> 1), input.subarray(input.length >> 1)]),
      d,
      new Writable({
        write(c, _e, cb) {
          out.push(c);
          cb();
        },
      }),
    );
    return { out: Buffer.concat(out), ended };
  } catch (error) {
    return { out: Buffer.concat(out), ended, error: error as Error };
  }
}

/** A skippable frame (RFC 8878 §3.1.2): magic 0x184D2A5?, 4-byte size, that many bytes. */
const skippable = (n: number) => {
  const b = Buffer.alloc(8 + n, 0x41);
  b.writeUInt32LE(0x184d2a53, 0);
  b.writeUInt32LE(n, 4);
  return b;
};

describe('zstdCliAvailable', () => {
  it('is false on a PATH without zstd', () => {
    expect(zstdCliAvailable({ PATH: '/nonexistent-kindling-dir' })).toBe(false);
  });
});

describeWithServices('zstdCliDecompress (the reference zstd tool)', ['zstd-cli'], () => {
  // half text (compressible), half random: several 256 KiB frames of both kinds
  const data = Buffer.concat([Buffer.from('row,value\n'.repeat(150_000)), randomBytes(1_500_000)]);

  it('is found on this PATH', () => {
    expect(zstdCliAvailable()).toBe(true);
  });

  it("reads kindling's multi-frame output, skippable frames included, to the same bytes as Node's frame decompressor", async () => {
    const z = await compress(data);
    const withSkippable = Buffer.concat([skippable(16), z, skippable(3)]);
    const cli = await through(zstdCliDecompress(), withSkippable);
    const node = await through(createZstdFramesDecompress({ chunkSize: 64 * 1024 }), withSkippable);
    expect(cli.error).toBeUndefined();
    expect(cli.out.equals(data)).toBe(true);
    expect(node.out.equals(cli.out)).toBe(true);
  });

  it('a corrupt frame fails the stream with zstd’s message and never ends it cleanly', async () => {
    const z = await compress(data);
    // inside the first frame's compressed blocks, past its header
    for (let i = 200; i < 260; i++) z[i] = z[i]! ^ 0xff;
    const r = await through(zstdCliDecompress(), z);
    expect(r.error?.message).toMatch(/^zstd: /);
    expect(r.ended).toBe(false);
  });

  it('a truncated input fails the stream, and never ends it cleanly', async () => {
    const z = await compress(data);
    const r = await through(zstdCliDecompress(), z.subarray(0, z.length - 100));
    expect(r.error?.message).toMatch(/^zstd: /);
    expect(r.ended).toBe(false);
  });

  it('input that is not zstd at all fails the stream', async () => {
    const r = await through(zstdCliDecompress(), Buffer.from('PGDMP not compressed'.repeat(100)));
    expect(r.error?.message).toMatch(/^zstd: /);
  });

  it('a consumer that gives up stops the tool (the stream closes promptly)', async () => {
    const z = await compress(data);
    const d = zstdCliDecompress();
    const closed = new Promise((resolve) => d.once('close', resolve));
    d.write(z.subarray(0, 1000));
    d.destroy();
    await expect(closed).resolves.toBeUndefined();
  });
});
