import { once } from 'node:events';
import { Transform, type TransformCallback } from 'node:stream';
import { createZstdDecompress, type ZstdDecompress } from 'node:zlib';

/**
 * Decompression of concatenated zstd frames.
 *
 * Node's zstd decompressor (24.x) stops after the first frame and silently drops the rest, but
 * kindling writes artifacts as a series of independently compressed frames (RFC 8878 allows any
 * number, plus skippable frames). So we parse just enough of the frame format to find where each
 * frame ends, and give every frame its own Node decompressor. The block contents are never
 * decoded here: that stays with zlib.
 */

const ZSTD_MAGIC = 0xfd2fb528;
const MAGIC_BYTES = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
/** Skippable frames use the 16 magic numbers 0x184D2A50..0x184D2A5F. */
const SKIPPABLE_MAGIC = 0x184d2a50;
const SKIPPABLE_BYTES = Buffer.from([0x50, 0x2a, 0x4d, 0x18]);

/**
 * Parse steps. Fixed-size fields whose value we need are collected (at most 4 bytes); everything
 * else is only counted, so memory stays constant whatever the frame size.
 */
type Step =
  | 'magic'
  | 'skippableSize'
  | 'skippable'
  | 'descriptor'
  | 'header'
  | 'blockHeader'
  | 'block'
  | 'checksum';
const FIELD_SIZE: Partial<Record<Step, number>> = {
  magic: 4,
  skippableSize: 4,
  descriptor: 1,
  blockHeader: 3,
};
const IN_ZSTD_FRAME: ReadonlySet<Step> = new Set([
  'descriptor',
  'header',
  'blockHeader',
  'block',
  'checksum',
]);
const WHERE: Record<Step, string> = {
  magic: 'in the magic number',
  skippableSize: 'in a skippable frame header',
  skippable: 'in a skippable frame',
  descriptor: 'in the frame header',
  header: 'in the frame header',
  blockHeader: 'in a block header',
  block: 'in a block',
  checksum: 'in the checksum',
};

/** Bytes of zstd frame `frame` (1-based, skippable frames count), or the end of that frame. */
export type FrameEvent = { type: 'data'; frame: number; bytes: Buffer } | { type: 'end'; frame: number };

/**
 * Finds frame boundaries in a zstd stream fed in arbitrary chunks. Pure: no I/O, no decoding.
 * The data events are views of the input chunks (the magic number is re-emitted from a constant,
 * as it may straddle two chunks); skippable frames produce no events.
 */
export class ZstdFrameSplitter {
  #frame = 0;
  #offset = 0;
  #step: Step = 'magic';
  readonly #field = Buffer.alloc(4);
  #have = 0;
  #left = 0;
  #lastBlock = false;
  #checksum = false;

  /** Number of the frame being parsed (or last parsed); 0 before the first. */
  get frame(): number {
    return this.#frame;
  }

  /** Bytes consumed so far. */
  get offset(): number {
    return this.#offset;
  }

  /** Bytes held back while collecting a field: the only input this class retains (at most 4). */
  get buffered(): number {
    return this.#have;
  }

