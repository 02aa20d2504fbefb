/**
 * The thin client-node adapter: server-side apply, list, watch, read. Objects come back as plain
 * JSON (timestamps as strings), the shape the pure rules in src/plan read.
 */
import {
  type KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
  Watch,
} from '@kubernetes/client-node';
import type { Obj } from '../plan/conditions.ts';

export const FIELD_MANAGER = 'kindling';

export interface ListResult {
  items: Obj[];
  resourceVersion: string;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/** Typed client models carry Dates and class instances; the rules want the wire JSON. */
export const plain = <T>(o: T): Obj => JSON.parse(JSON.stringify(o));

export class KubeClient {
  readonly kc: KubeConfig;
  readonly objects: KubernetesObjectApi;
  readonly watcher: Watch;

  /** `watchTimeoutMs` is client-node's watch inactivity abort (30 s in 2.0.x); injectable for tests. */
  constructor(kc: KubeConfig, opts: { watchTimeoutMs?: number } = {}) {
    this.kc = kc;
    this.objects = KubernetesObjectApi.makeApiClient(kc);
    this.watcher = new Watch(kc);
    // a runtime field in 2.0.x (private in the typings): the inactivity abort of every watch
    if (opts.watchTimeoutMs)
      (this.watcher as unknown as { requestTimeoutMs: number }).requestTimeoutMs = opts.watchTimeoutMs;
  }

  /** Server-side apply with field manager `kindling`, forcing ownership of conflicting fields. */
  async apply(obj: Obj, opts: { dryRun?: boolean } = {}): Promise<Obj> {
    const res = await this.objects.patch(
      obj as KubernetesObject,
      undefined,
      opts.dryRun ? 'All' : undefined,
      FIELD_MANAGER,
      true,
      PatchStrategy.ServerSideApply,
    );
    return plain(res);
  }

  async read(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    name: string,
  ): Promise<Obj | undefined> {
    try {
      return plain(
        await this.objects.read({
          apiVersion,
          kind,
          metadata: { name, ...(namespace ? { namespace } : {}) },
        }),
      );
    } catch (err) {
      if ((err as { code?: number }).code === 404) return undefined;
      throw err;
    }
  }

  async list(
    apiVersion: string,
    kind: string,
    namespace?: string,
    labelSelector?: string,
  ): Promise<ListResult> {
    const res = await this.objects.list(
      apiVersion,
      kind,
      namespace,
      undefined,
      undefined,
      undefined,
      undefined,
      labelSelector,
    );
    const list = plain(res);
    return {
      items: (list.items ?? []).map((i: Obj) => ({ apiVersion, kind, ...i })),
      resourceVersion: list.metadata?.resourceVersion ?? '',
    };
  }

  /** The collection URL path for a kind (`/apis/apps/v1/namespaces/ns/statefulsets`), via API discovery. */
  async collectionPath(apiVersion: string, kind: string, namespace?: string): Promise<string> {
    // discovery (cached by client-node); `resource` is protected in the typings but public at run time
    const discover = this.objects as unknown as {
      resource(v: string, k: string): Promise<{ name: string; namespaced: boolean } | undefined>;
    };
    const resource = await discover.resource(apiVersion, kind);
    if (!resource) throw new Error(`the cluster does not serve ${apiVersion} ${kind}`);
    const root = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    return resource.namespaced && namespace
      ? `${root}/namespaces/${encodeURIComponent(namespace)}/${resource.name}`
      : `${root}/${resource.name}`;
  }

  /**
   * One watch request from `resourceVersion`. `done` gets the error (an HTTP 410 carries
   * statusCode 410) or null when the server or the inactivity timer closed the stream.
   */
  async watch(
    path: string,
    resourceVersion: string,
    onEvent: (type: WatchEventType, obj: Obj) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    return this.watcher.watch(
      path,
      { resourceVersion, allowWatchBookmarks: true },
      (type: string, obj: Obj) => onEvent(type as WatchEventType, obj),
      done,
    );
  }

  async serverVersion(): Promise<string> {
    const { VersionApi } = await import('@kubernetes/client-node');
    const v = await this.kc.makeApiClient(VersionApi).getCode();
    return v.gitVersion;
  }
}
