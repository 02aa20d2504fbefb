/**
 * The thin client-node adapter: server-side apply, list, watch, read. Objects come back as plain
 * JSON (timestamps as strings), the shape the pure rules in src/plan read.
 */
import {
  ApiException,
  type KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  type RequestContext,
  type ResponseContext,
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

  /**
   * Server-side apply with field manager `kindling`, forcing ownership of conflicting fields. The
   * object is sent as written: client-node's `KubernetesObjectApi.patch` serialises the body
   * through its typed models first (kubernetes-client/javascript `src/object.ts`:
   * `ObjectSerializer.serialize(spec, type)`), which silently drops every field those models lack —
   * newer API fields and typos alike. Sent raw, an unknown field is the API server's error, with
   * the path: server-side apply types the patch before anything else ("failed to create typed patch
   * object ...: .spec.x: field not declared in schema", HTTP 500 upstream, kubernetes/kubernetes
   * #118877). `fieldValidation=Strict` also rejects duplicate fields, which apply would otherwise
   * resolve silently (kubernetes.io/docs/reference/using-api/api-concepts/#field-validation).
   */
  async apply(
    obj: Obj,
    opts: { dryRun?: boolean; timeoutMs?: number; fieldManager?: string } = {},
  ): Promise<Obj> {
    const query: Record<string, string> = {
      fieldManager: opts.fieldManager ?? FIELD_MANAGER,
      force: 'true',
      fieldValidation: 'Strict',
    };
    if (opts.dryRun) query.dryRun = 'All';
    const path = await this.objectPath(obj as KubernetesObject, 'patch');
    return this.request('PATCH', path, query, {
      contentType: 'application/apply-patch+yaml', // JSON is YAML
      body: JSON.stringify(obj),
      timeoutMs: opts.timeoutMs ?? 30_000,
    });
  }

  /** Deletes an object; `propagationPolicy` Background/Foreground also removes what it owns (a Job's pods). */
  async delete(
    obj: Obj,
    opts: { propagationPolicy?: 'Background' | 'Foreground'; timeoutMs?: number } = {},
  ): Promise<void> {
    const path = await this.objectPath(obj as KubernetesObject, 'delete');
    await this.request(
      'DELETE',
      path,
      opts.propagationPolicy ? { propagationPolicy: opts.propagationPolicy } : {},
      {
        timeoutMs: opts.timeoutMs ?? 30_000,
      },
    ).catch((err) => {
      if ((err as { code?: number }).code !== 404) throw err;
    });
  }

  /** A POST of a plain object (SelfSubjectAccessReview...). */
  async create(collectionPath: string, body: Obj, timeoutMs = 15_000): Promise<Obj> {
    return this.request(
      'POST',
      collectionPath,
      {},
      {
        contentType: 'application/json',
        body: JSON.stringify(body),
        timeoutMs,
      },
    );
  }

  /** The object URL of `obj` (discovery, cached by client-node); `specUriPath` is protected in the typings. */
  private objectPath(obj: KubernetesObject, action: string): Promise<string> {
    return (
      this.objects as unknown as { specUriPath(o: KubernetesObject, a: string): Promise<string> }
    ).specUriPath(obj, action);
  }

  /**
   * One request with the kubeconfig's credentials and TLS (client-node's own RequestContext and HTTP
   * library, so auth plugins, client certificates and proxies behave as everywhere else), bounded by
   * `timeoutMs`. A non-2xx answer throws ApiException {code, body} like the generated clients.
   */
  private async request(
    method: string,
    path: string,
    query: Record<string, string>,
    opts: { contentType?: string; body?: string; timeoutMs: number },
  ): Promise<Obj> {
    const config = (
      this.objects as unknown as {
        configuration: {
          baseServer: { makeRequestContext(p: string, m: string): RequestContext };
          httpApi: { send(c: RequestContext): { toPromise(): Promise<ResponseContext> } };
        };
      }
    ).configuration;
    const ctx = config.baseServer.makeRequestContext(path, method);
    ctx.setHeaderParam('Accept', 'application/json');
    if (opts.contentType) ctx.setHeaderParam('Content-Type', opts.contentType);
    for (const [k, v] of Object.entries(query)) ctx.setQueryParam(k, v);
    if (opts.body !== undefined) ctx.setBody(opts.body);
    await this.kc.applySecurityAuthentication(ctx);
    ctx.setSignal(AbortSignal.timeout(opts.timeoutMs));
    const res = await config.httpApi.send(ctx).toPromise();
    const text = await res.body.text();
    if (res.httpStatusCode < 200 || res.httpStatusCode > 299)
      throw new ApiException(
        res.httpStatusCode,
        `HTTP ${res.httpStatusCode} from ${method} ${path}`,
        text,
        res.headers,
      );
    return text ? JSON.parse(text) : {};
  }

  /**
   * One object as the server sent it (raw JSON: the typed models would drop fields they lack, e.g.
   * newer status fields), bounded by `timeoutMs`; undefined when it does not exist.
   */
  async read(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    name: string,
    timeoutMs = 30_000,
  ): Promise<Obj | undefined> {
    const path = await this.objectPath(
      { apiVersion, kind, metadata: { name, ...(namespace ? { namespace } : {}) } },
      'read',
    );
    try {
      return await this.request('GET', path, {}, { timeoutMs });
    } catch (err) {
      if ((err as { code?: number }).code === 404) return undefined;
      throw err;
    }
  }

  /** A collection, raw JSON, each item with its apiVersion/kind (a List omits them), bounded. */
  async list(
    apiVersion: string,
    kind: string,
    namespace?: string,
    labelSelector?: string,
    timeoutMs = 60_000,
  ): Promise<ListResult> {
    const path = await this.collectionPath(apiVersion, kind, namespace);
    const list = await this.request('GET', path, labelSelector ? { labelSelector } : {}, { timeoutMs });
    return {
      items: (list.items ?? []).map((i: Obj) => ({ apiVersion, kind, ...i })),
      resourceVersion: list.metadata?.resourceVersion ?? '',
    };
  }

  /** `{group, plural, namespaced}` of a kind, via API discovery (undefined when not served). */
  async resourceOf(
    apiVersion: string,
    kind: string,
  ): Promise<{ group: string; plural: string; namespaced: boolean } | undefined> {
    const discover = this.objects as unknown as {
      resource(v: string, k: string): Promise<{ name: string; namespaced: boolean } | undefined>;
    };
    const r = await discover.resource(apiVersion, kind);
    if (!r) return undefined;
    return {
      group: apiVersion.includes('/') ? apiVersion.split('/')[0]! : '',
      plural: r.name,
      namespaced: r.namespaced,
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

  /** `GET /version`, bounded: also the cheapest proof that the API server answers at all. */
  async serverVersion(timeoutMs = 10_000): Promise<string> {
    const v = await this.request('GET', '/version', {}, { timeoutMs });
    return String(v.gitVersion ?? '');
  }
}
