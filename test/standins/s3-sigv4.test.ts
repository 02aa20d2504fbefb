/**
 * The SigV4 STAND-IN (test/standins/s3-sigv4.ts: MinIO's request authentication in front of a real
 * s3rver) against the AWS SDK's own signer: the right root key passes for reads, writes and
 * kindling's multipart upload (keys with spaces and slashes, query subresources such as
 * ?uploads / ?partNumber&uploadId); a wrong secret is SignatureDoesNotMatch, an unknown access key
 * InvalidAccessKeyId (minio/minio cmd/api-errors.go), a request altered after signing is refused.
 */
import { createHash, randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Store } from '../../src/store/s3.ts';
import { tempDir } from '../harness/services.ts';
import { rootCredentialsFromEnv, type SigV4Front, startSignedS3 } from './s3-sigv4.ts';

const dir = tempDir('s3-sigv4');
const USER = 'rootuser';
const PASSWORD = `pw-${randomBytes(9).toString('hex')}`;
let s3: SigV4Front;

beforeAll(async () => {
  s3 = await startSignedS3({
    dir: join(dir, 'data'),
    env: { MINIO_ROOT_USER: USER, MINIO_ROOT_PASSWORD: PASSWORD },
  });
});
afterAll(async () => {
  await s3?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const client = (accessKeyId: string, secretAccessKey: string) =>
  new S3Client({
    endpoint: s3.url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
    maxAttempts: 1,
    requestHandler: { requestTimeout: 5000, connectionTimeout: 2000 },
  });

const codeOf = async (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } }) =>
      `${e.$metadata?.httpStatusCode} ${e.Code ?? e.name}`,
  );

describe('SigV4 stand-in (MinIO authentication in front of s3rver)', () => {
  it('reads MINIO_ROOT_USER / MINIO_ROOT_PASSWORD as MinIO does (both or neither; default minioadmin)', () => {
    expect(rootCredentialsFromEnv({ MINIO_ROOT_USER: 'a', MINIO_ROOT_PASSWORD: 'b' })).toEqual({
      user: 'a',
      password: 'b',
    });
    expect(rootCredentialsFromEnv({})).toEqual({ user: 'minioadmin', password: 'minioadmin' });
    expect(() => rootCredentialsFromEnv({ MINIO_ROOT_USER: 'a' })).toThrow(/together/);
  });

  it('the root key passes: create bucket, list, kindling multipart upload (2 parts) and a GET read back intact', async () => {
    const c = client(USER, PASSWORD);
    await c.send(new CreateBucketCommand({ Bucket: 'backups' }));
    expect((await c.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name)).toContain('backups');
    const store = new S3Store({
      endpoint: s3.url,
      region: 'us-east-1',
      accessKeyId: USER,
      secretAccessKey: PASSWORD,
      timeoutMs: 10_000,
    });
    // 9 MiB: two parts of kindling's 5 MiB PART_SIZE (CreateMultipartUpload ?uploads, UploadPart
    // ?partNumber&uploadId, CompleteMultipartUpload)
    const data = randomBytes(9 * 1024 * 1024);
    const key = 'dir one/a b+c.bin';
    const size = await store.upload(
      'backups',
      key,
      Readable.from([data.subarray(0, 5e6), data.subarray(5e6)]),
    );
    expect(size).toBe(data.length);
    const got = await c.send(new GetObjectCommand({ Bucket: 'backups', Key: key }));
    const bytes = Buffer.from(await got.Body!.transformToByteArray());
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(
      createHash('sha256').update(data).digest('hex'),
    );
    const listed = await c.send(new ListObjectsV2Command({ Bucket: 'backups', Prefix: 'dir one/' }));
    expect(listed.Contents?.map((o) => o.Key)).toEqual([key]);
    expect(s3.refused).toEqual({});
  });

  it('a wrong secret is 403 SignatureDoesNotMatch, an unknown access key 403 InvalidAccessKeyId (reads and writes)', async () => {
    const before = { ...s3.refused };
    expect(await codeOf(client(USER, `${PASSWORD}x`).send(new ListBucketsCommand({})))).toBe(
      '403 SignatureDoesNotMatch',
    );
    expect(
      await codeOf(client(USER, 'minioadmin123').send(new CreateBucketCommand({ Bucket: 'nope' }))),
    ).toBe('403 SignatureDoesNotMatch');
    expect(await codeOf(client('minioadmin', PASSWORD).send(new ListBucketsCommand({})))).toBe(
      '403 InvalidAccessKeyId',
    );
    expect(s3.refused.SignatureDoesNotMatch).toBe((before.SignatureDoesNotMatch ?? 0) + 2);
    // nothing reached s3rver: the bucket was not made
    const names = (await client(USER, PASSWORD).send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name);
    expect(names).not.toContain('nope');
  });

  it('a request altered after signing (another path, same Authorization), an unsigned one and a skewed clock are refused', async () => {
    // sign a ListObjects of "backups", then send the same headers to another bucket's path
    const signed: Record<string, string> = {};
    const c = client(USER, PASSWORD);
    c.middlewareStack.add(
      (next) => async (args) => {
        const h = (args.request as { headers: Record<string, string> }).headers;
        Object.assign(signed, h);
        return next(args);
      },
      { step: 'deserialize' },
    );
    await c.send(new ListObjectsV2Command({ Bucket: 'backups' }));
    expect(signed.authorization).toMatch(/^AWS4-HMAC-SHA256 /);
    const raw = (path: string, headers: Record<string, string>) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const r = request(`${s3.url}${path}`, { headers }, (res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        r.on('error', reject);
        r.end();
      });
    const altered = await raw('/other?list-type=2', signed);
    expect(altered.status).toBe(403);
    expect(altered.body).toMatch(/<Code>SignatureDoesNotMatch<\/Code>/);
    const anonymous = await raw('/backups?list-type=2', {});
    expect(anonymous.status).toBe(403);
    expect(anonymous.body).toMatch(/<Code>AccessDenied<\/Code>/);
    const skewed = await raw('/backups?list-type=2', { ...signed, 'x-amz-date': '20200101T000000Z' });
    expect(skewed.body).toMatch(/<Code>RequestTimeTooSkewed<\/Code>/);
  });
});
