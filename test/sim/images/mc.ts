/**
 * Simulation (test infrastructure): the MinIO client `mc` of the minio/mc image, for the commands
 * the stack's scripts use (minio/mc `cmd/alias-set.go`, `cmd/mb-main.go`, `cmd/ls-main.go`):
 * `mc alias set NAME URL KEY SECRET` (probes the server; the alias is saved in $MC_CONFIG_DIR/config.json),
 * `mc mb [--ignore-existing] NAME/BUCKET`, `mc ls NAME`. It speaks S3 to the server like mc does.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';

interface Alias {
  url: string;
  accessKey: string;
  secretKey: string;
}
const dir = process.env.MC_CONFIG_DIR ?? join(process.env.HOME ?? '/root', '.mc');
const file = join(dir, 'config.json');

function load(): Record<string, Alias> {
  try {
    return JSON.parse(readFileSync(file, 'utf8')).aliases ?? {};
  } catch {
    return {};
  }
}

const client = (a: Alias) =>
  new S3Client({
    endpoint: a.url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: a.accessKey, secretAccessKey: a.secretKey },
    requestHandler: { requestTimeout: 3000, connectionTimeout: 2000 } as never,
    maxAttempts: 1,
  });

function fail(message: string): never {
  console.error(`mc: <ERROR> ${message}`);
  process.exit(1);
}

async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  if (cmd === 'alias' && rest[0] === 'set') {
    const [, name, url, accessKey, secretKey] = rest;
    if (!name || !url || !accessKey || !secretKey)
      fail('Incorrect number of arguments for alias set command.');
    const alias = { url, accessKey, secretKey };
    try {
      await client(alias).send(new ListBucketsCommand({}));
    } catch (err) {
      fail(`Unable to initialize new alias from the provided credentials. ${(err as Error).message}`);
    }
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      file,
      JSON.stringify({
        version: '10',
        aliases: { ...load(), [name]: { ...alias, api: 's3v4', path: 'auto' } },
      }),
    );
    console.log(`Added \`${name}\` successfully.`);
    return;
  }
  const target = rest.filter((a) => !a.startsWith('--'));
  const [aliasName, bucket] = (target[0] ?? '').split('/');
  const alias = load()[aliasName ?? ''];
  if (!alias) fail(`Unable to find alias \`${aliasName}\`.`);
  const s3 = client(alias);
  if (cmd === 'mb') {
    if (!bucket) fail('Invalid bucket name.');
    const existing = (await s3.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name) ?? [];
    if (existing.includes(bucket)) {
      if (rest.includes('--ignore-existing') || rest.includes('-p')) {
        console.log(`Bucket created successfully \`${aliasName}/${bucket}\`.`);
        return;
      }
      fail(
        `Unable to make bucket \`${aliasName}/${bucket}\`. Your previous request to create the named bucket succeeded and you already own it.`,
      );
    }
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    console.log(`Bucket created successfully \`${aliasName}/${bucket}\`.`);
    return;
  }
  if (cmd === 'ls') {
    for (const b of (await s3.send(new ListBucketsCommand({}))).Buckets ?? [])
      console.log(`[${b.CreationDate?.toISOString()}]     0B ${b.Name}/`);
    return;
  }
  fail(`'${cmd}' is not a mc command (simulated mc knows alias set, mb, ls).`);
}

main(process.argv.slice(2)).catch((err) => fail((err as Error).message));
