/**
 * `type: s3-copy` — the component's buckets copied into the backup's dated prefix
 * (`PREFIX/<backup-id>/<component>/<bucket>/<key>`). When the store is on the same server, each
 * object is copied server-side (CopyObject: no bytes through the runner; objects up to 5 GiB);
 * otherwise it is streamed through. Per bucket an index artifact (key, size, ETag of every object)
 * goes through the normal pipeline, so the manifest hashes the list of what was copied.
 */
import type { Readable } from 'node:stream';
import type { BackupSpec, Component } from '../../catalog/types.ts';
import { S3Store } from '../../store/s3.ts';
import { addSecret } from '../../util/redact.ts';
import { inProgressKey, manifestKey } from '../manifest.ts';
import type { BackupSource, TargetAccess } from '../types.ts';
import { localEndpoint, stringListParam, unknownParams } from './common.ts';

async function sourceStore(
  target: TargetAccess,
  component: Component,
  spec: BackupSpec,
): Promise<{ store: S3Store; close(): Promise<void> }> {
  const ep = component.endpoints.find((e) => e.name === spec.endpoint) ?? component.endpoints[0]!;
  if (target.kind === 'local') {
    const url = localEndpoint(target, component, spec);
    const store = new S3Store({
      endpoint: url.origin,
      region: process.env.AWS_REGION || 'us-east-1',
      accessKeyId: decodeURIComponent(url.username),
      secretAccessKey: decodeURIComponent(url.password),
    });
    return { store, close: async () => {} };
  }
  const cluster = target.cluster!;
  const read = async (c: typeof ep.username) =>
    typeof c === 'string'
      ? c
      : c
        ? ((await cluster.readSecret(target.namespace, c.secret, c.key)) ?? '')
        : '';
  const accessKeyId = await read(ep.username);
  const secretAccessKey = await read(ep.password);
  addSecret(secretAccessKey);
  const fwd = await cluster.portForward(target.namespace, ep.service, ep.port);
  const store = new S3Store({
    endpoint: `http://127.0.0.1:${fwd.localPort}`,
    region: 'us-east-1',
    accessKeyId,
    secretAccessKey,
  });
  return { store, close: () => fwd.close() };
}

/**
 * Is the component's S3 server also the backup store? Asked of the server itself: it is when the
 * source connection sees `marker` (an object just written through the store). URLs cannot tell —
 * on kube the source is a port-forward, the store an ingress or a node port of the same MinIO.
 */
async function storeIsSource(src: S3Store, bucket: string, marker: string): Promise<boolean> {
  return Boolean(await src.head(bucket, marker).catch(() => undefined));
}

export const s3CopySource: BackupSource = {
  type: 's3-copy',
  validate: (spec) => [...unknownParams(spec, ['buckets']), ...stringListParam(spec, 'buckets', true)],

  async backup(ctx) {
    const src = await sourceStore(ctx.target, ctx.component, ctx.spec);
    try {
      const serverSide = await storeIsSource(
        src.store,
        ctx.location.bucket,
        inProgressKey(ctx.location, ctx.backupId),
      );
      const artifacts = [];
      const counts: Record<string, number> = {};
      for (const bucket of ctx.spec.buckets as string[]) {
        const objects = await src.store.list(bucket, '').catch((err) => {
          throw src.store.explain(err, bucket, `cannot list bucket ${bucket}`);
        });
        for (const o of objects) {
          const dest = ctx.keyFor(`${bucket}/${o.key}`);
          if (serverSide) await src.store.copy(bucket, o.key, ctx.location.bucket, dest);
          else
            await ctx.store.upload(ctx.location.bucket, dest, await src.store.getStream(bucket, o.key), {
              expectedBytes: () => o.size,
            });
        }
        counts[bucket] = objects.length;
        const index = `${objects.map((o) => JSON.stringify({ key: o.key, size: o.size, etag: o.etag })).join('\n')}\n`;
        artifacts.push(
          await ctx.artifact(`${bucket}.index.jsonl`, {
            // not waiting for 'finish': the pipeline finishes the stream only once this returned
            produce: async (stdout) => {
              stdout.end(Buffer.from(index));
              return { exitCode: 0, stderr: '' };
            },
            description: serverSide ? `CopyObject ${bucket}/* (server-side)` : `GetObject+Upload ${bucket}/*`,
            format: 'object-index',
            meta: { bucket, objects: objects.length, bytes: objects.reduce((a, o) => a + o.size, 0) },
          }),
        );
      }
      return { artifacts, meta: { objects: counts, serverSide } };
    } finally {
      await src.close();
    }
  },

  async preflightRestore(ctx) {
    const src = await sourceStore(ctx.target, ctx.component, ctx.spec);
    try {
      const problems: string[] = [];
      for (const a of ctx.record.artifacts) {
        const bucket = String(a.meta?.bucket);
        await src.store.preflight(bucket).catch((err: Error) => problems.push(err.message));
      }
      return problems;
    } finally {
      await src.close();
    }
  },

  async restore(ctx) {
    const src = await sourceStore(ctx.target, ctx.component, ctx.spec);
    try {
      const serverSide = await storeIsSource(
        src.store,
        ctx.location.bucket,
        manifestKey(ctx.location, ctx.manifest.id),
      );
      for (const a of ctx.record.artifacts) {
        const bucket = String(a.meta?.bucket);
        const lines = (await streamText(await ctx.open(a))).split('\n').filter(Boolean);
        await ctx.verified(a);
        const prefix = a.key.slice(0, a.key.length - a.name.length);
        for (const line of lines) {
          const o = JSON.parse(line) as { key: string; size: number };
          const from = `${prefix}${bucket}/${o.key}`;
          if (serverSide) await src.store.copy(ctx.location.bucket, from, bucket, o.key);
          else
            await src.store.upload(bucket, o.key, await ctx.store.getStream(ctx.location.bucket, from), {
              expectedBytes: () => o.size,
            });
        }
        ctx.log(`${bucket}: ${lines.length} object(s) restored`);
      }
      return [];
    } finally {
      await src.close();
    }
  },
};

async function streamText(s: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
