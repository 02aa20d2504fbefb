import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { optionalString, stringList, unknownKeys } from './params.ts';
import { authFailed, type Outcome, type Probe, pass, wrong } from './types.ts';

/**
 * `type: s3` — the listed `buckets` exist (path-style S3, as MinIO serves it). Credentials are the
 * endpoint's username (access key) and password (secret key).
 */
export const s3Probe: Probe = {
  type: 's3',
  usesEndpoint: true,
  params: ['buckets', 'region'],
  validate: (check) => [
    ...unknownKeys(check, s3Probe.params),
    ...stringList(check, 'buckets', true),
    ...optionalString(check, 'region'),
  ],
  describe: (check) => `buckets ${(check.buckets as string[]).join(', ')} exist`,
  run: async (ctx): Promise<Outcome> => {
    const url = new URL(ctx.url!);
    const accessKeyId = decodeURIComponent(url.username);
    const secretAccessKey = decodeURIComponent(url.password);
    if (!accessKeyId || !secretAccessKey)
      return authFailed('this check needs an access key and secret key (URL user:password)');
    url.username = '';
    url.password = '';
    const endpoint = `${url.protocol}//${url.host}`;
    const client = new S3Client({
      endpoint,
      region: typeof ctx.check.region === 'string' ? ctx.check.region : 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId, secretAccessKey },
      maxAttempts: 1,
    });
    try {
      const res = await client.send(new ListBucketsCommand({}), {
        abortSignal: AbortSignal.any([ctx.signal, AbortSignal.timeout(Math.max(1, ctx.timeoutMs))]),
      });
      const have = (res.Buckets ?? []).map((b) => b.Name ?? '');
      const want = (ctx.check.buckets as (string | number)[]).map(String);
      const missing = want.filter((b) => !have.includes(b));
      const actual = `buckets: ${have.join(', ') || 'none'}`;
      return missing.length ? wrong(`missing bucket(s) ${missing.join(', ')}`, actual) : pass(actual);
    } finally {
      client.destroy();
    }
  },
};
