/**
 * STAND-IN for Elasticsearch 8.x (no Elasticsearch can run here): a small HTTP server answering
 * the endpoints kindling's `elasticsearch-snapshot` backup uses, with ES's status codes and body
 * shapes, and a REAL S3 repository behind it (s3rver): snapshots are written to and read from the
 * bucket, so a repository that cannot be reached, or a snapshot whose objects are gone, fails as
 * it would on ES. Sources: the REST spec (elastic/elasticsearch `rest-api-spec/src/main/resources/
 * rest-api-spec/api/snapshot.create_repository.json`, `snapshot.create.json`, `snapshot.get.json`,
 * `snapshot.restore.json`, `indices.refresh.json`, `count.json`) and the 8.15 reference pages
 * "Create or update snapshot repository API", "Create snapshot API", "Get snapshot API",
 * "Restore snapshot API", "S3 repository" for the bodies:
 * - `GET /` → `{name, cluster_name, cluster_uuid, version:{number,…}, tagline}`;
 * - errors → `{"error":{"root_cause":[{type,reason}],type,reason},"status":N}`;
 * - `PUT /_snapshot/R` → `{"acknowledged":true}`; type other than s3/fs → 500
 *   repository_exception; no bucket → 500 repository_exception "No bucket defined…"; an S3
 *   client not configured on the node → "Unknown s3 client name [x]"; with verification (the
 *   default) the node writes and deletes a test blob under base_path, a failure → 500
 *   repository_verification_exception;
 * - `PUT /_snapshot/R/S?wait_for_completion=true` → `{"snapshot":{snapshot,uuid,repository,
 *   version,indices,data_streams,include_global_state,state:"SUCCESS",…,failures:[],
 *   shards:{total,failed,successful}}}`; without wait → `{"accepted":true}`; a taken name → 400
 *   invalid_snapshot_name_exception; a readonly repository → 500 repository_exception;
 * - `GET /_snapshot/R/S` → `{"snapshots":[…],"total":1,"remaining":0}`; missing → 404
 *   snapshot_missing_exception "[R:S] is missing"; `GET /_snapshot/R` → `{R:{type,settings}}`,
 *   missing → 404 repository_missing_exception "[R] missing";
 * - `POST /_snapshot/R/S/_restore?wait_for_completion=true` (indices, rename_pattern,
 *   rename_replacement: Java regex, `$1` groups) → `{"snapshot":{snapshot,indices,shards}}`; an
 *   open index of the restored name → 500 snapshot_restore_exception "cannot restore index […]
 *   because an open index with same name already exists in the cluster…";
 * - indices: `PUT /I` (→ `{acknowledged,shards_acknowledged,index}`), `PUT|POST /I/_doc/ID`,
 *   `POST /I/_refresh`, `GET /I/_count` (→ `{count,_shards}`; refreshed documents only),
 *   `HEAD /I` (200/404, no body), `DELETE /I`; a missing index → 404 index_not_found_exception.
 * What is NOT modelled: shards, mappings, security, wildcards other than `*`, async snapshots.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';

/** An S3 client as configured on the node: `s3.client.NAME.endpoint` (elasticsearch.yml) + keystore keys. */
export interface EsS3Client {
  endpoint: string;
  accessKey: string;
  secretKey: string;
}

interface Repo {
  type: string;
  settings: Record<string, unknown>;
}
interface Index {
  docs: Map<string, unknown>;
  /** Documents visible to search: the state at the last refresh. */
  refreshed: number;
}

export class ElasticsearchStandin {
  readonly clients: Record<string, EsS3Client>;
  readonly indices = new Map<string, Index>();
  readonly repos = new Map<string, Repo>();
  /** Every request, `METHOD path`, for assertions. */
  readonly requests: string[] = [];
  /** Answer nothing at all to requests whose path matches (a wedged node). */
  hang?: RegExp;
  private server: Server | undefined;
  port = 0;

