/**
 * etcd's v3 API through its gRPC gateway (HTTP/JSON; bytes are base64). The gateway is on by
 * default (`--enable-grpc-gateway`, etcd-io/etcd `server/embed/config.go`) and serves the same
 * paths on 3.4 and 3.5 (`google.api.http` options in `api/etcdserverpb/rpc.proto`; 3.4:
 * `etcdserver/etcdserverpb/rpc.proto`): `POST /v3/maintenance/snapshot`, `/v3/maintenance/status`,
 * `/v3/kv/range`, `/v3/kv/txn`, `/v3/kv/deleterange`; `GET /version`. No exec, so it works on the
 * distroless etcd image, which has no shell.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { httpAuth } from './endpoint.ts';
import { httpRequest, networkReason } from './http.ts';

/** `\0` as both key and range end: every key (rpc.proto RangeRequest: "If both key and range_end are '\0', … returns all keys"). */
const ALL = Buffer.from([0]).toString('base64');
/** etcd's defaults `--max-txn-ops` 128 and `--max-request-bytes` 1.5 MiB (`server/embed/config.go`): stay below both. */
const TXN_OPS = 100;
const TXN_BYTES = 1 << 20;

export interface EtcdKv {
  key: Buffer;
  value: Buffer;
}

export class EtcdGateway {
  readonly base: URL;
  readonly timeoutMs: number;
  constructor(base: URL, timeoutMs = 30_000) {
    this.base = base;
    this.timeoutMs = timeoutMs;
  }

  private async call(path: string, body: unknown): Promise<Record<string, unknown>> {
    const r = await httpRequest(this.base, 'POST', path, {
      body,
      timeoutMs: this.timeoutMs,
      what: `etcd ${this.base.origin}${path}`,
    });
    const json = r.json as Record<string, unknown> | undefined;
    if (r.status !== 200 || !json)
      throw new Error(
        `etcd ${this.base.origin}${path} answered HTTP ${r.status}: ${String((json as { error?: string })?.error ?? json?.message ?? r.text.slice(0, 200))}`,
      );
    return json;
  }

  /** `{"etcdserver":"3.5.16","etcdcluster":"3.5.0"}` → the server version. */
  async version(): Promise<string> {
    const r = await httpRequest(this.base, 'GET', '/version', {
      timeoutMs: this.timeoutMs,
      what: `etcd ${this.base.origin}/version`,
    });
    const v = (r.json as { etcdserver?: string } | undefined)?.etcdserver;
    if (r.status !== 200 || !v)
      throw new Error(`etcd ${this.base.origin}/version answered HTTP ${r.status}: ${r.text.slice(0, 200)}`);
    return v;
  }

  async revision(): Promise<number> {
    const s = await this.call('/v3/maintenance/status', {});
    return Number((s.header as { revision?: string } | undefined)?.revision ?? 0);
  }

  async count(): Promise<number> {
    const r = await this.call('/v3/kv/range', { key: ALL, range_end: ALL, count_only: true });
    return Number(r.count ?? 0);
  }

  /** Every key and value, in key order, `page` at a time. */
  async *range(page = 1000): AsyncGenerator<EtcdKv> {
    let from = ALL;
    for (;;) {
      const r = await this.call('/v3/kv/range', { key: from, range_end: ALL, limit: page });
      const kvs = (r.kvs ?? []) as { key: string; value?: string }[];
      for (const kv of kvs)
        yield { key: Buffer.from(kv.key, 'base64'), value: Buffer.from(kv.value ?? '', 'base64') };
      if (!r.more || kvs.length === 0) return;
      // the next page starts right after the last key: that key plus a zero byte
      from = Buffer.concat([Buffer.from(kvs.at(-1)!.key, 'base64'), Buffer.from([0])]).toString('base64');
    }
  }

  /** Writes `kvs` in transactions of at most TXN_OPS puts / TXN_BYTES; returns how many were written. */
  async putAll(kvs: AsyncIterable<EtcdKv>): Promise<number> {
    let batch: object[] = [];
    let bytes = 0;
    let n = 0;
    const flush = async () => {
      if (batch.length) await this.call('/v3/kv/txn', { compare: [], success: batch, failure: [] });
      n += batch.length;
      batch = [];
      bytes = 0;
    };
    for await (const kv of kvs) {
      const size = kv.key.length + kv.value.length;
      if (batch.length >= TXN_OPS || (batch.length && bytes + size > TXN_BYTES)) await flush();
      batch.push({ request_put: { key: kv.key.toString('base64'), value: kv.value.toString('base64') } });
      bytes += size;
    }
    await flush();
    return n;
  }

