import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createZstdFramesDecompress,
  type FrameEvent,
  ZstdFrameSplitter,
} from '../../src/backup/zstd-frames.ts';
import { describeWithServices } from '../harness/services.ts';

/** Decompresses `chunks` fed one by one (as separate writes) and collects the output. */
async function decompress(chunks: Buffer[], chunkSize?: number): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(chunks, { objectMode: false }),
    createZstdFramesDecompress(chunkSize === undefined ? {} : { chunkSize }),
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        out.push(chunk);
        cb();
      },
    }),
  );
  return Buffer.concat(out);
}

const decompressError = (chunks: Buffer[]): Promise<string> =>
  decompress(chunks).then(
    () => 'no error',
    (err: Error) => err.message,
  );

/**
 * Byte equality via Buffer.equals: vitest's deep toEqual walks Buffers element by element, which
 * takes seconds per MiB. On a mismatch, report where the bytes first differ.
 */
function expectBytes(actual: Buffer | undefined, expected: Buffer | undefined): void {
  if (actual !== undefined && expected !== undefined && actual.equals(expected)) return;
  let at = 0;
  while (actual && expected && at < Math.min(actual.length, expected.length) && actual[at] === expected[at])
    at++;
  expect({ length: actual?.length, firstDifference: at }).toEqual({
    length: expected?.length,
    firstDifference: -1,
  });
}

/** Splits `data` at the given offsets (any order, duplicates allowed). */
function splitAt(data: Buffer, cuts: number[]): Buffer[] {
  const points = [0, ...cuts.map((c) => Math.min(c, data.length)).sort((a, b) => a - b), data.length];
  return points.slice(1).map((end, i) => data.subarray(points[i], end));
}

function skippable(payload: Buffer, nibble = 0): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32LE(0x184d2a50 + nibble, 0);
  header.writeUInt32LE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

const zstd = (args: string[], input?: Buffer): Buffer =>
  execFileSync('zstd', ['-q', ...args], { input, maxBuffer: 64 << 20 });