  /** Parses one chunk; throws a `zstd:` error on anything that is not a well-formed frame sequence. */
  push(chunk: Uint8Array): FrameEvent[] {
    const events: FrameEvent[] = [];
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let run = IN_ZSTD_FRAME.has(this.#step) ? 0 : -1; // start of the frame bytes not yet emitted
    let i = 0;
    while (i < buf.length) {
      const wasIn = IN_ZSTD_FRAME.has(this.#step);
      const size = FIELD_SIZE[this.#step];
      if (size !== undefined) {
        const n = Math.min(size - this.#have, buf.length - i);
        buf.copy(this.#field, this.#have, i, i + n);
        this.#have += n;
        i += n;
        this.#offset += n;
        if (this.#have < size) break;
        this.#have = 0;
        this.#onField();
      } else {
        const n = Math.min(this.#left, buf.length - i);
        this.#left -= n;
        i += n;
        this.#offset += n;
        if (this.#left > 0) break;
        this.#onSkipped();
      }
      const isIn = IN_ZSTD_FRAME.has(this.#step);
      if (!wasIn && isIn) {
        events.push({ type: 'data', frame: this.#frame, bytes: MAGIC_BYTES });
        run = i;
      } else if (wasIn && !isIn) {
        if (i > run) events.push({ type: 'data', frame: this.#frame, bytes: buf.subarray(run, i) });
        events.push({ type: 'end', frame: this.#frame });
        run = -1;
      }
    }
    if (run >= 0 && i > run) events.push({ type: 'data', frame: this.#frame, bytes: buf.subarray(run, i) });
    return events;
  }

  /** Call at the end of input: throws unless the input ended exactly between frames. */
  finish(): void {
    if (this.#step === 'magic' && this.#have === 0) return;
    if (this.#step === 'magic' && !magicPrefix(this.#field.subarray(0, this.#have))) {
      this.#badMagic(this.#offset - this.#have, this.#field.subarray(0, this.#have));
    }
    const frame = this.#step === 'magic' ? this.#frame + 1 : this.#frame;
    throw new Error(
      `zstd: truncated: the stream ends inside frame ${frame} at byte offset ${this.#offset} (${WHERE[this.#step]})`,
    );
  }

  #onField(): void {
    const f = this.#field;
    switch (this.#step) {
      case 'magic': {
        const magic = f.readUInt32LE(0);
        if (magic === ZSTD_MAGIC) this.#step = 'descriptor';
        else if ((magic & 0xfffffff0) >>> 0 === SKIPPABLE_MAGIC) this.#step = 'skippableSize';
        else this.#badMagic(this.#offset - 4, f);
        this.#frame++;
        return;
      }
      case 'skippableSize':
        this.#skip('skippable', f.readUInt32LE(0));
        return;
      case 'descriptor': {
        // Frame_Header_Descriptor: the sizes of the optional header fields that follow it.
        const d = f[0]!;
        const fcsFlag = d >> 6;
        const singleSegment = (d & 0x20) !== 0;
        this.#checksum = (d & 0x04) !== 0;
        const windowSize = singleSegment ? 0 : 1;
        const dictSize = [0, 1, 2, 4][d & 0x03]!;
        const fcsSize = fcsFlag === 0 ? (singleSegment ? 1 : 0) : [0, 2, 4, 8][fcsFlag]!;
        this.#skip('header', windowSize + dictSize + fcsSize);
        return;
      }
      case 'blockHeader': {
        const h = f[0]! | (f[1]! << 8) | (f[2]! << 16);
        const type = (h >> 1) & 3;
        if (type === 3) {
          throw new Error(
            `zstd: corrupt data: reserved block type in frame ${this.#frame} at byte offset ${this.#offset - 3}`,
          );
        }
        this.#lastBlock = (h & 1) === 1;
        // An RLE block stores its one repeated byte; Block_Size is then the regenerated size.
        this.#skip('block', type === 1 ? 1 : h >>> 3);
        return;
      }
    }
  }

  #onSkipped(): void {
    if (this.#step === 'header') this.#step = 'blockHeader';
    else if (this.#step === 'block' && !this.#lastBlock) this.#step = 'blockHeader';
    else if (this.#step === 'block' && this.#checksum) this.#skip('checksum', 4);
    else this.#step = 'magic';
  }

  /** Passes over `n` bytes; zero-length steps (an empty raw block) complete at once. */
  #skip(step: Step, n: number): void {
    this.#step = step;
    this.#left = n;
    if (n === 0) this.#onSkipped();
  }

  #badMagic(at: number, bytes: Uint8Array): never {
    const hex = Buffer.from(bytes).toString('hex');
    const what = at === 0 ? 'the input is not zstd data' : 'data after the last frame is not a zstd frame';
    throw new Error(`zstd: ${what}: bad magic number (bytes ${hex}) at byte offset ${at}`);
  }
}

/** Whether a partial magic number could still become a zstd or skippable frame's. */
function magicPrefix(bytes: Uint8Array): boolean {
  return bytes.every(
    (b, i) => b === MAGIC_BYTES[i] || (i === 0 ? (b & 0xf0) === 0x50 : b === SKIPPABLE_BYTES[i]),
  );
}

class ZstdFramesDecompress extends Transform {
  readonly #splitter = new ZstdFrameSplitter();
  readonly #chunkSize: number | undefined;
  /** Aborts pending waits on an inner decompressor when this stream is destroyed. */
  readonly #abort = new AbortController();
  #inner: ZstdDecompress | undefined;
  #innerFrame = 0;

  constructor(chunkSize: number | undefined) {
    super();
    this.#chunkSize = chunkSize;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, cb: TransformCallback): void {
    this.#feed(chunk).then(() => cb(), cb);
  }

  override _flush(cb: TransformCallback): void {
    this.#feed(undefined).then(() => cb(), cb);
  }

  override _read(size: number): void {
    // The consumer wants more: let the paused inner decompressor produce again.
    this.#inner?.resume();
    super._read(size);
  }

  override _destroy(err: Error | null, cb: (err: Error | null) => void): void {
    this.#abort.abort();
    this.#inner?.destroy();
    cb(err);
  }

  async #feed(chunk: Buffer | undefined): Promise<void> {
    if (chunk === undefined) return this.#splitter.finish();
    for (const event of this.#splitter.push(chunk)) {
      const inner = this.#inner ?? this.#open(event.frame);
      if (event.type === 'data') {
        if (!inner.write(event.bytes)) await this.#wait(inner, 'drain');
      } else {
        // Only start the next frame once this one's output is all pushed, to keep the order.
        inner.end();
        await this.#wait(inner, 'end');
        this.#inner = undefined;
      }
    }
  }

  #open(frame: number): ZstdDecompress {
    const inner = createZstdDecompress(this.#chunkSize === undefined ? {} : { chunkSize: this.#chunkSize });
    inner.on('data', (out: Buffer) => {
      // Downstream is full: stop the inner decompressor until _read asks for more. Its input
      // then backs up too, and the write loop above waits for 'drain'.
      if (!this.push(out)) inner.pause();
    });
    // An error while no wait is pending (e.g. between two input chunks) still fails the stream.
    inner.on('error', (err) => this.destroy(innerError(frame, err)));
    this.#inner = inner;
    this.#innerFrame = frame;
    return inner;
  }

  async #wait(inner: ZstdDecompress, event: 'drain' | 'end'): Promise<void> {
    try {
      await once(inner, event, { signal: this.#abort.signal });
    } catch (err) {
      throw innerError(this.#innerFrame, err as Error);
    }
  }
}

function innerError(frame: number, err: Error): Error {
  return new Error(`zstd: frame ${frame}: ${err.message}`, { cause: err });
}

/**
 * A streaming decompressor for one or more concatenated zstd frames; skippable frames are skipped.
 * Memory stays bounded whatever the frame sizes: frames are never buffered, only passed through.
 * `chunkSize` is the output buffer size of each frame's Node decompressor. Errors are `zstd:`
 * messages; "frame N" counts every frame from 1, skippable ones included.
 */
export function createZstdFramesDecompress(options: { chunkSize?: number } = {}): Transform {
  return new ZstdFramesDecompress(options.chunkSize);
}
