/**
 * Streams a body of unknown length into one S3 object with a bounded, reused set of part buffers.
 *
 * Why not lib-storage's `Upload`: it collects the stream's chunks and `Buffer.concat`s every part
 * into a freshly allocated buffer (a second copy of the data, 16 MiB of new memory per part, and
 * the last chunk's slice pins the previous part). At hundreds of MB that was a third of the
 * process's CPU (copies, page faults, GC) and the memory peak. Here each byte is copied once, into
 * one of `queueSize + 1` buffers that are reused as parts finish: memory is fixed at
 * `(queueSize + 1) × partSize`, whatever the size of the dump.
 *
 * Same contract as `Upload` with `leavePartsOnError: false`: a body that fits one part is a single
 * PutObject; any failure (body error, part error, abort) aborts the multipart upload and rethrows
 * the first error (with the abort's own failure as its `cause`). Parts are equal-sized except the
 * last (R2 requires it).
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';

export interface MultipartOptions {
  bucket: string;
  key: string;
  body: AsyncIterable<Uint8Array>;
  partSize: number;
  /** Parts uploading at once; one more buffer is filled meanwhile. */
  queueSize: number;
  contentType?: string;
  signal?: AbortSignal;
  /** Request timeout of each part upload (the client's own applies to the other calls). */
  partTimeoutMs?: number;
}

export async function multipartUpload(client: S3Client, o: MultipartOptions): Promise<void> {
  const { bucket: Bucket, key: Key } = o;
  const abort = new AbortController();
  const onAbort = () => abort.abort(o.signal?.reason);
  o.signal?.addEventListener('abort', onAbort, { once: true });
  const free: Buffer[] = [];
  const inFlight = new Set<Promise<void>>();
  const done: { PartNumber: number; ETag: string }[] = [];
  let uploadId: string | undefined;
  let partNumber = 0;
  let failed: unknown;
  let current: Buffer | undefined;
  let filled = 0;

  const check = () => {
    if (failed) throw failed;
    if (abort.signal.aborted) throw abort.signal.reason ?? new Error('upload aborted');
  };

  const sendPart = async (buf: Buffer, length: number) => {
    while (inFlight.size >= o.queueSize) await Promise.race(inFlight);
    check();
    uploadId ??= (
      await client.send(new CreateMultipartUploadCommand({ Bucket, Key, ContentType: o.contentType }), {
        abortSignal: abort.signal,
      })
    ).UploadId;
    const PartNumber = ++partNumber;
    const sent: Promise<void> = client
      .send(
        new UploadPartCommand({
          Bucket,
          Key,
          UploadId: uploadId,
          PartNumber,
          Body: buf.subarray(0, length),
          ContentLength: length,
        }),
        { abortSignal: abort.signal, requestTimeout: o.partTimeoutMs },
      )
      .then((r) => {
        if (!r.ETag) throw new Error(`part ${PartNumber} of ${Key}: the server returned no ETag`);
        done.push({ PartNumber, ETag: r.ETag });
        free.push(buf);
      })
      .catch((err: unknown) => {
        failed ??= err;
        abort.abort(err);
      })
      .finally(() => inFlight.delete(sent));
    inFlight.add(sent);
  };

  try {
    for await (const chunk of o.body) {
      for (let offset = 0; offset < chunk.length; ) {
        check();
        current ??= free.pop() ?? Buffer.allocUnsafeSlow(o.partSize);
        const n = Math.min(o.partSize - filled, chunk.length - offset);
        current.set(chunk.subarray(offset, offset + n), filled);
        filled += n;
        offset += n;
        if (filled === o.partSize) {
          const full = current;
          current = undefined;
          filled = 0;
          await sendPart(full, o.partSize);
        }
      }
    }
    check();
    if (partNumber === 0) {
      // fits one part: a plain PutObject with a buffer body
      const Body = current ? current.subarray(0, filled) : Buffer.alloc(0);
      await client.send(
        new PutObjectCommand({ Bucket, Key, Body, ContentLength: filled, ContentType: o.contentType }),
        { abortSignal: abort.signal, requestTimeout: o.partTimeoutMs },
      );
      return;
    }
    if (filled > 0) await sendPart(current!, filled);
    await Promise.all(inFlight);
    check();
    done.sort((a, b) => a.PartNumber - b.PartNumber);
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key,
        UploadId: uploadId,
        MultipartUpload: { Parts: done },
      }),
      { abortSignal: abort.signal },
    );
  } catch (err) {
    const first = failed ?? err;
    abort.abort(first);
    await Promise.allSettled(inFlight);
    if (uploadId)
      await client
        .send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId: uploadId }))
        .catch((abortError: unknown) => {
          if (first instanceof Error && first.cause === undefined) first.cause = abortError;
        });
    throw first;
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
  }
}
