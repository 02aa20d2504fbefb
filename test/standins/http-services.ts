/**
 * Protocol-faithful HTTP stand-ins for the services that cannot run here (no Docker, no JVM images):
 * Nacos, Milvus, Elasticsearch, Grafana, Jaeger, kafka-ui and MinIO's /minio/health/* endpoints.
 * Each answers exactly what readiness.md documents for the real endpoint, in each of its states.
 * The MinIO stand-in forwards everything else (the S3 API) to a real S3 server (s3rver).
 */
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';

export type StandInKind = 'nacos' | 'milvus' | 'elasticsearch' | 'grafana' | 'jaeger' | 'kafka-ui' | 'minio';
/** ready: healthy; starting: the documented not-ready answer; broken: a definite wrong answer. */
export type StandInState = 'ready' | 'starting' | 'broken';

export interface StandIn {
  kind: StandInKind;
  url: string;
  port: number;
  /** Milvus: a TCP listener standing in for the gRPC port. */
  grpcPort?: number;
  state: StandInState;
  /** Requests seen, as `METHOD path`. */
  requests: string[];
  /** Switches state now, or after `afterMs`. */
  setState(state: StandInState, afterMs?: number): void;
  stop(): Promise<void>;
}

export interface StandInOptions {
  state?: StandInState;
  /** Grafana/Elasticsearch: basic-auth credentials the stand-in requires where the real one does. */
  credentials?: { username: string; password: string };
  /** Grafana: the dashboards provisioned into it (uid, title, tags), which /api/search lists. */
  dashboards?: { uid: string; title: string; tags: string[] }[];
  /** MinIO: where its S3 API lives (an s3rver URL). */
  s3Upstream?: string;
  /** Where to listen (default 127.0.0.1 on a free port; the simulated pods use their fixed ports). */
  listen?: { host: string; port: number; grpcPort?: number };
  /**
   * Nacos/Milvus/Grafana: where the accounts live (the real servers keep them in their database:
   * Nacos in MySQL's `users`, Milvus in etcd, Grafana in grafana.db); default in memory, seeded
   * from `credentials`. Milvus answers its user API only with a store.
   */
  accounts?: AccountStore;
}

/** The accounts of a stand-in: what a password check and a password change need. */
export interface AccountStore {
  check(user: string, password: string): Promise<boolean>;
  exists(user: string): Promise<boolean>;
  set(user: string, password: string): Promise<void>;
}

export function memoryAccounts(seed?: { username: string; password: string }): AccountStore {
  const m = new Map<string, string>(seed ? [[seed.username, seed.password]] : []);
  return {
    check: async (u, p) => m.get(u) === p,
    exists: async (u) => m.has(u),
    set: async (u, p) => void m.set(u, p),
  };
}

type Reply = { status: number; body?: string | object; type?: string; headers?: Record<string, string> };
type Handler = (req: IncomingMessage, url: URL, s: StandIn, o: StandInOptions) => Reply | Promise<Reply>;

const json = (status: number, body: object): Reply => ({
  status,
  body,
  type: 'application/json; charset=utf-8',
});
const text = (status: number, body: string): Reply => ({ status, body, type: 'text/plain; charset=utf-8' });
const notFound = (): Reply => text(404, '404 page not found\n');

/** Basic auth against the account store: the user, or undefined when refused. */
async function basicUser(req: IncomingMessage, o: StandInOptions): Promise<string | undefined> {
  const h = req.headers.authorization ?? '';
  if (!h.startsWith('Basic ') || !o.accounts) return undefined;
  const [user, ...rest] = Buffer.from(h.slice(6), 'base64').toString().split(':');
  return user && (await o.accounts.check(user, rest.join(':'))) ? user : undefined;
}

function basicOk(req: IncomingMessage, o: StandInOptions): boolean | undefined {
  if (!o.credentials) return undefined;
  const h = req.headers.authorization ?? '';
  if (!h.startsWith('Basic ')) return false;
  return (
    Buffer.from(h.slice(6), 'base64').toString() === `${o.credentials.username}:${o.credentials.password}`
  );
}