const tmp = mkdtempSync(join(tmpdir(), 'kindling-zstd-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Compresses with the zstd CLI from a file, so it knows the size (and can store it). */
function zstdFile(data: Buffer, args: string[]): Buffer {
  const file = join(tmp, 'in.bin');
  writeFileSync(file, data);
  return zstd(['-c', ...args, file]);
}

const text = Buffer.from('kindling backs up postgres, redis and kafka. '.repeat(2000));
const random = randomBytes(300_000);
const parts = {
  text,
  random,
  empty: Buffer.alloc(0),
  checksummed: Buffer.from('checksummed '.repeat(5000)),
  unsized: Buffer.from('no content size '.repeat(3000)),
};
const nodeFrames = [
  zlib.zstdCompressSync(parts.text),
  zlib.zstdCompressSync(parts.random),
  zlib.zstdCompressSync(parts.empty),
  zlib.zstdCompressSync(parts.checksummed, { params: { [zlib.constants.ZSTD_c_checksumFlag]: 1 } }),
  zlib.zstdCompressSync(parts.unsized, { params: { [zlib.constants.ZSTD_c_contentSizeFlag]: 0 } }),
];
const multi = Buffer.concat(nodeFrames);
const multiContent = Buffer.concat(Object.values(parts));

describe('ZstdFrameSplitter', () => {
  /** Bytes forwarded per frame, and the order of end events. */
  function split(chunks: Buffer[]): { frames: Map<number, Buffer>; ends: number[] } {
    const splitter = new ZstdFrameSplitter();
    const events: FrameEvent[] = chunks.flatMap((c) => splitter.push(c));
    splitter.finish();
    const frames = new Map<number, Buffer>();
    const ends: number[] = [];
    for (const e of events) {
      if (e.type === 'end') ends.push(e.frame);
      else frames.set(e.frame, Buffer.concat([frames.get(e.frame) ?? Buffer.alloc(0), e.bytes]));
    }
    return { frames, ends };
  }

  it('reports each frame exactly, skippable frames counted but not forwarded', () => {
    const input = Buffer.concat([
      nodeFrames[0]!,
      skippable(Buffer.from('meta')),
      nodeFrames[2]!,
      nodeFrames[3]!,
    ]);
    for (const chunks of [[input], splitAt(input, [1, 2, 3, 5, 9, 100, nodeFrames[0]!.length + 3])]) {
      const { frames, ends } = split(chunks);
      expect(ends).toEqual([1, 3, 4]);
      expect([...frames.keys()]).toEqual([1, 3, 4]);
      expectBytes(frames.get(1), nodeFrames[0]);
      expectBytes(frames.get(3), nodeFrames[2]);
      expectBytes(frames.get(4), nodeFrames[3]);
    }
  });

  it('holds at most 4 bytes and forwards views of the input, never copies', () => {
    const big = zlib.zstdCompressSync(randomBytes(4 << 20));
    const splitter = new ZstdFrameSplitter();
    let forwarded = 0;
    for (let at = 0; at < big.length; at += 1000) {
      const chunk = big.subarray(at, at + 1000);
      for (const e of splitter.push(chunk)) {
        if (e.type !== 'data') continue;
        forwarded += e.bytes.length;
        // Apart from the 4-byte magic number, the bytes are the caller's own memory.
        if (e.bytes.length > 4) expect(e.bytes.buffer).toBe(chunk.buffer);
      }
      expect(splitter.buffered).toBeLessThanOrEqual(4);
    }
    splitter.finish();
    expect(forwarded).toBe(big.length);
    expect(splitter.frame).toBe(1);
  });
});

describe('createZstdFramesDecompress', () => {
  it('round-trips one frame', async () => {
    expectBytes(await decompress([zlib.zstdCompressSync(text)]), text);
  });

  it('round-trips several concatenated frames byte-exactly, which zlib alone does not', async () => {
    expectBytes(await decompress([multi]), multiContent);
    // Node's own decompressor stops after the first frame without any error: the reason this
    // module exists. If this starts failing, Node has fixed it.
    expectBytes(zlib.zstdDecompressSync(multi), parts.text);
    expect(
      zlib
        .zstdDecompressSync(Buffer.concat([zlib.zstdCompressSync('a'), zlib.zstdCompressSync('b')]))
        .toString(),
    ).toBe('a');
  });

  it('decodes empty input as empty output', async () => {
    expectBytes(await decompress([]), Buffer.alloc(0));
    expectBytes(await decompress([Buffer.alloc(0)]), Buffer.alloc(0));
    // An empty-content frame ends in a 0-byte raw block: complete without any further byte.
    expectBytes(await decompress([zlib.zstdCompressSync(Buffer.alloc(0))]), Buffer.alloc(0));
  });

  it('honours chunkSize for the output buffers', async () => {
    const out: Buffer[] = [];
    const stream = createZstdFramesDecompress({ chunkSize: 1024 });
    stream.on('data', (c: Buffer) => out.push(c));
    stream.end(multi);
    await new Promise((resolve) => stream.on('end', resolve));
    expectBytes(Buffer.concat(out), multiContent);
    expect(Math.max(...out.map((c) => c.length))).toBeLessThanOrEqual(1024);
  });

  it('gives identical output however the input is chunked', async () => {
    const input = Buffer.concat([
      skippable(Buffer.from('x')),
      nodeFrames[0]!,
      nodeFrames[2]!,
      nodeFrames[3]!,
    ]);
    const expected = Buffer.concat([parts.text, parts.empty, parts.checksummed]);
    expectBytes(await decompress(splitAt(input, [...input.keys()])), expected); // 1-byte chunks
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat({ max: input.length }), { maxLength: 40 }), async (cuts) => {
        expectBytes(await decompress(splitAt(input, cuts)), expected);
      }),
      { numRuns: 150 },
    );
  });
});

