/**
 * `type: elasticsearch-snapshot` — Elasticsearch's own snapshot API into an S3 repository on the
 * stack's MinIO. Elasticsearch writes the data into the bucket itself; kindling registers the
 * repository, takes the snapshot and waits for it, checks it, and stores a small descriptor
 * (snapshot name, indices, per-index document counts) through the normal pipeline so the manifest
 * hashes it. Endpoints (REST spec `rest-api-spec/api/snapshot.*.json`, elastic/elasticsearch):
 * `PUT _snapshot/<repo>?verify=true` (snapshot.create_repository), `PUT _snapshot/<repo>/<snap>
 * ?wait_for_completion=true` (snapshot.create: answers `{"snapshot":{…,"state":"SUCCESS",
 * "shards":{…}}}`), `GET _snapshot/<repo>/<snap>` (snapshot.get), `POST _snapshot/<repo>/<snap>
 * /_restore?wait_for_completion=true` with `rename_pattern`/`rename_replacement` (snapshot.restore).
 *
 * The S3 client (`client:`) is a node setting, not an API one: `s3.client.NAME.endpoint`,
 * `protocol`, `path_style_access` (env settings in manifests/base/elasticsearch.yaml) and the keys
 * in the keystore, written by that StatefulSet's init container (docs:
 * "S3 repository", repository-s3.html). The repository names only bucket, client and base path.
 */
import type { BackupSpec, Component } from '../../catalog/types.ts';
import type { BackupSource, Fingerprint, ParamProblem, RestoreContext, TargetAccess } from '../types.ts';
import { durationOf, durationParam, optionalStringParam, stringListParam, unknownParams } from './common.ts';
import { endpointUrl } from './endpoint.ts';
import { type HttpAnswer, httpRequest } from './http.ts';

interface Settings {
  repository: string;
  client: string;
  bucket: string;
  basePath: string;
  indices: string[];
  timeoutMs: number;
}

/** The backup's parameters with their defaults (pure; validate() has checked them). */
export function esSettings(spec: BackupSpec): Settings {
  return {
    repository: typeof spec.repository === 'string' ? spec.repository : 'kindling',
    client: typeof spec.client === 'string' ? spec.client : 'default',
    bucket: spec.bucket as string,
    basePath: typeof spec.basePath === 'string' ? spec.basePath : 'elasticsearch',
    indices: Array.isArray(spec.indices) ? (spec.indices as string[]) : ['*'],
    timeoutMs: durationOf(spec, 'timeout', 30 * 60_000),
  };
}

/** Snapshot names must be lower case (the backup id is, apart from its `T`/`Z`). */
export const snapshotName = (backupId: string) => `kindling-${backupId.toLowerCase()}`;

/** Index names a drill restores into: never the source's own, even when scratch and source are one cluster. */
export const drillIndexName = (index: string) => `kindling-drill-${index}`;

/** `{"error":{"root_cause":[…],"type":…,"reason":…},"status":N}` → "type: reason" (ES's error body). */
export function esError(r: HttpAnswer): string {
  const e = (r.json as { error?: { type?: string; reason?: string } | string } | undefined)?.error;
  if (typeof e === 'string') return e;
  if (e?.type || e?.reason) return `${e.type ?? 'error'}: ${e.reason ?? ''}`.trim();
  return r.text.slice(0, 300);
}

/** Java regex replacement: `$` and `\` are special in rename_replacement. */
const javaReplacement = (s: string) => s.replace(/[\\$]/g, (c) => `\\${c}`);
const javaQuote = (s: string) => `\\Q${s}\\E`;

class Es {
  readonly url: URL;
  readonly where: string;
  constructor(url: URL, where: string) {
    this.url = url;
    this.where = where;
  }
  async call(
    method: string,
    path: string,
    body?: unknown,
    timeoutMs?: number,
    ok: (status: number) => boolean = (s) => s === 200,
  ): Promise<HttpAnswer> {
    const r = await httpRequest(this.url, method, path, {
      body,
      timeoutMs,
      what: `${this.where}: ${method} ${path.split('?')[0]}`,
    });
    if (!ok(r.status))
      throw new Error(
        `${this.where}: ${method} ${path.split('?')[0]} answered HTTP ${r.status}: ${esError(r)}`,
      );
    return r;
  }
  json<T>(r: HttpAnswer): T {
    return (r.json ?? {}) as T;
  }
}