/**
 * Nacos 2.4.3's account API as alibaba/nacos 2.4.3 UserController answers it (the schema inserts no
 * user since #11991, so a fresh server has none; `credentials` start it with that admin):
 * POST /v1/auth/users/admin?password= creates the admin "nacos" once (200 {"username","password"}),
 * then 200 {"code":409,...}; POST /v1/auth/login with username/password parameters answers
 * 200 {"accessToken",...} or 403 "user not found!" (AbstractAuthenticationManager, ConsoleExceptionHandler);
 * PUT /v1/auth/users?username=&newPassword= with a valid accessToken answers 200
 * {"code":200,"data":"update user ok!"}, 403 "authorization failed!" without one (the token is a JWT
 * signed with NACOS_AUTH_TOKEN: any member accepts it, and a password change does not void it).
 */
const NACOS_TOKEN = 'eyJhbGciOiJIUzI1NiJ9.';
async function nacosAuth(req: IncomingMessage, url: URL, _s: StandIn, o: StandInOptions): Promise<Reply> {
  const accounts = o.accounts!;
  let body = '';
  for await (const chunk of req) body += String(chunk);
  const params = new URLSearchParams(url.search);
  for (const [k, v] of new URLSearchParams(body)) params.set(k, v);
  if (req.method === 'POST' && url.pathname === '/nacos/v1/auth/users/admin') {
    if (await accounts.exists('nacos'))
      return json(200, { code: 409, message: null, data: 'have admin user cannot use it' });
    const password = params.get('password') || 'generated-random-password';
    await accounts.set('nacos', password);
    return json(200, { username: 'nacos', password });
  }
  if (req.method === 'POST' && url.pathname === '/nacos/v1/auth/login') {
    const user = params.get('username') ?? '';
    if (!(await accounts.check(user, params.get('password') ?? ''))) return text(403, 'user not found!');
    return json(200, {
      accessToken: `${NACOS_TOKEN}${Buffer.from(user).toString('base64url')}`,
      tokenTtl: 18000,
      globalAdmin: user === 'nacos',
      username: user,
    });
  }
  if (req.method === 'PUT' && url.pathname === '/nacos/v1/auth/users') {
    const token = params.get('accessToken') ?? '';
    const holder = token.startsWith(NACOS_TOKEN)
      ? Buffer.from(token.slice(NACOS_TOKEN.length), 'base64url').toString()
      : '';
    const user = params.get('username') ?? '';
    // hasPermission: the user itself or the global admin
    if (!holder || !(await accounts.exists(holder)) || (holder !== user && holder !== 'nacos'))
      return text(403, 'authorization failed!');
    if (!(await accounts.exists(user)))
      // IllegalArgumentException through ConsoleExceptionHandler: 400 with the message
      return text(400, `caused: user ${user} not exist!;`);
    await accounts.set(user, params.get('newPassword') ?? '');
    return json(200, { code: 200, message: null, data: 'update user ok!' });
  }
  return notFound();
}

/**
 * Milvus 2.4's RESTful v2 user API on its gRPC port (milvus-io/milvus internal/distributed/proxy/
 * httpserver handler_v2.go): `Authorization: Bearer user:password`, refused with HTTP 401
 * {"code":1800} (checkAuthorizationV2); POST /v2/vectordb/users/describe {userName} 200 {"code":0};
 * POST /v2/vectordb/users/update_password {userName,password,newPassword}: the old password must
 * match (code 1100 "old password not correct"), new ones are 6–256 characters (proxy ValidatePassword).
 * (This stand-in runs with authorization on, as the stack configures Milvus.)
 */