describeWithServices('interop with the zstd CLI', ['zstd-cli'], () => {
  const rle = Buffer.alloc(1 << 20, 0x41);

  it('parses every frame header layout: dictionary IDs, window descriptor, 8-byte content size', async () => {
    const payload = Buffer.from('hand-made');
    // A last raw block: header (bit 0 Last_Block, Block_Type 0, Block_Size) then the bytes.
    const h = 1 | (payload.length << 3);
    const block = [h & 0xff, (h >> 8) & 0xff, h >> 16, ...payload];
    const magic = [0x28, 0xb5, 0x2f, 0xfd];
    const n = payload.length;
    // A Dictionary_ID of 0 means "no dictionary", so Node can decode these without one.
    const headers = [
      [0x21, 0, n], // single segment, 1-byte dictionary ID, 1-byte content size
      [0x22, 0, 0, n], // 2-byte dictionary ID
      [0x23, 0, 0, 0, 0, n], // 4-byte dictionary ID
      [0x00, 0x00], // window descriptor, no content size
      [0xc0, 0x00, n, 0, 0, 0, 0, 0, 0, 0], // window descriptor, 8-byte content size
      [0xa3, 0, 0, 0, 0, n, 0, 0, 0], // single segment, 4-byte dictionary ID, 4-byte content size
    ];
    const input = Buffer.concat(headers.map((header) => Buffer.from([...magic, ...header, ...block])));
    const expected = Buffer.concat(headers.map(() => payload));
    expectBytes(zstd(['-dc'], input), expected); // the hand-made frames are valid
    expectBytes(await decompress([input]), expected);
    expectBytes(await decompress(splitAt(input, [...input.keys()])), expected);
  });

  it('skips skippable frames before, between and after frames', async () => {
    const input = Buffer.concat([
      skippable(Buffer.from('index v1')),
      nodeFrames[0]!,
      skippable(Buffer.alloc(0), 0xf),
      skippable(randomBytes(70_000), 7),
      nodeFrames[1]!,
      skippable(Buffer.from('trailer'), 3),
    ]);
    const expected = Buffer.concat([parts.text, parts.random]);
    expectBytes(await decompress([input]), expected);
    // The zstd CLI agrees these are valid skippable frames.
    expectBytes(zstd(['-dc'], input), expected);
  });

  it('decodes concatenated `zstd -c` outputs', async () => {
    const a = Buffer.from('first input\n'.repeat(10_000));
    const b = randomBytes(200_000);
    const input = Buffer.concat([zstd(['-c'], a), zstd(['-c'], b)]);
    expectBytes(await decompress([input]), Buffer.concat([a, b]));
  });

  it.each([
    ['--content-size', ['--content-size']],
    ['--no-content-size', ['--no-content-size']],
    ['--no-check', ['--no-check']],
    ['-19 --check', ['-19', '--check']],
  ])('decodes a file made with %s, RLE blocks included', async (_name, args) => {
    const rleFrame = zstdFile(rle, args);
    // Header of an RLE block (type 1) regenerating 128 KiB, then its byte: the CLI used RLE blocks.
    expect(rleFrame.includes(Buffer.from([0x02, 0x00, 0x10, 0x41]))).toBe(true);
    const input = Buffer.concat([zstdFile(text, args), rleFrame, zstdFile(random, args)]);
    const ours = await decompress(splitAt(input, [7, 5000, 40_000]));
    expectBytes(ours, Buffer.concat([text, rle, random]));
    expectBytes(ours, zstd(['-dc'], input));
  });

  it('produces what `zstd -dc` produces for Node-made multi-frame data', async () => {
    expectBytes(await decompress([multi]), zstd(['-dc'], multi));
  });
});