  constructor(opts: { clients?: Record<string, EsS3Client> } = {}) {
    this.clients = opts.clients ?? {};
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: Error) => send(res, 500, error('exception', err.message, 500)));
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => this.server?.close(() => r()) ?? r());
  }

  /** Index a document and make it searchable (a `?refresh=true` write). */
  put(index: string, id: string, doc: unknown): void {
    const i = this.index(index, true)!;
    i.docs.set(id, doc);
    i.refreshed = i.docs.size;
  }

  private index(name: string, create = false): Index | undefined {
    let i = this.indices.get(name);
    if (!i && create) {
      i = { docs: new Map(), refreshed: 0 };
      this.indices.set(name, i);
    }
    return i;
  }

  private s3(repo: Repo): { client: S3Client; bucket: string; base: string } {
    const name = String(repo.settings.client ?? 'default');
    const c = this.clients[name];
    if (!c)
      throw new EsError(
        500,
        'repository_exception',
        `Unknown s3 client name [${name}]. Existing client configs: ${Object.keys(this.clients).join(',')}`,
      );
    return {
      client: new S3Client({
        endpoint: c.endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: c.accessKey, secretAccessKey: c.secretKey },
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      }),
      bucket: String(repo.settings.bucket),
      base: String(repo.settings.base_path ?? '').replace(/\/+$/, ''),
    };
  }

  private async handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', this.url);
    const method = req.method ?? 'GET';
    this.requests.push(`${method} ${url.pathname}`);
    if (this.hang?.test(url.pathname)) return; // never answers
    const body = await readJson(req);
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    try {
      if (parts.length === 0 && method === 'GET')
        return send(res, 200, {
          name: 'elasticsearch-0',
          cluster_name: 'voiceassistant',
          cluster_uuid: 'standin-uuid',
          version: {
            number: '8.15.3',
            build_flavor: 'default',
            build_type: 'docker',
            lucene_version: '9.11.1',
          },
          tagline: 'You Know, for Search',
        });
      if (parts[0] === '_snapshot') return await this.snapshotApi(method, parts.slice(1), url, body, res);
      if (parts[0] && !parts[0].startsWith('_')) return this.indexApi(method, parts, body, res);
      throw new EsError(
        400,
        'illegal_argument_exception',
        `no handler found for uri [${url.pathname}] and method [${method}]`,
      );
    } catch (err) {
      if (err instanceof EsError)
        return send(res, err.status, error(err.type, err.message, err.status), method === 'HEAD');
      throw err;
    }
  }

  private indexApi(method: string, parts: string[], body: unknown, res: ServerResponse) {
    const [name, op, id] = parts as [string, string | undefined, string | undefined];
    const missing = () => new EsError(404, 'index_not_found_exception', `no such index [${name}]`);
    if (!op) {
      if (method === 'HEAD') return send(res, this.indices.has(name) ? 200 : 404, undefined, true);
      if (method === 'PUT') {
        if (this.indices.has(name))
          throw new EsError(
            400,
            'resource_already_exists_exception',
            `index [${name}/standin] already exists`,
          );
        this.index(name, true);
        return send(res, 200, { acknowledged: true, shards_acknowledged: true, index: name });
      }
      if (method === 'DELETE') {
        if (!this.indices.delete(name)) throw missing();
        return send(res, 200, { acknowledged: true });
      }
    }
    if (op === '_doc' && id && (method === 'PUT' || method === 'POST')) {
      const i = this.index(name, true)!;
      const created = !i.docs.has(id);
      i.docs.set(id, body);
      return send(res, created ? 201 : 200, {
        _index: name,
        _id: id,
        result: created ? 'created' : 'updated',
      });
    }
    const i = this.indices.get(name);
    if (op === '_refresh' && (method === 'POST' || method === 'GET')) {
      if (!i) throw missing();
      i.refreshed = i.docs.size;
      return send(res, 200, { _shards: { total: 1, successful: 1, failed: 0 } });
    }
    if (op === '_count' && (method === 'GET' || method === 'POST')) {
      if (!i) throw missing();
      return send(res, 200, {
        count: i.refreshed,
        _shards: { total: 1, successful: 1, skipped: 0, failed: 0 },
      });
    }
    throw new EsError(
      405,
      'method_not_allowed',
      `Incorrect HTTP method for uri [/${parts.join('/')}] and method [${method}]`,
    );
  }

  private async snapshotApi(method: string, parts: string[], url: URL, body: unknown, res: ServerResponse) {
    const [repoName, snap, op] = parts as [string | undefined, string | undefined, string | undefined];
    if (!repoName) throw new EsError(400, 'illegal_argument_exception', 'repository name missing');
    if (!snap) {
      if (method === 'PUT' || method === 'POST') return this.putRepository(repoName, url, body, res);
      if (method === 'GET') {
        const r = this.repos.get(repoName);
        if (!r) throw new EsError(404, 'repository_missing_exception', `[${repoName}] missing`);
        return send(res, 200, { [repoName]: r });
      }
    }
    const repo = this.repos.get(repoName);
    if (!repo) throw new EsError(404, 'repository_missing_exception', `[${repoName}] missing`);
    const s3 = this.s3(repo);
    const key = `${s3.base ? `${s3.base}/` : ''}snap-${snap}.json`;
    if (snap && !op && (method === 'PUT' || method === 'POST')) {
      if (repo.settings.readonly === true || repo.settings.readonly === 'true')
        throw new EsError(
          500,
          'repository_exception',
          `[${repoName}] cannot create snapshot in a readonly repository`,
        );
      if (await exists(s3, key))
        throw new EsError(
          400,
          'invalid_snapshot_name_exception',
          `[${repoName}:${snap}] Invalid snapshot name [${snap}], snapshot with the same name already exists`,
        );
      const b = (body ?? {}) as { indices?: string; include_global_state?: boolean; metadata?: unknown };
      const pattern = b.indices ?? '*';
      const names = [...this.indices.keys()]
        .filter((n) => pattern.split(',').some((p) => p === '*' || p === n))
        .sort();
      const data = Object.fromEntries(names.map((n) => [n, [...this.indices.get(n)!.docs]]));
      const started = Date.now();
      const info = {
        snapshot: snap,
        uuid: randomUUID(),
        repository: repoName,
        version_id: 8_15_03_99,
        version: '8.15.3',
        indices: names,
        data_streams: [],
        include_global_state: b.include_global_state ?? true,
        metadata: b.metadata,
        state: 'SUCCESS',
        start_time: new Date(started).toISOString(),
        start_time_in_millis: started,
        end_time: new Date().toISOString(),
        end_time_in_millis: Date.now(),
        duration_in_millis: Date.now() - started,
        failures: [],
        shards: { total: names.length, failed: 0, successful: names.length },
        feature_states: [],
      };
      await s3.client.send(
        new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: JSON.stringify({ info, data }) }),
      );
      if (url.searchParams.get('wait_for_completion') !== 'true') return send(res, 200, { accepted: true });
      return send(res, 200, { snapshot: info });
    }
    const stored = async () => {
      const got = await s3.client
        .send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }))
        .catch(() => undefined);
      if (!got) throw new EsError(404, 'snapshot_missing_exception', `[${repoName}:${snap}] is missing`);
      return JSON.parse(await got.Body!.transformToString()) as {
        info: { indices: string[]; uuid: string };
        data: Record<string, [string, unknown][]>;
      };
    };
    if (snap && !op && method === 'GET') {
      const { info } = await stored();
      return send(res, 200, { snapshots: [info], total: 1, remaining: 0 });
    }
    if (snap && op === '_restore' && method === 'POST') {
      const { info, data } = await stored();
      const b = (body ?? {}) as { indices?: string; rename_pattern?: string; rename_replacement?: string };
      const wanted = (b.indices ?? '*').split(',');
      const chosen = info.indices.filter((n) => wanted.some((w) => w === '*' || w === n));
      const renamed = chosen.map(
        (n) =>
          [n, b.rename_pattern ? renameJava(n, b.rename_pattern, b.rename_replacement ?? '') : n] as const,
      );
      for (const [, to] of renamed)
        if (this.indices.has(to))
          throw new EsError(
            500,
            'snapshot_restore_exception',
            `[${repoName}:${snap}/${info.uuid}] cannot restore index [${to}] because an open index with same name already exists in the cluster. Either close or delete the existing index or restore the index under a different name by providing a rename pattern and replacement name`,
          );
      for (const [from, to] of renamed) {
        const docs = new Map(data[from] ?? []);
        this.indices.set(to, { docs, refreshed: docs.size });
      }
      if (url.searchParams.get('wait_for_completion') !== 'true') return send(res, 200, { accepted: true });
      return send(res, 200, {
        snapshot: {
          snapshot: snap,
          indices: renamed.map(([, to]) => to),
          shards: { total: renamed.length, failed: 0, successful: renamed.length },
        },
      });
    }
    throw new EsError(
      405,
      'method_not_allowed',
      `Incorrect HTTP method for uri [/_snapshot/${parts.join('/')}] and method [${method}]`,
    );
  }

  private async putRepository(name: string, url: URL, body: unknown, res: ServerResponse): Promise<void> {
    const b = (body ?? {}) as { type?: string; settings?: Record<string, unknown> };
    if (b.type !== 's3' && b.type !== 'fs')
      throw new EsError(500, 'repository_exception', `[${name}] repository type [${b.type}] does not exist`);
    const settings = b.settings ?? {};
    if (b.type === 's3' && !settings.bucket)
      throw new EsError(500, 'repository_exception', `[${name}] No bucket defined for s3 repository`);
    const repo = { type: b.type, settings };
    if (url.searchParams.get('verify') !== 'false') {
      const s3 = this.s3(repo);
      const probe = `${s3.base ? `${s3.base}/` : ''}tests-${randomUUID()}/master.dat`;
      try {
        await s3.client.send(new HeadBucketCommand({ Bucket: s3.bucket }));
        if (settings.readonly !== true) {
          await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: probe, Body: 'verify' }));
          await s3.client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: probe }));
        }
      } catch (err) {
        throw new EsError(
          500,
          'repository_verification_exception',
          `[${name}] path [${s3.base}] is not accessible on master node: ${(err as Error).name}: ${(err as Error).message}`,
        );
      }
    }
    this.repos.set(name, repo);
    send(res, 200, { acknowledged: true });
  }
}

