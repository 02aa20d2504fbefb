import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CopyObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { durationFromEnv, formatDuration } from '../util/duration.ts';
import { FailedError, UsageError } from '../util/errors.ts';
import { addSecret, redactUrl } from '../util/redact.ts';
import { multipartUpload } from './multipart.ts';

/** How to reach one S3 server. The secret is registered with redact() as soon as it is read. */
export interface S3Settings {
  /** Any S3: MinIO, R2, s3rver… Undefined means AWS itself. */
  endpoint?: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** How long one S3 request may wait for an answer (see `s3Timeouts`); default `KINDLING_S3_TIMEOUT` or 20s. */
  timeoutMs?: number;
}

/**
 * Every S3 call is bounded, with the SDK's own mechanisms (smithy-lang/smithy-typescript
 * `packages/node-http-handler`, read at @smithy/node-http-handler 4.14):
 * - `connectionTimeout` (`set-connection-timeout.ts`): the TCP/TLS connect;
 * - `requestTimeout` with `throwOnRequestTimeout: true` (`set-request-timeout.ts`): from sending
 *   the request to the response headers — without the flag a breach is only logged as a warning;
 * - `socketTimeout` (`set-socket-timeout.ts`): any silence on the socket, which also bounds a
 *   response body (a GetObject stream) that stalls after its headers.
 * A part upload (5 MiB) or a server-side copy gets a longer request timeout than a small call.
 * Timeouts are `TimeoutError`s, which the standard retry strategy treats as transient, like
 * HTTP 500/502/503/504 and throttling codes such as SlowDown (`service-error-classification`
 * constants): each call is tried `S3_MAX_ATTEMPTS` times with exponential back-off and jitter
 * (100 ms base, `util-retry` constants). A silent store therefore fails one call after about
 * `S3_MAX_ATTEMPTS × timeout`.
 */
export interface S3Timeouts {
  connectMs: number;
  requestMs: number;
  idleMs: number;
  partMs: number;
}
export const DEFAULT_S3_TIMEOUT_MS = 20_000;
export const S3_MAX_ATTEMPTS = 3;

export function s3Timeouts(timeoutMs: number): S3Timeouts {
  return {
    connectMs: Math.min(timeoutMs, 10_000),
    requestMs: timeoutMs,
    idleMs: timeoutMs,
    partMs: 4 * timeoutMs,
  };
}

/** `KINDLING_S3_TIMEOUT` (a duration such as `30s`), else the default; a bad value is a usage error. */
export function s3TimeoutFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  return durationFromEnv(env, 'KINDLING_S3_TIMEOUT', DEFAULT_S3_TIMEOUT_MS, 100);
}

/**
 * Multipart sizing: memory is (QUEUE_SIZE + 1) × PART_SIZE per upload, fixed and reused
 * (src/store/multipart.ts): 10 MiB. 5 MiB is S3's smallest part (all but the last; at most 10,000
 * parts: AWS docs "Amazon S3 multipart upload limits"), so ~48 GiB per artifact — far above a
 * compressed dump of this stack. Against 8 MiB parts (issue #15, the bench's 414 MB backup into
 * s3rver, 4 alternating runs, with 2 MiB zstd segments): peak RSS 156–158 against 164–169 MiB,
 * wall 2.3–2.6 s against 2.4–2.5 s; 16 MiB parts had measured no faster and cost 24 MiB more.
 * One part in flight while the next fills: a compressed dump fills a part more slowly than a store
 * takes one, and a second part in flight was no faster (2.5–3.2 s against 2.4–3.4 s, 8 MiB parts).
 */
export const PART_SIZE = 5 * 1024 * 1024;
export const QUEUE_SIZE = 1;

/**
 * S3 settings from explicit values (action inputs) falling back to the standard AWS environment
 * variables. Missing credentials are a usage error naming both sources.
 */
export function s3Settings(
  given: Partial<S3Settings> & { endpoint?: string },
  env: NodeJS.ProcessEnv = process.env,
): S3Settings {
  const accessKeyId = given.accessKeyId || env.AWS_ACCESS_KEY_ID || '';
  const secretAccessKey = given.secretAccessKey || env.AWS_SECRET_ACCESS_KEY || '';
  if (!accessKeyId || !secretAccessKey)
    throw new UsageError(
      'no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or the action inputs access-key-id and secret-access-key)',
    );
  addSecret(secretAccessKey);
  const sessionToken = given.sessionToken || env.AWS_SESSION_TOKEN || undefined;
  addSecret(sessionToken);
  if (given.endpoint) {
    try {
      new URL(given.endpoint);
    } catch {
      throw new UsageError(`--s3-endpoint "${given.endpoint}" is not a URL`);
    }
  }
  return {
    endpoint: given.endpoint || undefined,
    region: given.region || env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
    accessKeyId,
    secretAccessKey,
    sessionToken,
    timeoutMs: given.timeoutMs ?? s3TimeoutFromEnv(env),
  };
}

export interface ObjectInfo {
  key: string;
  size: number;
  lastModified: Date;
  etag?: string;
}