async function milvusUsers(req: IncomingMessage, res: ServerResponse, o: StandInOptions) {
  let raw = '';
  for await (const chunk of req) raw += String(chunk);
  const url = new URL(req.url ?? '/', 'http://stand-in');
  const bearer = /^Bearer (.*)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
  const [user, ...rest] = bearer.split(':');
  const accounts = o.accounts;
  if (!accounts) return send(res, notFound());
  if (!(user && (await accounts.check(user, rest.join(':')))))
    return send(res, json(401, { code: 1800, message: "user hasn't authenticated" }));
  let body: { userName?: string; password?: string; newPassword?: string } = {};
  try {
    body = JSON.parse(raw || '{}');
  } catch {
    return send(res, json(200, { code: 1801, message: 'can only accept json format request' }));
  }
  if (req.method === 'POST' && url.pathname === '/v2/vectordb/users/describe')
    return send(res, json(200, { code: 0, data: body.userName === 'root' ? ['admin'] : [] }));
  if (req.method === 'POST' && url.pathname === '/v2/vectordb/users/update_password') {
    const name = body.userName ?? '';
    if (!(await accounts.check(name, body.password ?? '')))
      return send(
        res,
        json(200, { code: 1100, message: `old password not correct for ${name}: invalid parameter` }),
      );
    const next = body.newPassword ?? '';
    if (next.length < 6 || next.length > 256)
      return send(res, json(200, { code: 1100, message: 'invalid password length: invalid parameter' }));
    await accounts.set(name, next);
    return send(res, json(200, { code: 0, data: {} }));
  }
  return send(res, json(404, { code: 404, message: 'path not found' }));
}