async function es(target: TargetAccess, component: Component, spec: BackupSpec): Promise<Es> {
  const url = await endpointUrl(target, component, spec);
  return new Es(url, `elasticsearch ${url.origin}`);
}

async function registerRepository(client: Es, s: Settings, readonly: boolean): Promise<void> {
  const settings: Record<string, unknown> = { bucket: s.bucket, client: s.client, base_path: s.basePath };
  if (readonly) settings.readonly = true;
  // verify=true (the default) makes every node write and read a test blob: a wrong client or bucket fails here
  await client.call('PUT', `/_snapshot/${encodeURIComponent(s.repository)}?verify=true`, {
    type: 's3',
    settings,
  });
}

async function repositoryExists(client: Es, repo: string): Promise<boolean> {
  const r = await client.call(
    'GET',
    `/_snapshot/${encodeURIComponent(repo)}`,
    undefined,
    undefined,
    (st) => st === 200 || st === 404,
  );
  return r.status === 200;
}

async function docCount(client: Es, index: string): Promise<number> {
  const path = `/${encodeURIComponent(index)}`;
  await client.call('POST', `${path}/_refresh`);
  return Number(client.json<{ count?: number }>(await client.call('GET', `${path}/_count`)).count);
}

interface SnapshotInfo {
  snapshot?: string;
  state?: string;
  indices?: string[];
  failures?: { index?: string; reason?: string }[];
  shards?: { total?: number; failed?: number; successful?: number };
  version?: string;
}

const destOf = (ctx: { options: { rename: Map<string, string> } }, index: string) =>
  ctx.options.rename.get(index) ?? index;
const userIndices = (indices: readonly string[]) => indices.filter((i) => !i.startsWith('.'));

