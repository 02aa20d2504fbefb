/**
 * A list+watch cache of one kind in one namespace, robust to client-node 2.0.x: every watch is
 * aborted after its inactivity timeout (30 s), so the stream is re-opened from the last
 * resourceVersion; a 410 Gone (HTTP 410, or an ERROR event carrying Status code 410) means the
 * version expired and forces a re-list; repeated watch failures fall back to polling (re-list
 * every `pollIntervalMs`), with the watch retried later.
 */
import type { Obj } from '../plan/conditions.ts';
import type { KubeClient, WatchEventType } from './client.ts';

export interface CacheOptions {
  /** Re-list interval while watching is broken. */
  pollIntervalMs?: number;
  /** Consecutive watch failures before falling back to polling. */
  maxWatchFailures?: number;
  /** How long to poll before trying to watch again. */
  retryWatchAfterMs?: number;
  log?: (message: string) => void;
}

export interface CacheStats {
  lists: number;
  watches: number;
  expired: number;
  polls: number;
  events: number;
}

type WatchEnd = 'closed' | 'expired' | 'error';

export class ObjectCache {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string | undefined;
  readonly items = new Map<string, Obj>();
  /** Names seen and then deleted. */
  readonly deleted = new Set<string>();
  readonly stats: CacheStats = { lists: 0, watches: 0, expired: 0, polls: 0, events: 0 };
  private readonly client: KubeClient;
  private readonly opts: Required<Omit<CacheOptions, 'log'>> & Pick<CacheOptions, 'log'>;
  private readonly listeners = new Set<() => void>();
  private resourceVersion = '';
  private path = '';
  private stopped = false;
  private controller: AbortController | undefined;
  private wake: (() => void) | undefined;
  private loopDone: Promise<void> | undefined;

  constructor(
    client: KubeClient,
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    opts: CacheOptions = {},
  ) {
    this.client = client;
    this.apiVersion = apiVersion;
    this.kind = kind;
    this.namespace = namespace;
    this.opts = {
      pollIntervalMs: opts.pollIntervalMs ?? 2000,
      maxWatchFailures: opts.maxWatchFailures ?? 3,
      retryWatchAfterMs: opts.retryWatchAfterMs ?? 30_000,
      log: opts.log,
    };
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Lists once (so the cache is complete when this resolves), then keeps it current in the background. */
  async start(): Promise<void> {
    this.path = await this.client.collectionPath(this.apiVersion, this.kind, this.namespace);
    await this.relist();
    this.loopDone = this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.controller?.abort();
    this.wake?.();
    await this.loopDone;
  }

  private emit(): void {
    for (const l of this.listeners) l();
  }

  private async relist(): Promise<void> {
    const { items, resourceVersion } = await this.client.list(this.apiVersion, this.kind, this.namespace);
    this.stats.lists++;
    const seen = new Set<string>();
    for (const item of items) {
      const name = item.metadata?.name;
      seen.add(name);
      this.items.set(name, item);
    }
    for (const name of [...this.items.keys()]) {
      if (!seen.has(name)) {
        this.items.delete(name);
        this.deleted.add(name);
      }
    }
    this.resourceVersion = resourceVersion;
    this.emit();
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      if (failures >= this.opts.maxWatchFailures) {
        this.opts.log?.(`${this.kind}: watch keeps failing; polling every ${this.opts.pollIntervalMs}ms`);
        const until = Date.now() + this.opts.retryWatchAfterMs;
        while (!this.stopped && Date.now() < until) {
          await this.sleep(this.opts.pollIntervalMs);
          if (this.stopped) return;
          try {
            await this.relist();
            this.stats.polls++;
          } catch (err) {
            this.opts.log?.(`${this.kind}: re-list failed: ${(err as Error).message}`);
          }
        }
        failures = 0;
        continue;
      }
      const end = await this.watchOnce();
      if (this.stopped) return;
      if (end === 'closed') {
        failures = 0; // the normal end of a client-node watch: re-open from the last version
      } else if (end === 'expired') {
        this.stats.expired++;
        failures = 0;
        try {
          await this.relist();
        } catch {
          failures++;
        }
      } else {
        failures++;
        await this.sleep(Math.min(200 * 2 ** failures, 2000));
      }
    }
  }

  private watchOnce(): Promise<WatchEnd> {
    this.stats.watches++;
    return new Promise<WatchEnd>((resolve) => {
      let ended = false;
      const finish = (end: WatchEnd) => {
        if (ended) return;
        ended = true;
        this.controller?.abort();
        resolve(end);
      };
      const onEvent = (type: WatchEventType, obj: Obj) => {
        if (ended) return;
        if (type === 'ERROR') {
          // the server reports an expired resourceVersion inside a 200 stream
          finish(obj?.code === 410 ? 'expired' : 'error');
          return;
        }
        const rv = obj?.metadata?.resourceVersion;
        if (rv) this.resourceVersion = rv;
        if (type === 'BOOKMARK') return;
        this.stats.events++;
        const name = obj.metadata?.name;
        if (type === 'DELETED') {
          this.items.delete(name);
          this.deleted.add(name);
        } else {
          this.items.set(name, { apiVersion: this.apiVersion, kind: this.kind, ...obj });
        }
        this.emit();
      };
      const done = (err: unknown) => {
        if (!err) return finish('closed');
        const e = err as { statusCode?: number; name?: string };
        if (e.statusCode === 410) return finish('expired');
        // client-node's inactivity timeout aborts with a TimeoutError: a closed stream, not a failure
        if (e.name === 'TimeoutError') return finish('closed');
        this.opts.log?.(`${this.kind}: watch failed: ${(err as Error).message ?? err}`);
        finish('error');
      };
      this.client.watch(this.path, this.resourceVersion, onEvent, done).then(
        (controller) => {
          this.controller = controller;
          if (ended || this.stopped) controller.abort();
        },
        (err) => done(err ?? new Error('watch failed')),
      );
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }
}
