/**
 * Stand-in for the Kubernetes API server, speaking the wire protocol for what kindling uses:
 * discovery (APIResourceList), GET/LIST with resourceVersion, WATCH streams (newline-delimited JSON
 * events; BOOKMARKs when asked and server-side deadlines, see watch()) with 410 Gone both as an
 * ERROR event (Status code 410 in a 200 stream) and as HTTP 410, server-side apply (PATCH application/apply-patch+yaml with fieldManager/force/dryRun),
 * Status error bodies, and namespace existence. Tests play the controllers by writing status.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { KubeConfig } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { kindStyleKubeconfig, type TestPki } from './certs.ts';
import {
  type Attributes,
  allowed,
  forbidden,
  jobTemplateImmutable,
  type RbacPolicy,
  unknownFieldError,
} from './kube-admission.ts';
import { serverSideApply } from './kube-ssa.ts';

// biome-ignore lint/suspicious/noExplicitAny: API objects are open JSON
type Obj = Record<string, any>;

interface Resource {
  plural: string;
  kind: string;
  namespaced: boolean;
}

const GROUPS: Record<string, Resource[]> = {
  v1: [
    { plural: 'namespaces', kind: 'Namespace', namespaced: false },
    { plural: 'pods', kind: 'Pod', namespaced: true },
    { plural: 'services', kind: 'Service', namespaced: true },
    { plural: 'secrets', kind: 'Secret', namespaced: true },
    { plural: 'configmaps', kind: 'ConfigMap', namespaced: true },
    { plural: 'serviceaccounts', kind: 'ServiceAccount', namespaced: true },
    { plural: 'persistentvolumeclaims', kind: 'PersistentVolumeClaim', namespaced: true },
    { plural: 'persistentvolumes', kind: 'PersistentVolume', namespaced: false },
    { plural: 'events', kind: 'Event', namespaced: true },
    { plural: 'nodes', kind: 'Node', namespaced: false },
  ],
  'apps/v1': [
    { plural: 'deployments', kind: 'Deployment', namespaced: true },
    { plural: 'statefulsets', kind: 'StatefulSet', namespaced: true },
    { plural: 'daemonsets', kind: 'DaemonSet', namespaced: true },
    // a Deployment's and a StatefulSet's revisions, which `rollout undo` reads (src/kube/rollout.ts)
    { plural: 'replicasets', kind: 'ReplicaSet', namespaced: true },
    { plural: 'controllerrevisions', kind: 'ControllerRevision', namespaced: true },
  ],
  'batch/v1': [
    { plural: 'jobs', kind: 'Job', namespaced: true },
    { plural: 'cronjobs', kind: 'CronJob', namespaced: true },
  ],
  'networking.k8s.io/v1': [{ plural: 'networkpolicies', kind: 'NetworkPolicy', namespaced: true }],
  'policy/v1': [{ plural: 'poddisruptionbudgets', kind: 'PodDisruptionBudget', namespaced: true }],
  'rbac.authorization.k8s.io/v1': [
    { plural: 'roles', kind: 'Role', namespaced: true },
    { plural: 'rolebindings', kind: 'RoleBinding', namespaced: true },
  ],
  'discovery.k8s.io/v1': [{ plural: 'endpointslices', kind: 'EndpointSlice', namespaced: true }],
  'storage.k8s.io/v1': [{ plural: 'storageclasses', kind: 'StorageClass', namespaced: false }],
  'authorization.k8s.io/v1': [
    { plural: 'selfsubjectaccessreviews', kind: 'SelfSubjectAccessReview', namespaced: false },
  ],
};

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  contentType: string | undefined;
  body: string;
  at: number;
}

interface WatchEvent {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  gv: string;
  plural: string;
  namespace: string | undefined;
  object: Obj;
}

interface Watcher {
  gv: string;
  plural: string;
  namespace: string | undefined;
  res: ServerResponse;
}

export interface StandinOptions {
  /** Close every watch stream after this many ms (a server or proxy ending long requests). */
  watchCloseAfterMs?: number;
  /**
   * The apiserver's `--min-request-timeout` in ms (default 1800 s): a watch without `timeoutSeconds`
   * is closed after a random time in [min, 2·min) (watchTimeoutMs below).
   */
  minRequestTimeoutMs?: number;
  /** How often a watch with `allowWatchBookmarks=true` gets a BOOKMARK (the cacher's 1 minute). */
  bookmarkEveryMs?: number;
  /** How an expired resourceVersion is reported: ERROR event in a 200 stream, or HTTP 410. */
  goneMode?: 'event' | 'http';
  /** RBAC for the token's user (kube-admission.ts); absent: everything is allowed (cluster-admin). */
  rbac?: RbacPolicy;
  /**
   * https with this PKI (certs.ts), as a kind cluster serves: the server certificate for 127.0.0.1,
   * and client-certificate authentication (a client certificate signed by the CA authenticates, like
   * the apiserver's `--client-ca-file`); the bearer token keeps working too.
   */
  tls?: TestPki;
}