  async deleteAll(): Promise<number> {
    const r = await this.call('/v3/kv/deleterange', { key: ALL, range_end: ALL });
    return Number(r.deleted ?? 0);
  }

  /**
   * Streams `Maintenance/Snapshot` into `out`: the backend's bytes, then the 32-byte sha256 the
   * server sends as the last message (etcd-io/etcd `server/etcdserver/api/v3rpc/maintenance.go`).
   * The digest is checked here, and kept at the end of the output as `etcdctl snapshot save`
   * keeps it, so `etcdutl snapshot restore` verifies it again. The gateway sends one JSON object
   * per line (`{"result":{"blob":…}}`, or `{"error":…}`). `idleMs` bounds each wait for data.
   */
  async snapshot(out: Writable, signal: AbortSignal, idleMs = 60_000): Promise<{ dbBytes: number }> {
    const { origin, headers } = httpAuth(this.base);
    const url = `${origin}/v3/maintenance/snapshot`;
    const abort = new AbortController();
    const onAbort = () => abort.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        timedOut = true;
        abort.abort();
      }, idleMs);
    };
    const hash = createHash('sha256');
    let held: Buffer | undefined;
    let dbBytes = 0;
    const take = async (line: string) => {
      if (!line.trim()) return;
      const msg = JSON.parse(line) as { result?: { blob?: string }; error?: { message?: string } };
      if (msg.error)
        throw new Error(`etcd snapshot stream failed: ${msg.error.message ?? JSON.stringify(msg.error)}`);
      const blob = Buffer.from(msg.result?.blob ?? '', 'base64');
      if (held) {
        hash.update(held);
        dbBytes += held.length;
        if (!out.write(held)) await once(out, 'drain');
      }
      held = blob;
    };
    try {
      arm();
      const res = await fetch(url, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: '{}',
        signal: abort.signal,
      });
      if (res.status !== 200 || !res.body)
        throw new Error(`etcd ${url} answered HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`);
      const decoder = new TextDecoder();
      let pending = '';
      for await (const chunk of res.body) {
        arm();
        pending += decoder.decode(chunk as Uint8Array, { stream: true });
        let nl = pending.indexOf('\n');
        while (nl >= 0) {
          await take(pending.slice(0, nl));
          pending = pending.slice(nl + 1);
          nl = pending.indexOf('\n');
        }
      }
      await take(pending);
    } catch (err) {
      if (timedOut) throw new Error(`etcd ${url}: no data for ${idleMs / 1000}s; snapshot abandoned`);
      if (signal.aborted) throw new Error(`etcd ${url}: snapshot aborted`);
      throw err instanceof SyntaxError || (err as Error).message?.startsWith('etcd ')
        ? err
        : new Error(`etcd ${url}: ${networkReason(err, idleMs)}`, { cause: err });
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
    const digest = hash.digest();
    if (held?.length !== 32 || !held.equals(digest))
      throw new Error(
        `etcd snapshot stream ended without a matching sha256 (${dbBytes} bytes received); the snapshot is incomplete`,
      );
    if (!out.write(held)) await once(out, 'drain');
    return { dbBytes };
  }
}

/** Facts to compare two etcd key spaces: key count, per-prefix counts, and a digest of every key and value (pure). */
export function etcdFingerprint(kvs: readonly EtcdKv[]): Map<string, string> {
  const out = new Map<string, string>();
  const hash = createHash('sha256');
  const prefixes = new Map<string, number>();
  for (const kv of kvs) {
    // length-prefixed, so ("ab","c") and ("a","bc") differ
    for (const b of [kv.key, kv.value]) {
      const len = Buffer.alloc(4);
      len.writeUInt32BE(b.length);
      hash.update(len).update(b);
    }
    const prefix = kv.key.toString('utf8').split('/').filter(Boolean)[0] ?? '';
    prefixes.set(prefix, (prefixes.get(prefix) ?? 0) + 1);
  }
  out.set('keys', String(kvs.length));
  for (const [p, n] of [...prefixes].sort()) out.set(`keys under ${p || '(root)'}/`, String(n));
  out.set('sha256 of keys and values', hash.digest('hex'));
  return out;
}