describe('errors', () => {
  const frame = nodeFrames[0]!;
  // Header: magic (4), descriptor (1), 2-byte content size; first block header at 7..9.
  const checksummed = nodeFrames[3]!;

  it('rejects input that is not zstd, naming the offset', async () => {
    expect(await decompressError([Buffer.from('PGDMP custom dump')])).toBe(
      'zstd: the input is not zstd data: bad magic number (bytes 5047444d) at byte offset 0',
    );
    expect(await decompressError([Buffer.concat([frame, Buffer.from('garbage')])])).toBe(
      `zstd: data after the last frame is not a zstd frame: bad magic number (bytes 67617262) at byte offset ${frame.length}`,
    );
  });

  it('rejects a reserved block type', async () => {
    // Magic, descriptor (single segment, 1-byte content size), content size 5, then a block
    // header with Block_Type 3.
    const magic = [0x28, 0xb5, 0x2f, 0xfd];
    const reserved = Buffer.from([...magic, 0x20, 0x05, 0x07 | (5 << 3), 0x00, 0x00, 1, 2, 3, 4, 5]);
    expect(await decompressError([frame, reserved])).toBe(
      `zstd: corrupt data: reserved block type in frame 2 at byte offset ${frame.length + 6}`,
    );
  });

  it.each([
    ['in the magic number', frame.length + 2, 2],
    ['in the frame header', frame.length + 5, 2],
    ['in a block header', frame.length + 8, 2],
    ['in a block', frame.length + 20, 2],
    ['in the checksum', frame.length + checksummed.length - 2, 2],
  ])('reports input that ends %s', async (where, cut, frameNo) => {
    const input = Buffer.concat([frame, checksummed]).subarray(0, cut);
    const expected = `zstd: truncated: the stream ends inside frame ${frameNo} at byte offset ${cut} (${where})`;
    expect(await decompressError([input])).toBe(expected);
    expect(await decompressError(splitAt(input, [3, frame.length + 1]))).toBe(expected);
  });

  it('reports truncation inside a skippable frame', async () => {
    const input = Buffer.concat([frame, skippable(Buffer.alloc(100))]).subarray(0, frame.length + 50);
    expect(await decompressError([input])).toBe(
      `zstd: truncated: the stream ends inside frame 2 at byte offset ${frame.length + 50} (in a skippable frame)`,
    );
  });

  it('reports corrupt block content with the frame number', async () => {
    const corrupt = Buffer.from(zlib.zstdCompressSync('corrupt me '.repeat(1000)));
    expect(corrupt[4]).toBe(0x60); // 2-byte content size: the one block's header is at 7..9
    corrupt.fill(0, 10);
    expect(await decompressError([frame, skippable(Buffer.from('x')), corrupt])).toBe(
      'zstd: frame 3: Data corruption detected',
    );
    const badChecksum = Buffer.from(checksummed);
    badChecksum[badChecksum.length - 1]! ^= 0xff;
    expect(await decompressError([badChecksum])).toBe("zstd: frame 1: Restored data doesn't match checksum");
  });
});

describe('streaming', () => {
  it('starts output long before a large frame has been read, in small chunks', async () => {
    const data = randomBytes(8 << 20); // incompressible, so the frame is 8 MiB too
    const compressed = zlib.zstdCompressSync(data);
    expect(compressed.length).toBeGreaterThan(8 << 20);
    let read = 0;
    let readAtFirstOutput = -1;
    const out: Buffer[] = [];
    await pipeline(
      Readable.from(
        (function* () {
          for (let at = 0; at < compressed.length; at += 16 * 1024) {
            read = Math.min(at + 16 * 1024, compressed.length);
            yield compressed.subarray(at, read);
          }
        })(),
        { objectMode: false },
      ),
      createZstdFramesDecompress({ chunkSize: 16 * 1024 }),
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          if (readAtFirstOutput < 0) readAtFirstOutput = read;
          out.push(chunk);
          cb();
        },
      }),
    );
    expectBytes(Buffer.concat(out), data);
    expect(readAtFirstOutput).toBeGreaterThan(0);
    expect(readAtFirstOutput).toBeLessThan(1 << 20);
  });

  it('stops decompressing while the consumer does not read', async () => {
    // 64 MiB of zeros is a tiny frame: without backpressure it would all land in memory at once.
    const stream = createZstdFramesDecompress();
    stream.end(zlib.zstdCompressSync(Buffer.alloc(64 << 20)));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(stream.readableLength).toBeLessThanOrEqual(256 * 1024);
    let total = 0;
    for await (const chunk of stream) total += (chunk as Buffer).length;
    expect(total).toBe(64 << 20);
  });

  it('tears down cleanly when the consumer fails mid-stream', async () => {
    const failing = new Writable({
      write(_chunk, _enc, cb) {
        cb(new Error('disk full'));
      },
    });
    await expect(
      pipeline(Readable.from([multi], { objectMode: false }), createZstdFramesDecompress(), failing),
    ).rejects.toThrow('disk full');
  });
});
