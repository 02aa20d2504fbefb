import { ListBucketsCommand } from '@aws-sdk/client-s3';
import { boundedS3Client, s3Timeouts } from '../store/s3.ts';
import { unknownParams } from './params.ts';
import type { Login, Rotator, RotatorContext } from './types.ts';

/** The S3 error codes of a refused key (minio/minio cmd/api-errors.go, HTTP 403). */
const REFUSED = new Set(['SignatureDoesNotMatch', 'InvalidAccessKeyId']);

/**
 * `type: minio-root` — MinIO's root credentials: the access key (`user`, MINIO_ROOT_USER) stays,
 * the secret key (MINIO_ROOT_PASSWORD) rotates. A login is a signed ListBuckets: accepted, or
 * rejected on 403 SignatureDoesNotMatch / InvalidAccessKeyId.
 *
 * MinIO reads its root credentials only when it starts, from MINIO_ROOT_USER / MINIO_ROOT_PASSWORD
 * (minio/minio cmd/common-main.go loadRootCredentials, called at server start; docs "MinIO Server
 * → Settings → Root Credentials": changing them needs a restart), and no API changes them in a
 * running server. So `set` cannot change the service itself:
 *  - target kube (`restartCarries`): nothing to do here; the engine's publish step applies the
 *    Secret key and rolls every workload reading it — MinIO itself and its clients — so the
 *    restarted MinIO serves the new key;
 *  - target local: kindling cannot restart someone's MinIO, so it stops with what the operator must
 *    do; the pending credential is on disk already, and the next run finds it accepted, skips this
 *    step and tests, finishes and proves the old one refused (src/rotate/run.ts step 2).
 */
export const minioRootRotator: Rotator = {
  type: 'minio-root',
  params: [],
  validate: (spec) => unknownParams(spec, []),
  login: async (ctx, password) => {
    const s3 = client(ctx, password);
    try {
      await s3.send(new ListBucketsCommand({}));
      return 'accepted' as Login;
    } catch (err) {
      const code = (err as { Code?: string; name?: string }).Code ?? (err as Error).name;
      if (REFUSED.has(code)) return 'rejected';
      throw new Error(`MinIO at ${ctx.url.origin} (ListBuckets): ${code}: ${(err as Error).message}`);
    } finally {
      s3.destroy();
    }
  },
  set: async (ctx) => {
    if (ctx.restartCarries) return;
    const key = ctx.key ?? `COMPONENT/${ctx.spec.name}`;
    const file = ctx.secretsFile ?? 'the --write-secrets file';
    const env = ctx.spec.secret?.key ?? 'MINIO_ROOT_PASSWORD';
    throw new Error(
      `MinIO reads its root credentials only at start: restart the MinIO at ${ctx.url.origin} with ${env} set to the pending credential (jq -r '.credentials["${key}"].pending' ${file}), user ${ctx.user} unchanged, then run the same kindling rotate again: it finds the pending credential accepted and finishes`,
    );
  },
};

function client(ctx: RotatorContext, password: string) {
  // one attempt: a refusal is an answer, and a dead endpoint must fail within the timeout
  return boundedS3Client(
    { endpoint: ctx.url.origin, region: 'us-east-1', accessKeyId: ctx.user, secretAccessKey: password },
    s3Timeouts(ctx.timeoutMs),
    1,
  );
}
