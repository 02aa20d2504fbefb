/**
 * `kindling rotate` for the HTTP-managed accounts that cannot run here — Grafana's admin and a Nacos
 * user — against protocol-faithful STAND-INS (named so: no Grafana or Nacos server exists on this
 * platform). Each answers the endpoints rotation uses exactly as upstream does:
 *  - Grafana (grafana/grafana pkg/api/user.go): GET /api/user with basic auth 200 or 401;
 *    PUT /api/user/password {oldPassword,newPassword,confirmNew}: 401 "Invalid old password",
 *    400 "New password is too short" (under 4 characters), 200 "User password changed".
 *  - Nacos 2.4.3 (alibaba/nacos UserController): POST /nacos/v1/auth/login 200 {accessToken,...} or
 *    403 "user not found!"; PUT /nacos/v1/auth/users?username&newPassword with accessToken: 403
 *    "authorization failed!" without a valid token, 200 {"code":200,"data":"update user ok!"};
 *    tokens issued before a change stay valid (JWTs are not tied to the password).
 * The CLI runs as its own process; a SIGKILL after setSecret is resumed; no output holds a credential.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../harness/services.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const dir = tempDir('rotate-http');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

function rotate(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; signal: string | null; out: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(ROOT, 'bin/kindling.js'), 'rotate', '--target', 'local', '--timeout', '5s', ...args],
      { cwd: ROOT, env: { ...process.env, ...env } },
      (err, stdout, stderr) => {
        const e = err as (Error & { code?: unknown; signal?: string }) | null;
        resolve({
          code: e ? (typeof e.code === 'number' ? e.code : null) : 0,
          signal: e?.signal ?? null,
          out: `${stdout}${stderr}`,
        });
      },
    );
  });
}

async function listen(
  handler: (req: IncomingMessage, body: string, res: ServerResponse) => void,
): Promise<{ server: Server; port: number }> {
  const server = createServer(async (req, res) => {
    let body = '';
    for await (const c of req) body += String(c);
    handler(req, body, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, port: (server.address() as AddressInfo).port };
}

const send = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json' });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
};

/** Grafana stand-in: one user, basic auth, the password API. */
async function grafanaStandIn(user: string, password: string) {
  const state = { password };
  const authed = (req: IncomingMessage) => {
    const m = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
    if (!m) return false;
    const [u, ...p] = Buffer.from(m[1]!, 'base64').toString().split(':');
    return u === user && p.join(':') === state.password;
  };
  const { server, port } = await listen((req, body, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (!authed(req)) return send(res, 401, { message: 'Invalid username or password' });
    if (req.method === 'GET' && url.pathname === '/api/user')
      return send(res, 200, { id: 1, login: user, isGrafanaAdmin: true });
    if (req.method === 'PUT' && url.pathname === '/api/user/password') {
      const cmd = JSON.parse(body) as { oldPassword?: string; newPassword?: string };
      if (cmd.oldPassword !== state.password) return send(res, 401, { message: 'Invalid old password' });
      if ((cmd.newPassword ?? '').length < 4) return send(res, 400, { message: 'New password is too short' });
      state.password = cmd.newPassword!;
      return send(res, 200, { message: 'User password changed' });
    }
    send(res, 404, { message: 'Not found' });
  });
  return { state, port, close: () => server.close() };
}

/** Nacos stand-in: user "nacos", login → token, PUT users with a token. */
async function nacosStandIn(password: string) {
  const state = { password, tokens: new Set<string>() };
  const { server, port } = await listen((req, body, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const params = new URLSearchParams(url.search);
    for (const [k, v] of new URLSearchParams(body)) params.set(k, v);
    if (req.method === 'POST' && url.pathname === '/nacos/v1/auth/login') {
      if (params.get('username') !== 'nacos' || params.get('password') !== state.password)
        return send(res, 403, 'user not found!');
      const accessToken = `eyJ.${randomUUID()}`;
      state.tokens.add(accessToken);
      return send(res, 200, { accessToken, tokenTtl: 18000, globalAdmin: true, username: 'nacos' });
    }
    if (req.method === 'PUT' && url.pathname === '/nacos/v1/auth/users') {
      if (!state.tokens.has(params.get('accessToken') ?? '')) return send(res, 403, 'authorization failed!');
      if (params.get('username') !== 'nacos') return send(res, 500, 'user not exist!');
      state.password = params.get('newPassword') ?? '';
      return send(res, 200, { code: 200, message: null, data: 'update user ok!' });
    }
    send(res, 404, 'not found');
  });
  return { state, port, close: () => server.close() };
}

const secretsOf = (file: string) =>
  JSON.parse(readFileSync(file, 'utf8')) as {
    credentials: Record<string, { current?: string; pending?: string; previous?: string }>;
  };