export class KubeApiStandin {
  readonly requests: RecordedRequest[] = [];
  readonly opts: StandinOptions;
  private server: Server | undefined;
  private rv = 100;
  /** Versions at or below this are compacted: watching from them gets 410 Gone. */
  private compactedThrough = 0;
  private readonly store = new Map<string, Obj>();
  private readonly history: WatchEvent[] = [];
  private readonly watchers = new Set<Watcher>();
  /** Container logs by `namespace/pod/container/previous`. */
  readonly logs = new Map<string, string>();
  /** Extension point: called after every stored change (the simulated controllers' informer feed). */
  readonly listeners = new Set<(type: 'ADDED' | 'MODIFIED' | 'DELETED', object: Obj) => void>();
  /** Extension point: mutating admission/defaulting run on every apply before it is stored (test/sim). */
  readonly mutators: ((object: Obj, existing: Obj | undefined) => void)[] = [];
  port = 0;

  constructor(opts: StandinOptions = {}) {
    this.opts = opts;
  }

  async start(): Promise<this> {
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => this.handle(req, res, body));
    };
    const tls = this.opts.tls;
    this.server = tls
      ? createHttpsServer(
          {
            key: tls.serverKey,
            cert: tls.serverCert,
            ca: [tls.ca],
            requestCert: true,
            rejectUnauthorized: false,
          },
          handler,
        )
      : createServer(handler);
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    for (const w of this.watchers) w.res.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((r) => this.server?.close(() => r()) ?? r());
  }

  get url(): string {
    return `${this.opts.tls ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  /** A bearer token, or (https) a client certificate the CA signed. */
  authenticated(req: IncomingMessage): boolean {
    if (req.headers.authorization === 'Bearer standin-token') return true;
    return !!this.opts.tls && (req.socket as TLSSocket).authorized === true;
  }

  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    if (this.opts.tls) {
      kc.loadFromString(kindStyleKubeconfig(this.url, this.opts.tls));
      return kc;
    }
    kc.loadFromOptions({
      clusters: [{ name: 'standin', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'standin', token: 'standin-token' }],
      contexts: [{ name: 'standin', cluster: 'standin', user: 'standin' }],
      currentContext: 'standin',
    });
    return kc;
  }

  /** Kubeconfig YAML text pointing at the stand-in. */
  kubeconfigYaml(context = 'standin'): string {
    if (this.opts.tls) return kindStyleKubeconfig(this.url, this.opts.tls);
    return [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{name: standin, cluster: {server: "${this.url}", insecure-skip-tls-verify: true}}]`,
      'users: [{name: standin, user: {token: standin-token}}]',
      `contexts: [{name: ${context}, context: {cluster: standin, user: standin}}]`,
      `current-context: ${context}`,
    ].join('\n');
  }

  // ---- controller side (tests) ----

  /** Creates or replaces an object as a controller would (e.g. a Pod, an EndpointSlice). */
  put(obj: Obj): Obj {
    const gv = obj.apiVersion;
    const r = this.resourceOf(gv, obj.kind);
    const ns = r.namespaced ? (obj.metadata.namespace ?? 'default') : undefined;
    const key = this.key(gv, r.plural, ns, obj.metadata.name);
    const existing = this.store.get(key);
    const stored = structuredClone(obj);
    stored.metadata = { ...(existing?.metadata ?? {}), ...stored.metadata, ...(ns ? { namespace: ns } : {}) };
    stored.metadata.uid ??= `uid-${this.rv + 1}`;
    stored.metadata.creationTimestamp ??= new Date().toISOString();
    this.write(key, gv, r.plural, ns, stored, existing ? 'MODIFIED' : 'ADDED');
    return stored;
  }

  /** Merges `status` into a stored object (what a controller's status update does). */
  setStatus(apiVersion: string, kind: string, namespace: string | undefined, name: string, status: Obj): Obj {
    const r = this.resourceOf(apiVersion, kind);
    const key = this.key(apiVersion, r.plural, r.namespaced ? namespace : undefined, name);
    const existing = this.store.get(key);
    if (!existing) throw new Error(`stand-in: no ${kind} ${namespace}/${name}`);
    const updated = { ...structuredClone(existing), status };
    this.write(key, apiVersion, r.plural, r.namespaced ? namespace : undefined, updated, 'MODIFIED');
    return updated;
  }

  get(apiVersion: string, kind: string, namespace: string | undefined, name: string): Obj | undefined {
    const r = this.resourceOf(apiVersion, kind);
    return this.store.get(this.key(apiVersion, r.plural, r.namespaced ? namespace : undefined, name));
  }

  /** Every stored object of a kind (optionally in one namespace), as a controller's lister sees them. */
  list(apiVersion: string, kind: string, namespace?: string): Obj[] {
    const r = this.resourceOf(apiVersion, kind);
    return [...this.store.entries()]
      .filter(([k]) => this.inCollection(k, apiVersion, r.plural, r.namespaced ? namespace : undefined))
      .map(([, o]) => o);
  }

  remove(apiVersion: string, kind: string, namespace: string | undefined, name: string): void {
    const r = this.resourceOf(apiVersion, kind);
    const ns = r.namespaced ? namespace : undefined;
    const key = this.key(apiVersion, r.plural, ns, name);
    const existing = this.store.get(key);
    if (!existing) return;
    this.store.delete(key);
    this.rv++;
    const object = { ...existing, metadata: { ...existing.metadata, resourceVersion: String(this.rv) } };
    this.publish({ rv: this.rv, type: 'DELETED', gv: apiVersion, plural: r.plural, namespace: ns, object });
  }

  /** Compacts history: every resourceVersion seen so far becomes too old to watch from. */
  compact(): void {
    this.compactedThrough = this.rv;
  }

  /** Ends every open watch stream now (a stream that closes mid-rollout). */
  closeWatches(): void {
    for (const w of this.watchers) w.res.end();
    this.watchers.clear();
  }

  watchCount(): number {
    return this.requests.filter((r) => r.query.get('watch') === 'true').length;
  }

  // ---- HTTP side ----

  private handle(req: IncomingMessage, res: ServerResponse, body: string) {
    const url = new URL(req.url ?? '/', this.url);
    this.requests.push({
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      contentType: req.headers['content-type'],
      body,
      at: Date.now(),
    });
    if (!this.authenticated(req)) return this.status(res, 401, 'Unauthorized', 'Unauthorized');
    const parts = url.pathname.split('/').filter(Boolean);
    // discovery
    if (url.pathname === '/version')
      return this.json(res, 200, { major: '1', minor: '37', gitVersion: 'v1.37.0', platform: 'linux/amd64' });
    const gv = parts[0] === 'api' ? parts[1] : parts[0] === 'apis' ? `${parts[1]}/${parts[2]}` : undefined;
    if (!gv || !GROUPS[gv])
      return this.status(res, 404, 'NotFound', 'the server could not find the requested resource');
    let rest = parts.slice(parts[0] === 'api' ? 2 : 3);
    if (rest.length === 0) {
      return this.json(res, 200, {
        kind: 'APIResourceList',
        apiVersion: 'v1',
        groupVersion: gv,
        resources: GROUPS[gv].map((r) => ({
          name: r.plural,
          singularName: r.kind.toLowerCase(),
          namespaced: r.namespaced,
          kind: r.kind,
          verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
        })),
      });
    }
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      namespace = decodeURIComponent(rest[1]!);
      rest = rest.slice(2);
    }
    const r = GROUPS[gv].find((x) => x.plural === rest[0]);
    if (!r) return this.status(res, 404, 'NotFound', 'the server could not find the requested resource');
    const name = rest[1] ? decodeURIComponent(rest[1]) : undefined;
    const group = gv.includes('/') ? gv.split('/')[0]! : '';
    const verb =
      req.method === 'GET'
        ? name
          ? 'get'
          : url.searchParams.get('watch') === 'true'
            ? 'watch'
            : 'list'
        : ({ PATCH: 'patch', DELETE: 'delete', POST: 'create', PUT: 'update' } as Record<string, string>)[
            req.method ?? ''
          ];
    const attrs: Attributes = {
      verb: verb ?? '',
      group,
      resource: rest[2] ? `${r.plural}/${rest[2]}` : r.plural,
      ...(namespace ? { namespace } : {}),
      ...(name ? { name } : {}),
    };
    // SelfSubjectAccessReview is always allowed (system:basic-user); it answers from the same rules
    if (r.kind === 'SelfSubjectAccessReview' && req.method === 'POST') return this.accessReview(res, body);
    const denied = this.authorize(attrs);
    if (denied) return this.json(res, 403, denied);
    if (req.method === 'DELETE' && name) return this.delete(res, gv, r, namespace, name, url.searchParams);
    if (req.method === 'GET' && !name) {
      if (url.searchParams.get('watch') === 'true')
        return this.watch(res, gv, r, namespace, url.searchParams);
      return this.listResponse(res, gv, r, namespace, url.searchParams);
    }
    if (req.method === 'GET' && name && r.kind === 'Pod' && rest[2] === 'log') {
      const key = `${namespace}/${name}/${url.searchParams.get('container')}/${url.searchParams.get('previous') === 'true'}`;
      const text = this.logs.get(key);
      if (text === undefined)
        return this.status(
          res,
          400,
          'BadRequest',
          `previous terminated container "${url.searchParams.get('container')}" in pod "${name}" not found`,
        );
      res.writeHead(200, { 'content-type': 'text/plain' });
      return res.end(text);
    }
    if (req.method === 'GET' && name) {
      const o = this.store.get(this.key(gv, r.plural, namespace, name));
      if (!o)
        return this.status(res, 404, 'NotFound', `${r.plural} "${name}" not found`, { name, kind: r.plural });
      return this.json(res, 200, o);
    }
    if (req.method === 'PATCH' && name)
      return this.apply(res, gv, r, namespace, name, url.searchParams, req, body);
    return this.status(
      res,
      405,
      'MethodNotAllowed',
      `the server does not allow this method on the requested resource`,
    );
  }

  private apply(
    res: ServerResponse,
    gv: string,
    r: Resource,
    namespace: string | undefined,
    name: string,
    q: URLSearchParams,
    req: IncomingMessage,
    body: string,
  ) {
    const ct = req.headers['content-type'] ?? '';
    if (!ct.startsWith('application/apply-patch+yaml'))
      return this.status(
        res,
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`,
      );
    if (!q.get('fieldManager'))
      return this.status(
        res,
        422,
        'Invalid',
        'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
      );
    let obj: Obj;
    try {
      obj = parseYaml(body);
    } catch {
      return this.status(res, 400, 'BadRequest', 'error decoding YAML');
    }
    if (obj.apiVersion !== gv || obj.kind !== r.kind)
      return this.status(
        res,
        400,
        'BadRequest',
        `the API version in the data (${obj.apiVersion}) does not match the expected API version (${gv})`,
      );
    if (obj.metadata?.name !== name)
      return this.status(res, 400, 'BadRequest', 'the name of the object does not match the name on the URL');
    if (r.namespaced && !this.store.has(this.key('v1', 'namespaces', undefined, namespace!)))
      return this.status(res, 404, 'NotFound', `namespaces "${namespace}" not found`, {
        name: namespace,
        kind: 'namespaces',
      });
    const key = this.key(gv, r.plural, namespace, name);
    const existing = this.store.get(key);
    const manager = q.get('fieldManager')!;
    // field ownership per manager, merge, removal and 409 conflicts: kube-ssa.ts
    const applied = serverSideApply(existing, obj, manager, q.get('force') === 'true');
    if ('conflict' in applied) return this.json(res, 409, applied.conflict);
    const next: Obj = {
      ...applied.object,
      apiVersion: obj.apiVersion,
      kind: obj.kind,
      metadata: {
        ...applied.object.metadata,
        name,
        ...(namespace ? { namespace } : {}),
        uid: existing?.metadata?.uid ?? `uid-${this.rv + 1}`,
        creationTimestamp: existing?.metadata?.creationTimestamp ?? new Date().toISOString(),
      },
    };
    for (const mutate of this.mutators) mutate(next, existing);
    // server-side apply rejects unknown fields whatever fieldValidation says (kube-admission.ts)
    const unknown = unknownFieldError(obj, namespace);
    if (unknown) return this.status(res, 500, '', unknown);
    const immutable = jobTemplateImmutable(next, existing);
    if (immutable) return this.json(res, 422, immutable);
    const specChanged = JSON.stringify(existing?.spec) !== JSON.stringify(next.spec);
    if (['Deployment', 'StatefulSet', 'DaemonSet', 'Job'].includes(r.kind))
      next.metadata.generation = (existing?.metadata?.generation ?? 0) + (existing && !specChanged ? 0 : 1);
    if (q.get('dryRun') === 'All') return this.json(res, existing ? 200 : 201, next);
    this.write(key, gv, r.plural, namespace, next, existing ? 'MODIFIED' : 'ADDED');
    return this.json(res, existing ? 200 : 201, this.store.get(key));
  }

  /** The 403 Status when the configured RBAC rules deny `a` (undefined: allowed). */
  authorize(a: Attributes): Obj | undefined {
    const policy = this.opts.rbac;
    return policy && !allowed(policy, a) ? forbidden(policy, a) : undefined;
  }

  private accessReview(res: ServerResponse, body: string) {
    const review = JSON.parse(body || '{}');
    const ra = review.spec?.resourceAttributes ?? {};
    const a: Attributes = {
      verb: ra.verb ?? '',
      group: ra.group ?? '',
      resource: ra.subresource ? `${ra.resource}/${ra.subresource}` : (ra.resource ?? ''),
      ...(ra.namespace ? { namespace: ra.namespace } : {}),
    };
    const ok = !this.opts.rbac || allowed(this.opts.rbac, a);
    return this.json(res, 201, {
      ...review,
      status: ok ? { allowed: true, reason: 'RBAC: allowed by stand-in rules' } : { allowed: false },
    });
  }

  /**
   * DELETE with `propagationPolicy`: Background and Foreground also remove the pods the object owns
   * (the garbage collector's job); a batch/v1 Job deleted without one orphans its pods
   * (kubernetes/kubernetes `pkg/registry/batch/job/strategy.go` DefaultGarbageCollectionPolicy).
   */
  private delete(
    res: ServerResponse,
    gv: string,
    r: Resource,
    namespace: string | undefined,
    name: string,
    q: URLSearchParams,
  ) {
    const existing = this.store.get(this.key(gv, r.plural, namespace, name));
    if (!existing)
      return this.status(res, 404, 'NotFound', `${r.plural}.${gv.split('/')[0]} "${name}" not found`, {
        name,
        kind: r.plural,
      });
    this.remove(gv, r.kind, namespace, name);
    const policy = q.get('propagationPolicy');
    if (policy === 'Background' || policy === 'Foreground')
      for (const pod of [...this.store.values()].filter(
        (o) => o.kind === 'Pod' && o.metadata?.namespace === namespace,
      ))
        if ((pod.metadata?.ownerReferences ?? []).some((o: Obj) => o.uid === existing.metadata.uid))
          this.remove('v1', 'Pod', namespace, pod.metadata.name);
    return this.json(res, 200, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: {
        name,
        group: gv.includes('/') ? gv.split('/')[0] : '',
        kind: r.plural,
        uid: existing.metadata.uid,
      },
    });
  }

  private listResponse(
    res: ServerResponse,
    gv: string,
    r: Resource,
    namespace: string | undefined,
    q: URLSearchParams,
  ) {
    const items = [...this.store.entries()]
      .filter(([k]) => this.inCollection(k, gv, r.plural, namespace))
      .map(([, o]) => o)
      .filter((o) => labelsMatch(q.get('labelSelector'), o.metadata?.labels));
    this.json(res, 200, {
      kind: `${r.kind}List`,
      apiVersion: gv,
      metadata: { resourceVersion: String(this.rv) },
      items: items.map(({ apiVersion: _a, kind: _k, ...rest }) => rest),
    });
  }

  private watch(
    res: ServerResponse,
    gv: string,
    r: Resource,
    namespace: string | undefined,
    q: URLSearchParams,
  ) {
    const from = Number(q.get('resourceVersion') || '0');
    if (from > 0 && from <= this.compactedThrough) {
      const gone = {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: `too old resource version: ${from} (${this.compactedThrough + 1})`,
        reason: this.opts.goneMode === 'http' ? 'Gone' : 'Expired',
        code: 410,
      };
      if (this.opts.goneMode === 'http') return this.json(res, 410, gone);
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
      res.end(`${JSON.stringify({ type: 'ERROR', object: gone })}\n`);
      return;
    }
    const bookmarks = q.get('allowWatchBookmarks') === 'true';
    const initial = q.get('sendInitialEvents') === 'true';
    // sendInitialEvents needs bookmarks (the end of the initial events is one) and NotOlderThan, 422 otherwise (message: the stand-in's wording)
    // (kubernetes/kubernetes staging/src/k8s.io/apimachinery/pkg/apis/meta/internalversion/validation/validation.go ValidateListOptions)
    if (initial && (!bookmarks || q.get('resourceVersionMatch') !== 'NotOlderThan'))
      return this.status(
        res,
        422,
        'Invalid',
        'ListOptions.meta.k8s.io "" is invalid: sendInitialEvents: Forbidden: sendInitialEvents requires setting allowWatchBookmarks=true and resourceVersionMatch=NotOlderThan',
      );
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    const w: Watcher = { gv, plural: r.plural, namespace, res };
    const send = (type: string, object: Obj) => res.write(`${JSON.stringify({ type, object })}\n`);
    const bookmark = (annotations?: Record<string, string>) =>
      send('BOOKMARK', {
        kind: r.kind,
        apiVersion: gv,
        metadata: { resourceVersion: String(this.rv), ...(annotations ? { annotations } : {}) },
      });
    if (initial) {
      // the current state as ADDED events, then a bookmark annotated k8s.io/initial-events-end
      // (staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/types.go InitialEventsAnnotationKey; KEP-3157)
      for (const o of this.list(gv, r.kind, namespace)) send('ADDED', o);
      bookmark({ 'k8s.io/initial-events-end': 'true' });
    } else
      for (const e of this.history)
        if (e.rv > from && e.gv === gv && e.plural === r.plural && (!namespace || e.namespace === namespace))
          send(e.type, e.object);
    this.watchers.add(w);
    const timers: NodeJS.Timeout[] = [];
    res.on('close', () => {
      this.watchers.delete(w);
      for (const t of timers) clearTimeout(t);
    });
    const lifetime =
      this.opts.watchCloseAfterMs ?? watchTimeoutMs(q, this.opts.minRequestTimeoutMs ?? 1_800_000);
    // the server ends the stream cleanly at its deadline (endpoints/handlers/watch.go serveWatch: timeoutCh)
    timers.push(setTimeout(() => res.end(), lifetime));
    if (bookmarks) {
      // a bookmark every bookmarkFrequency and one 2 s before the deadline, carrying the current
      // resourceVersion, so a client re-watches from it, not from its last event (which may be
      // compacted by then): staging/src/k8s.io/apiserver/pkg/storage/cacher/cache_watcher.go nextBookmarkTime
      const every = this.opts.bookmarkEveryMs ?? 60_000;
      const tick = () => {
        bookmark();
        timers.push(setTimeout(tick, every));
      };
      timers.push(setTimeout(tick, every));
      if (lifetime - 2000 > 0) timers.push(setTimeout(() => bookmark(), lifetime - 2000));
    }
  }

  private write(
    key: string,
    gv: string,
    plural: string,
    ns: string | undefined,
    obj: Obj,
    type: 'ADDED' | 'MODIFIED',
  ): void {
    this.rv++;
    obj.metadata.resourceVersion = String(this.rv);
    this.store.set(key, obj);
    this.publish({ rv: this.rv, type, gv, plural, namespace: ns, object: obj });
  }

  private publish(e: WatchEvent): void {
    this.history.push(e);
    for (const listener of this.listeners) listener(e.type, e.object);
    for (const w of this.watchers) {
      if (w.gv === e.gv && w.plural === e.plural && (!w.namespace || w.namespace === e.namespace))
        w.res.write(`${JSON.stringify({ type: e.type, object: e.object })}\n`);
    }
  }

  private resourceOf(gv: string, kind: string): Resource {
    const r = GROUPS[gv]?.find((x) => x.kind === kind);
    if (!r) throw new Error(`stand-in: unknown ${gv} ${kind}`);
    return r;
  }

  private key(gv: string, plural: string, ns: string | undefined, name: string): string {
    return `${gv}|${plural}|${ns ?? ''}|${name}`;
  }

  private inCollection(key: string, gv: string, plural: string, ns: string | undefined): boolean {
    const [kgv, kplural, kns] = key.split('|');
    return kgv === gv && kplural === plural && (!ns || kns === ns);
  }

  private json(res: ServerResponse, code: number, body: unknown): void {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private status(res: ServerResponse, code: number, reason: string, message: string, details?: Obj): void {
    this.json(res, code, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message,
      ...(reason ? { reason } : {}), // metav1.Status omits an empty (unknown) reason
      ...(details ? { details } : {}),
      code,
    });
  }
}

/**
 * How long the apiserver keeps a watch open: `timeoutSeconds` when given, else a random time in
 * [minRequestTimeout, 2·minRequestTimeout) to spread re-watches (kubernetes/kubernetes
 * staging/src/k8s.io/apiserver/pkg/endpoints/handlers/get.go ListResource; since 1.31 in
 * endpoints/request GetTimeoutForWatch).
 */
export function watchTimeoutMs(
  q: URLSearchParams,
  minRequestTimeoutMs: number,
  random = Math.random,
): number {
  const seconds = Number(q.get('timeoutSeconds') ?? '0');
  if (Number.isFinite(seconds) && seconds > 0) return seconds * 1000;
  return minRequestTimeoutMs * (random() + 1);
}

function labelsMatch(selector: string | null, labels: Record<string, string> = {}): boolean {
  if (!selector) return true;
  return selector.split(',').every((term) => {
    const [k, v] = term.split('=');
    return labels[k!.trim()] === v?.trim();
  });
}