const handlers: Record<StandInKind, Handler> = {
  // Nacos 2.x: readiness answers 200 "OK"; 500 with this text while Config/Naming start
  nacos: async (req, url, s, o) => {
    if (url.pathname === '/nacos/v1/console/health/liveness') return text(200, 'OK');
    if ((req.method === 'POST' || req.method === 'PUT') && url.pathname.startsWith('/nacos/v1/auth/'))
      return nacosAuth(req, url, s, o);
    if (url.pathname !== '/nacos/v1/console/health/readiness') return notFound();
    if (s.state === 'ready') return text(200, 'OK');
    if (s.state === 'starting') return text(500, 'Config and Naming are not in readiness');
    return text(500, 'Naming is not in readiness');
  },
  // Milvus: /healthz 200 "OK" ({"state":"OK"} for JSON); 500 "Not all components are healthy"
  milvus: (req, url, s) => {
    if (url.pathname !== '/healthz') return notFound();
    const wantsJson = String(req.headers['content-type'] ?? '').includes('application/json');
    const ok = s.state === 'ready';
    const msg = ok ? 'OK' : 'Not all components are healthy';
    return wantsJson ? json(ok ? 200 : 500, { state: msg }) : text(ok ? 200 : 500, msg);
  },
  // Elasticsearch: _cluster/health waits for wait_for_status up to `timeout`, then 408 timed_out
  elasticsearch: async (req, url, s, o) => {
    if (url.pathname !== '/_cluster/health') return notFound();
    if (basicOk(req, o) === false)
      return {
        ...json(401, {
          error: {
            root_cause: [
              {
                type: 'security_exception',
                reason: 'missing authentication credentials for REST request [/_cluster/health]',
              },
            ],
            type: 'security_exception',
            reason: 'missing authentication credentials for REST request [/_cluster/health]',
          },
          status: 401,
        }),
        headers: { 'www-authenticate': 'Basic realm="security" charset="UTF-8"' },
      };
    const status = s.state === 'ready' ? 'yellow' : 'red';
    const want = url.searchParams.get('wait_for_status');
    const reached = !want || status !== 'red';
    const health = {
      cluster_name: 'voiceassistant-es',
      status,
      timed_out: !reached,
      number_of_nodes: 1,
      number_of_data_nodes: 1,
      active_primary_shards: reached ? 3 : 0,
      active_shards: reached ? 3 : 0,
      relocating_shards: 0,
      initializing_shards: 0,
      unassigned_shards: reached ? 3 : 6,
      delayed_unassigned_shards: 0,
      number_of_pending_tasks: 0,
      number_of_in_flight_fetch: 0,
      task_max_waiting_in_queue_millis: 0,
      active_shards_percent_as_number: reached ? 50 : 0,
    };
    if (!reached) {
      await new Promise((r) =>
        setTimeout(r, Math.min(parseEsTime(url.searchParams.get('timeout') ?? '30s'), 60_000)),
      );
      return json(408, health);
    }
    return json(200, health);
  },
  // Grafana: /api/health 200 database ok (503 "failing"); datasources need auth (401 otherwise)
  grafana: async (req, url, s, o) => {
    if (url.pathname === '/api/health') {
      const ok = s.state !== 'starting';
      return json(ok ? 200 : 503, {
        commit: '03f502a94d',
        database: ok ? 'ok' : 'failing',
        version: '10.4.2',
      });
    }
    const user = await basicUser(req, o);
    // grafana/grafana pkg/api/user.go: GET /api/user (the signed-in user); PUT /api/user/password
    // {oldPassword,newPassword,confirmNew}: 401 "Invalid old password", 400 "New password is too
    // short" (under 4 characters), 200 "User password changed" — kept in grafana.db (the store)
    if (url.pathname === '/api/user' && req.method === 'GET') {
      if (!user) return json(401, { message: 'Invalid username or password' });
      return json(200, { id: 1, login: user, email: `${user}@localhost`, isGrafanaAdmin: true, orgId: 1 });
    }
    if (url.pathname === '/api/user/password' && req.method === 'PUT') {
      if (!user) return json(401, { message: 'Invalid username or password' });
      let raw = '';
      for await (const chunk of req) raw += String(chunk);
      const b = JSON.parse(raw || '{}') as {
        oldPassword?: string;
        newPassword?: string;
        confirmNew?: string;
      };
      if (!(await o.accounts!.check(user, b.oldPassword ?? '')))
        return json(401, { message: 'Invalid old password' });
      if ((b.newPassword ?? '').length < 4) return json(400, { message: 'New password is too short' });
      if (b.newPassword !== b.confirmNew)
        return json(400, { message: 'New password and confirmation does not match' });
      await o.accounts!.set(user, b.newPassword!);
      return json(200, { message: 'User password changed' });
    }
    if (url.pathname.startsWith('/api/datasources/name/')) {
      if (!user) return json(401, { message: 'Invalid username or password' });
      const name = decodeURIComponent(url.pathname.slice('/api/datasources/name/'.length));
      if (name !== 'Prometheus' || s.state === 'broken')
        return json(404, { message: 'Data source not found' });
      return json(200, {
        id: 1,
        uid: 'P1809F7CD0C75ACF3',
        orgId: 1,
        name: 'Prometheus',
        type: 'prometheus',
        typeLogoUrl: 'public/app/plugins/datasource/prometheus/img/prometheus_logo.svg',
        access: 'proxy',
        url: 'http://prometheus:9090',
        isDefault: true,
        readOnly: true,
      });
    }
    // /api/search (HTTP API "Folder/Dashboard Search"): needs a login; type=dash-db lists dashboards,
    // every `tag` given must be on it; the answer is a JSON list of hits
    if (url.pathname === '/api/search') {
      if (!user) return json(401, { message: 'Unauthorized' });
      const type = url.searchParams.get('type');
      const tags = url.searchParams.getAll('tag');
      const hits = (type && type !== 'dash-db' ? [] : (o.dashboards ?? []))
        .filter((d) => tags.every((t) => d.tags.includes(t)))
        .map((d, i) => ({
          id: i + 1,
          uid: d.uid,
          title: d.title,
          uri: `db/${d.title.toLowerCase()}`,
          url: `/d/${d.uid}/${d.title.toLowerCase()}`,
          slug: '',
          type: 'dash-db',
          tags: d.tags,
          isStarred: false,
          folderUid: 'voiceassistant-infra',
          folderTitle: 'voiceassistant-infra',
        }));
      return json(200, hits);
    }
    return json(404, { message: 'Not found' });
  },
  // Jaeger query: /api/services {"data":[...]}; storage down → 500 with errors; admin / "Server available"
  jaeger: (_req, url, s) => {
    if (url.pathname === '/api/services') {
      if (s.state === 'ready')
        return json(200, {
          data: ['jaeger-all-in-one', 'voice-gateway'],
          total: 2,
          limit: 0,
          offset: 0,
          errors: null,
        });
      if (s.state === 'starting') return text(503, 'Service Unavailable');
      return json(500, {
        data: null,
        total: 0,
        limit: 0,
        offset: 0,
        errors: [{ code: 500, msg: 'no such index [jaeger-service-*]' }],
      });
    }
    if (url.pathname === '/') {
      const ok = s.state === 'ready';
      return json(ok ? 200 : 503, {
        status: ok ? 'Server available' : 'Server not available',
        upSince: '2026-11-25T21:00:00Z',
        uptime: '1m0s',
      });
    }
    return notFound();
  },
  // kafka-ui (Spring Boot actuator): {"status":"UP"}; 503 {"status":"DOWN"}
  'kafka-ui': (_req, url, s) => {
    if (url.pathname !== '/actuator/health')
      return json(404, {
        timestamp: new Date().toISOString(),
        status: 404,
        error: 'Not Found',
        path: url.pathname,
      });
    return s.state === 'ready' ? json(200, { status: 'UP' }) : json(503, { status: 'DOWN' });
  },
  // MinIO: /minio/health/live 200, /ready 200 or 503, /cluster 200 or 503 — empty bodies
  minio: (_req, url, s) => {
    if (url.pathname === '/minio/health/live') return { status: s.state === 'broken' ? 503 : 200 };
    if (url.pathname === '/minio/health/ready' || url.pathname === '/minio/health/cluster')
      return { status: s.state === 'ready' ? 200 : 503 };
    return notFound();
  },
};