/**
 * An S3 client every call of which is bounded (connect, request, idle socket) and retried at most
 * `maxAttempts` times: the store's, and a credential check's (one attempt: a refusal is an answer).
 */
export function boundedS3Client(
  s: Pick<S3Settings, 'endpoint' | 'region' | 'accessKeyId' | 'secretAccessKey' | 'sessionToken'>,
  t: S3Timeouts,
  maxAttempts: number,
): S3Client {
  return new S3Client({
    endpoint: s.endpoint,
    region: s.region,
    forcePathStyle: true,
    credentials: {
      accessKeyId: s.accessKeyId,
      secretAccessKey: s.secretAccessKey,
      sessionToken: s.sessionToken,
    },
    // MinIO, R2 and test servers differ on the SDK's default CRC32 trailers; only send checksums S3 requires.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts,
    retryMode: 'standard',
    requestHandler: {
      connectionTimeout: t.connectMs,
      requestTimeout: t.requestMs,
      throwOnRequestTimeout: true,
      socketTimeout: t.idleMs,
    },
  });
}

/** The only code in kindling that moves data over S3. Errors name the endpoint and bucket. */
export class S3Store {
  readonly client: S3Client;
  readonly settings: S3Settings;
  readonly timeouts: S3Timeouts;

  constructor(settings: S3Settings) {
    this.settings = settings;
    this.timeouts = s3Timeouts(settings.timeoutMs ?? s3TimeoutFromEnv());
    this.client = boundedS3Client(settings, this.timeouts, S3_MAX_ATTEMPTS);
  }

  /** `http://host:port` or `AWS S3 (region)`, for messages (never with credentials). */
  get where(): string {
    const e = this.settings.endpoint;
    return e ? (e.includes('@') ? redactUrl(e) : e) : `AWS S3 (${this.settings.region})`;
  }

  /** Same server as another store? (Server-side copy works only within one server.) */
  sameServerAs(other: S3Store): boolean {
    const origin = (s: S3Store) => (s.settings.endpoint ? new URL(s.settings.endpoint).origin : 'aws');
    return origin(this) === origin(other);
  }