describe('kindling rotate: Grafana admin (grafana-admin) on a Grafana stand-in', () => {
  it('rotates the seed default admin/admin; old refused, new accepted; a SIGKILL after setSecret is resumed', async () => {
    for (const crash of [undefined, 'setSecret']) {
      const g = await grafanaStandIn('admin', 'admin');
      try {
        const file = join(dir, `g${++n}.json`);
        const args = [
          '--components',
          'grafana',
          '--endpoint',
          `grafana=http://admin:admin@127.0.0.1:${g.port}`,
          '--write-secrets',
          file,
        ];
        const runs = [];
        if (crash) {
          const killed = await rotate(args, { KINDLING_FAULT_ROTATE_AFTER: crash });
          expect(killed.signal, killed.out).toBe('SIGKILL');
          runs.push(killed);
          expect(g.state.password).toBe(secretsOf(file).credentials['grafana/admin']!.pending);
        }
        const run = await rotate(args);
        runs.push(run);
        expect(run.code, run.out).toBe(0);
        const c = secretsOf(file).credentials['grafana/admin']!;
        expect(g.state.password).toBe(c.current);
        expect(c.current).toMatch(/^[A-Za-z0-9]{32}$/);
        expect(c.previous).toBe('admin');
        for (const r of runs) expect(r.out).not.toContain(c.current!);
      } finally {
        g.close();
      }
    }
  });
});

describe('kindling rotate: Nacos user (nacos-user) on a Nacos 2.4.3 stand-in', () => {
  it('rotates nacos/nacos; a token issued before keeps working; a SIGKILL after setSecret is resumed', async () => {
    for (const crash of [undefined, 'setSecret']) {
      const s = await nacosStandIn('nacos');
      try {
        const before = await fetch(`http://127.0.0.1:${s.port}/nacos/v1/auth/login`, {
          method: 'POST',
          body: new URLSearchParams({ username: 'nacos', password: 'nacos' }),
        });
        const held = ((await before.json()) as { accessToken: string }).accessToken;
        const file = join(dir, `n${++n}.json`);
        const args = [
          '--components',
          'nacos',
          '--endpoint',
          `nacos=http://nacos:nacos@127.0.0.1:${s.port}`,
          '--write-secrets',
          file,
        ];
        const runs = [];
        if (crash) {
          const killed = await rotate(args, { KINDLING_FAULT_ROTATE_AFTER: crash });
          expect(killed.signal, killed.out).toBe('SIGKILL');
          runs.push(killed);
        }
        const run = await rotate(args);
        runs.push(run);
        expect(run.code, run.out).toBe(0);
        const c = secretsOf(file).credentials['nacos/nacos-user']!;
        expect(s.state.password).toBe(c.current);
        expect(c.previous).toBe('nacos');
        expect(s.state.tokens.has(held)).toBe(true);
        for (const r of runs) expect(r.out).not.toContain(c.current!);
      } finally {
        s.close();
      }
    }
  });
});

/**
 * Milvus stand-in: the RESTful v2 user endpoints with authorization on. A wrong or missing Bearer
 * token is HTTP 401 {"code":1800} (checkAuthorizationV2); update_password checks the old password.
 */
async function milvusStandIn(password: string) {
  const state = { password };
  const { server, port } = await listen((req, body, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
    if (bearer !== `root:${state.password}`)
      return send(res, 401, { code: 1800, message: "user hasn't authenticated" });
    const b = JSON.parse(body || '{}') as { userName?: string; password?: string; newPassword?: string };
    if (url.pathname === '/v2/vectordb/users/describe') return send(res, 200, { code: 0, data: [] });
    if (url.pathname === '/v2/vectordb/users/update_password') {
      if (b.userName !== 'root' || b.password !== state.password)
        return send(res, 200, { code: 1100, message: 'old password not correct' });
      state.password = b.newPassword ?? '';
      return send(res, 200, { code: 0, data: {} });
    }
    send(res, 404, { code: 404, message: 'not found' });
  });
  return { state, port, close: () => server.close() };
}

describe('kindling rotate: Milvus root (milvus-user) on a Milvus RESTful v2 stand-in', () => {
  it('rotates root/Milvus on the gRPC port; a SIGKILL after createSecret is resumed', async () => {
    for (const crash of [undefined, 'createSecret']) {
      const m = await milvusStandIn('Milvus');
      try {
        const file = join(dir, `m${++n}.json`);
        const args = [
          '--components',
          'milvus',
          '--endpoint',
          `milvus.grpc=http://root:Milvus@127.0.0.1:${m.port}`,
          '--write-secrets',
          file,
        ];
        const runs = [];
        if (crash) {
          const killed = await rotate(args, { KINDLING_FAULT_ROTATE_AFTER: crash });
          expect(killed.signal, killed.out).toBe('SIGKILL');
          expect(m.state.password).toBe('Milvus'); // nothing set yet
          runs.push(killed);
        }
        const run = await rotate(args);
        runs.push(run);
        expect(run.code, run.out).toBe(0);
        const c = secretsOf(file).credentials['milvus/root']!;
        expect(m.state.password).toBe(c.current);
        expect(c.previous).toBe('Milvus');
        for (const r of runs) for (const s of [c.current!, 'Milvus']) expect(r.out).not.toContain(s);
      } finally {
        m.close();
      }
    }
  });
});