export const elasticsearchSnapshotSource: BackupSource = {
  type: 'elasticsearch-snapshot',

  validate(spec): ParamProblem[] {
    const problems = [
      ...unknownParams(spec, ['bucket', 'repository', 'client', 'basePath', 'indices', 'timeout']),
      ...optionalStringParam(spec, 'repository'),
      ...optionalStringParam(spec, 'client'),
      ...optionalStringParam(spec, 'basePath'),
      ...stringListParam(spec, 'indices', false),
    ];
    if (typeof spec.bucket !== 'string' || !spec.bucket)
      problems.push({
        path: ['bucket'],
        message: 'is required: the S3 bucket Elasticsearch writes the snapshot into',
      });
    if (typeof spec.repository === 'string' && !/^[a-z0-9][a-z0-9_-]*$/.test(spec.repository))
      problems.push({ path: ['repository'], message: 'must be lower case (a-z, 0-9, _ and -)' });
    problems.push(...durationParam(spec, 'timeout'));
    return problems;
  },

  async backup(ctx) {
    const s = esSettings(ctx.spec);
    const client = await es(ctx.target, ctx.component, ctx.spec);
    const root = client.json<{ version?: { number?: string } }>(await client.call('GET', '/'));
    await registerRepository(client, s, false);
    const name = snapshotName(ctx.backupId);
    ctx.log(`snapshot ${s.repository}/${name} of ${s.indices.join(',')} into s3://${s.bucket}/${s.basePath}`);
    const created = await client.call(
      'PUT',
      `/_snapshot/${encodeURIComponent(s.repository)}/${name}?wait_for_completion=true`,
      {
        indices: s.indices.join(','),
        include_global_state: false,
        metadata: { taken_by: 'kindling', backup: ctx.backupId },
      },
      s.timeoutMs,
    );
    const info = client.json<{ snapshot?: SnapshotInfo }>(created).snapshot ?? {};
    if (info.state !== 'SUCCESS' || (info.shards?.failed ?? 0) > 0)
      throw new Error(
        `snapshot ${name} ended ${info.state ?? 'without a state'} (${info.shards?.failed ?? '?'} of ${info.shards?.total ?? '?'} shards failed${info.failures?.length ? `: ${info.failures.map((f) => `${f.index}: ${f.reason}`).join('; ')}` : ''})`,
      );
    const indices = userIndices(info.indices ?? []).sort();
    const counts: Record<string, number> = {};
    for (const index of indices) counts[index] = await docCount(client, index);
    const descriptor = {
      repository: s.repository,
      snapshot: name,
      bucket: s.bucket,
      basePath: s.basePath,
      client: s.client,
      indices,
      counts,
      shards: info.shards,
    };
    const artifact = await ctx.artifact('snapshot.json', {
      produce: async (stdout) => {
        stdout.end(Buffer.from(`${JSON.stringify(descriptor, null, 2)}\n`));
        return { exitCode: 0, stderr: '' };
      },
      description: `PUT _snapshot/${s.repository}/${name}?wait_for_completion=true`,
      format: 'elasticsearch-snapshot',
      meta: descriptor,
    });
    return {
      artifacts: [artifact],
      serverVersion: root.version?.number,
      toolVersion: 'Elasticsearch snapshot API',
      meta: { snapshot: name, indices, counts },
    };
  },

  async preflightRestore(ctx) {
    const problems: string[] = [];
    const meta = ctx.record.meta as { snapshot: string; indices: string[] };
    const s = esSettings(ctx.spec);
    const client = await es(ctx.target, ctx.component, ctx.spec);
    await client.call('GET', '/');
    for (const index of meta.indices) {
      const dest = destOf(ctx, index);
      const r = await client.call(
        'HEAD',
        `/${encodeURIComponent(dest)}`,
        undefined,
        undefined,
        (st) => st === 200 || st === 404,
      );
      if (r.status === 200 && !ctx.options.clean)
        problems.push(
          `index "${dest}" already exists; restore with --clean to replace it, or under another name`,
        );
    }
    if (!(await repositoryExists(client, s.repository)))
      ctx.log(`repository ${s.repository} is not registered on the target: it will be registered read-only`);
    return problems;
  },

  async restore(ctx: RestoreContext) {
    const meta = ctx.record.meta as { snapshot: string; indices: string[] };
    const s = esSettings(ctx.spec);
    const client = await es(ctx.target, ctx.component, ctx.spec);
    // a second cluster must not write into the repository the source owns (docs: "Register a snapshot repository")
    if (!(await repositoryExists(client, s.repository))) await registerRepository(client, s, true);
    const repo = encodeURIComponent(s.repository);
    const got = client.json<{ snapshots?: SnapshotInfo[] }>(
      await client.call('GET', `/_snapshot/${repo}/${meta.snapshot}`),
    );
    if (got.snapshots?.[0]?.state !== 'SUCCESS')
      throw new Error(
        `snapshot ${meta.snapshot} in ${s.repository} is ${got.snapshots?.[0]?.state ?? 'missing'}`,
      );
    const notes: string[] = [];
    for (const index of meta.indices) {
      const dest = destOf(ctx, index);
      if (ctx.options.clean)
        await client.call(
          'DELETE',
          `/${encodeURIComponent(dest)}`,
          undefined,
          undefined,
          (st) => st === 200 || st === 404,
        );
      const body: Record<string, unknown> = { indices: index, include_global_state: false };
      if (dest !== index)
        Object.assign(body, { rename_pattern: javaQuote(index), rename_replacement: javaReplacement(dest) });
      const r = await client.call(
        'POST',
        `/_snapshot/${repo}/${meta.snapshot}/_restore?wait_for_completion=true`,
        body,
        s.timeoutMs,
      );
      const shards = client.json<{ snapshot?: { shards?: { failed?: number; total?: number } } }>(r).snapshot
        ?.shards;
      if ((shards?.failed ?? 0) > 0)
        throw new Error(`restoring ${index} as ${dest}: ${shards?.failed} of ${shards?.total} shards failed`);
      ctx.log(`${index} restored${dest !== index ? ` as ${dest}` : ''}`);
      notes.push(`${index}${dest !== index ? ` → ${dest}` : ''}`);
    }
    return [`restored from ${s.repository}/${meta.snapshot}: ${notes.join(', ')}`];
  },

  async fingerprint(ctx) {
    const out: Fingerprint = new Map();
    const meta = ctx.record.meta as { indices: string[] };
    const client = await es(ctx.target, ctx.component, ctx.spec);
    for (const index of meta.indices)
      out.set(`index ${index}: documents`, String(await docCount(client, ctx.rename.get(index) ?? index)));
    return out;
  },

  drillRenames(record) {
    const meta = record.meta as { indices?: string[] } | undefined;
    return new Map((meta?.indices ?? []).map((i) => [i, drillIndexName(i)]));
  },
};