/** Java's String.replaceAll on the whole name: `$N` are groups (the replacement escapes `\\$` and `\\\\`). */
function renameJava(name: string, pattern: string, replacement: string): string {
  const re = new RegExp(
    pattern.replace(/\\Q([\s\S]*?)\\E/g, (_, q: string) => q.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')),
    'g',
  );
  return name.replace(re, (...m) => {
    const groups = m.slice(1, -2) as string[];
    return replacement.replace(/\\(.)|\$(\d)/g, (_s, esc: string | undefined, g: string | undefined) =>
      esc !== undefined ? esc : (groups[Number(g) - 1] ?? ''),
    );
  });
}

class EsError extends Error {
  readonly status: number;
  readonly type: string;
  constructor(status: number, type: string, reason: string) {
    super(reason);
    this.status = status;
    this.type = type;
  }
}

const error = (type: string, reason: string, status: number) => ({
  error: { root_cause: [{ type, reason }], type, reason },
  status,
});

function send(res: ServerResponse, status: number, body: unknown, head = false): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'x-elastic-product': 'Elasticsearch',
    'content-length': Buffer.byteLength(text),
  });
  res.end(head ? undefined : text);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : undefined;
}

async function exists(s3: { client: S3Client; bucket: string }, key: string): Promise<boolean> {
  return s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key })).then(
    () => true,
    () => false,
  );
}