function parseEsTime(v: string): number {
  const m = /^(\d+)(ms|s|m)?$/.exec(v);
  if (!m) return 30_000;
  return Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 'm' ? 60_000 : 1000);
}

export async function startStandIn(kind: StandInKind, given: StandInOptions = {}): Promise<StandIn> {
  const seed =
    kind === 'nacos'
      ? given.credentials?.username === 'nacos'
        ? given.credentials
        : undefined
      : given.credentials;
  const opts: StandInOptions =
    kind === 'nacos' || kind === 'grafana'
      ? { ...given, accounts: given.accounts ?? memoryAccounts(seed) }
      : given;
  const timers: NodeJS.Timeout[] = [];
  const standIn: StandIn = {
    kind,
    url: '',
    port: 0,
    state: opts.state ?? 'ready',
    requests: [],
    setState(state, afterMs) {
      if (!afterMs) standIn.state = state;
      else timers.push(setTimeout(() => (standIn.state = state), afterMs));
    },
    stop: async () => {},
  };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    standIn.requests.push(`${req.method} ${url.pathname}${url.search}`);
    if (kind === 'minio' && !url.pathname.startsWith('/minio/health/') && opts.s3Upstream)
      return forward(req, res, opts.s3Upstream);
    Promise.resolve(handlers[kind](req, url, standIn, opts)).then(
      (r) => send(res, r),
      (err) => send(res, text(500, String(err))),
    );
  });
  await new Promise<void>((r) => server.listen(opts.listen?.port ?? 0, opts.listen?.host ?? '127.0.0.1', r));
  standIn.port = (server.address() as { port: number }).port;
  standIn.url = `http://127.0.0.1:${standIn.port}`;
  let grpc: TcpServer | undefined;
  if (kind === 'milvus') {
    // the RESTful API shares the gRPC port (HTTP/1.1 there); without a user store, connections close
    grpc = opts.accounts
      ? createServer((req, res) => {
          standIn.requests.push(`${req.method} ${req.url}`);
          milvusUsers(req, res, opts).catch((err) => send(res, text(500, String(err))));
        })
      : createTcpServer((sock) => sock.destroy());
    await new Promise<void>((r) =>
      grpc!.listen(opts.listen?.grpcPort ?? 0, opts.listen?.host ?? '127.0.0.1', r),
    );
    standIn.grpcPort = (grpc.address() as { port: number }).port;
  }
  standIn.stop = async () => {
    for (const t of timers) clearTimeout(t);
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    if (grpc) await new Promise((r) => grpc!.close(r));
  };
  return standIn;
}

function send(res: ServerResponse, r: Reply): void {
  const body = r.body === undefined ? '' : typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
  res.writeHead(r.status, { ...(r.type ? { 'content-type': r.type } : {}), ...(r.headers ?? {}) });
  res.end(body);
}

function forward(req: IncomingMessage, res: ServerResponse, upstream: string): void {
  const target = new URL(req.url ?? '/', upstream);
  const up = request(
    target,
    { method: req.method, headers: { ...req.headers, host: target.host } },
    (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
    },
  );
  up.on('error', () => {
    res.writeHead(502);
    res.end();
  });
  req.pipe(up);
}