  /**
   * Fails fast, naming endpoint and bucket, when the store is unreachable, the credentials are
   * rejected or the bucket is missing. Uses a GET (ListObjectsV2) so S3's error code is readable.
   */
  async preflight(bucket: string, prefix = ''): Promise<void> {
    try {
      // a prefix that holds nothing: the answer is small and never truncated
      const probe = `${prefix ? `${prefix}/` : ''}.kindling-preflight/`;
      await this.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: probe, MaxKeys: 1 }));
    } catch (err) {
      throw this.explain(err, bucket, 'cannot use the backup store');
    }
  }

  /** Turns an SDK error into a kindling error naming endpoint and bucket (config problems exit 2). */
  explain(err: unknown, bucket: string, what: string): Error {
    if (err instanceof FailedError || err instanceof UsageError) return err; // explained already
    const code = errorCode(err);
    const at = `${this.where}, bucket "${bucket}"`;
    if (code === 'NoSuchBucket')
      return new UsageError(`${what}: bucket "${bucket}" does not exist at ${this.where}`);
    if (['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'InvalidToken', 'ExpiredToken'].includes(code))
      return new UsageError(
        `${what}: ${at} rejected the credentials (${code}); check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY`,
      );
    if (code === 'AccessDenied')
      return new UsageError(
        `${what}: ${at} denied access (AccessDenied); the credentials lack permission on this bucket`,
      );
    const detail = err instanceof Error ? err.message : String(err);
    if (code === 'TimeoutError') {
      const attempts = (err as { $metadata?: { attempts?: number } }).$metadata?.attempts;
      return new FailedError(
        `${what}: ${at} did not answer within ${formatDuration(this.timeouts.requestMs)}${attempts ? ` (${attempts} attempt${attempts > 1 ? 's' : ''})` : ''}; set KINDLING_S3_TIMEOUT to wait longer (${detail})`,
      );
    }
    return new FailedError(`${what}: ${at}: ${code ? `${code}: ` : ''}${detail}`);
  }

  /**
   * Streams `body` into `bucket/key` (multipart, aborted on failure; one PutObject when it fits
   * one part), then checks the stored size with HeadObject. Returns the stored size.
   */
  async upload(
    bucket: string,
    key: string,
    body: Readable,
    opts: { contentType?: string; expectedBytes?: () => number; signal?: AbortSignal } = {},
  ): Promise<number> {
    await multipartUpload(this.client, {
      bucket,
      key,
      body,
      partSize: PART_SIZE,
      queueSize: QUEUE_SIZE,
      partTimeoutMs: this.timeouts.partMs,
      contentType: opts.contentType,
      signal: opts.signal,
    });
    const head = await this.head(bucket, key);
    if (!head)
      throw new FailedError(`uploaded ${key} to ${this.where}, bucket "${bucket}", but it is not there`);
    const expected = opts.expectedBytes?.();
    if (expected !== undefined && head.size !== expected)
      throw new FailedError(
        `stored ${key} is ${head.size} bytes at ${this.where}, bucket "${bucket}", but ${expected} were sent`,
      );
    return head.size;
  }

  /** Runs one SDK call; its error names the endpoint and bucket (see `explain`). */
  private async call<T>(bucket: string, what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.explain(err, bucket, what);
    }
  }

  /** Small objects (the manifest): one PutObject with a Buffer body. */
  async putText(bucket: string, key: string, text: string, contentType = 'application/json'): Promise<void> {
    const body = Buffer.from(text, 'utf8');
    await this.call(bucket, `cannot write ${key}`, () =>
      this.client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: body,
          ContentType: contentType,
          ContentLength: body.length,
        }),
      ),
    );
    const head = await this.head(bucket, key);
    if (head?.size !== body.length)
      throw new FailedError(
        `wrote ${key} to ${this.where}, bucket "${bucket}", but it reads back as ${head?.size ?? 'missing'}`,
      );
  }

  async head(bucket: string, key: string): Promise<ObjectInfo | undefined> {
    try {
      const r = await this.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return { key, size: r.ContentLength ?? 0, lastModified: r.LastModified ?? new Date(0), etag: r.ETag };
    } catch (err) {
      if (errorCode(err) === 'NotFound' || errorCode(err) === 'NoSuchKey') return undefined;
      throw this.explain(err, bucket, `cannot read ${key}`);
    }
  }

  async getStream(bucket: string, key: string): Promise<Readable> {
    const r = await this.call(bucket, `cannot read ${key}`, () =>
      this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key })),
    );
    return r.Body as Readable;
  }

  async getText(bucket: string, key: string): Promise<string | undefined> {
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return await r.Body!.transformToString('utf8');
    } catch (err) {
      if (errorCode(err) === 'NoSuchKey' || errorCode(err) === 'NotFound') return undefined;
      throw this.explain(err, bucket, `cannot read ${key}`);
    }
  }

  /** Every object under a prefix (paged). */
  async list(bucket: string, prefix: string): Promise<ObjectInfo[]> {
    const out: ObjectInfo[] = [];
    let token: string | undefined;
    do {
      const r = await this.call(bucket, `cannot list ${prefix || 'the bucket'}`, () =>
        this.client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
        ),
      );
      for (const o of r.Contents ?? [])
        out.push({
          key: o.Key!,
          size: o.Size ?? 0,
          lastModified: o.LastModified ?? new Date(0),
          etag: o.ETag,
        });
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  /** Deletes keys in batches of 1000. */
  async deleteKeys(bucket: string, keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      const r = await this.call(bucket, `cannot delete ${batch.length} object(s)`, () =>
        this.client.send(
          new DeleteObjectsCommand({
            Bucket: bucket,
            Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
          }),
        ),
      );
      if (r.Errors?.length)
        throw new FailedError(
          `could not delete ${r.Errors.length} object(s) at ${this.where}, bucket "${bucket}"`,
          r.Errors.map((e) => `${e.Key}: ${e.Code} ${e.Message ?? ''}`),
        );
    }
  }

  /** Server-side copy (both objects on this server; objects up to 5 GiB). */
  async copy(srcBucket: string, srcKey: string, dstBucket: string, dstKey: string): Promise<void> {
    // a copy of up to 5 GiB may take the server a while before it answers: the part timeout
    await this.call(dstBucket, `cannot copy ${srcBucket}/${srcKey} to ${dstKey}`, () =>
      this.client.send(
        new CopyObjectCommand({
          Bucket: dstBucket,
          Key: dstKey,
          CopySource: `${srcBucket}/${srcKey.split('/').map(encodeURIComponent).join('/')}`,
        }),
        { requestTimeout: this.timeouts.partMs },
      ),
    );
  }

  /**
   * Aborts multipart uploads under `prefix` started before `before` (abandoned uploads cost
   * storage). Returns how many were aborted, or `unsupported` when the server cannot list them.
   */
  async abortStaleUploads(bucket: string, prefix: string, before: Date): Promise<number | 'unsupported'> {
    let aborted = 0;
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    try {
      do {
        const r = await this.client.send(
          new ListMultipartUploadsCommand({
            Bucket: bucket,
            Prefix: prefix,
            KeyMarker: keyMarker,
            UploadIdMarker: uploadIdMarker,
          }),
        );
        for (const u of r.Uploads ?? []) {
          if (u.Initiated && u.Initiated < before) {
            await this.client.send(
              new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key!, UploadId: u.UploadId! }),
            );
            aborted++;
          }
        }
        keyMarker = r.IsTruncated ? r.NextKeyMarker : undefined;
        uploadIdMarker = r.IsTruncated ? r.NextUploadIdMarker : undefined;
      } while (keyMarker);
    } catch (err) {
      if (errorCode(err) === 'NotImplemented') return 'unsupported';
      throw this.explain(err, bucket, 'cannot list or abort stale multipart uploads');
    }
    return aborted;
  }
}

/** S3's error code (`NoSuchBucket`, `InvalidAccessKeyId`…) or the SDK error name. */
export function errorCode(err: unknown): string {
  if (err instanceof S3ServiceException) return (err as { Code?: string }).Code ?? err.name;
  if (err && typeof err === 'object' && 'name' in err) return String((err as { name: unknown }).name);
  return '';
}
