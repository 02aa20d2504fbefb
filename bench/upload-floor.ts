/**
 * The bench's floor for (a): stdin → sha256 → kindling's own multipart upload (src/store/s3.ts,
 * same part size and queue) into one S3 object, in a plain Node process: no dump tool to run and
 * watch, no compression, no V8 or malloc settings. Fed by `pg_dumpall | zstd -3`, it measures the
 * least that storing the dump alone's output in the bench's s3rver adds to the dump alone.
 * Usage: node bench/upload-floor.ts ENDPOINT BUCKET KEY (credentials from AWS_ACCESS_KEY_ID/…).
 */
import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import { S3Store, s3Settings } from '../src/store/s3.ts';

const [endpoint, bucket, key] = process.argv.slice(2) as [string, string, string];
const store = new S3Store(s3Settings({ endpoint }));
const hash = createHash('sha256');
let bytes = 0;
const tee = new Transform({
  transform(chunk: Buffer, _enc, cb) {
    hash.update(chunk);
    bytes += chunk.length;
    cb(null, chunk);
  },
});
const stored = await store.upload(bucket, key, process.stdin.pipe(tee), { expectedBytes: () => bytes });
process.stderr.write(`stored ${stored} bytes, sha256 ${hash.digest('hex')}\n`);
