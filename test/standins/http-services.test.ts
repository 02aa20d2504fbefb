import { afterAll, describe, expect, it } from 'vitest';
import { memoryAccounts, type StandIn, startStandIn } from './http-services.ts';

// The stand-ins answer what readiness.md documents for the real endpoints, in each state.
describe('HTTP stand-ins (for services that cannot run here)', () => {
  const started: StandIn[] = [];
  afterAll(async () => Promise.all(started.map((s) => s.stop())));
  const get = async (s: StandIn, path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${s.url}${path}`, { headers });
    return { status: res.status, body: await res.text() };
  };
  const start = async (...args: Parameters<typeof startStandIn>) => {
    const s = await startStandIn(...args);
    started.push(s);
    return s;
  };

  it('Nacos stand-in: readiness OK, or 500 "not in readiness" while starting', async () => {
    const s = await start('nacos');
    expect(await get(s, '/nacos/v1/console/health/readiness')).toEqual({ status: 200, body: 'OK' });
    s.setState('starting');
    expect(await get(s, '/nacos/v1/console/health/readiness')).toEqual({
      status: 500,
      body: 'Config and Naming are not in readiness',
    });
  });

  it('Milvus stand-in: /healthz OK (JSON with the JSON content type); 500 when components are unhealthy', async () => {
    const s = await start('milvus');
    expect(await get(s, '/healthz')).toEqual({ status: 200, body: 'OK' });
    expect(await get(s, '/healthz', { 'content-type': 'application/json' })).toEqual({
      status: 200,
      body: '{"state":"OK"}',
    });
    s.setState('starting');
    expect(await get(s, '/healthz')).toEqual({ status: 500, body: 'Not all components are healthy' });
  });

  it('Elasticsearch stand-in: yellow 200; red waits for `timeout` then 408 timed_out', async () => {
    const s = await start('elasticsearch');
    const ok = await get(s, '/_cluster/health?wait_for_status=yellow&timeout=50ms');
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toMatchObject({ status: 'yellow', timed_out: false });
    s.setState('starting');
    const t0 = performance.now();
    const red = await get(s, '/_cluster/health?wait_for_status=yellow&timeout=200ms');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(190);
    expect(red.status).toBe(408);
    expect(JSON.parse(red.body)).toMatchObject({ status: 'red', timed_out: true });
  });

  it('Grafana stand-in: /api/health database ok; data sources need basic auth', async () => {
    const s = await start('grafana', { credentials: { username: 'admin', password: 'pw' } });
    expect(JSON.parse((await get(s, '/api/health')).body)).toMatchObject({ database: 'ok' });
    expect((await get(s, '/api/datasources/name/Prometheus')).status).toBe(401);
    const basic = { authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}` };
    const ds = await get(s, '/api/datasources/name/Prometheus', basic);
    expect(ds.status).toBe(200);
    expect(JSON.parse(ds.body)).toMatchObject({ name: 'Prometheus', type: 'prometheus' });
    s.setState('starting');
    expect((await get(s, '/api/health')).status).toBe(503);
  });

  it('account APIs rotation uses: Nacos PUT /v1/auth/users needs a token; Milvus update_password checks the old one and the length; Grafana PUT /api/user/password; the old password refused after each change', async () => {
    const call = async (url: string, init: RequestInit = {}) => {
      const r = await fetch(url, init);
      return { status: r.status, body: await r.text() };
    };
    const n = await start('nacos', { credentials: { username: 'nacos', password: 'old-pw' } });
    const form = (o: Record<string, string>) => ({
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(o).toString(),
    });
    const login = await call(`${n.url}/nacos/v1/auth/login`, form({ username: 'nacos', password: 'old-pw' }));
    const token = JSON.parse(login.body).accessToken as string;
    expect(
      (
        await call(`${n.url}/nacos/v1/auth/users?username=nacos&newPassword=new-pw&accessToken=forged`, {
          method: 'PUT',
        })
      ).status,
    ).toBe(403);
    expect(
      await call(`${n.url}/nacos/v1/auth/users?username=nacos&newPassword=new-pw&accessToken=${token}`, {
        method: 'PUT',
      }),
    ).toEqual({ status: 200, body: '{"code":200,"message":null,"data":"update user ok!"}' });
    expect(
      (await call(`${n.url}/nacos/v1/auth/login`, form({ username: 'nacos', password: 'old-pw' }))).status,
    ).toBe(403);
    expect(
      (await call(`${n.url}/nacos/v1/auth/login`, form({ username: 'nacos', password: 'new-pw' }))).status,
    ).toBe(200);

    const m = await start('milvus', { accounts: memoryAccounts({ username: 'root', password: 'Milvus' }) });
    const mv = (auth: string, path: string, body: object) =>
      call(`http://127.0.0.1:${m.grpcPort}/v2/vectordb/users/${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${auth}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await mv('root:wrong', 'describe', { userName: 'root' })).status).toBe(401);
    expect(
      JSON.parse(
        (
          await mv('root:Milvus', 'update_password', {
            userName: 'root',
            password: 'x',
            newPassword: 'long-enough',
          })
        ).body,
      ).code,
    ).toBe(1100);
    expect(
      JSON.parse(
        (
          await mv('root:Milvus', 'update_password', {
            userName: 'root',
            password: 'Milvus',
            newPassword: 'short',
          })
        ).body,
      ).code,
    ).toBe(1100);
    expect(
      JSON.parse(
        (
          await mv('root:Milvus', 'update_password', {
            userName: 'root',
            password: 'Milvus',
            newPassword: 'long-enough',
          })
        ).body,
      ).code,
    ).toBe(0);
    expect((await mv('root:Milvus', 'describe', { userName: 'root' })).status).toBe(401);
    expect(JSON.parse((await mv('root:long-enough', 'describe', { userName: 'root' })).body).code).toBe(0);

    const g = await start('grafana', { credentials: { username: 'admin', password: 'admin' } });
    const basic = (pw: string) => ({
      authorization: `Basic ${Buffer.from(`admin:${pw}`).toString('base64')}`,
    });
    const change = (pw: string, body: object) =>
      call(`${g.url}/api/user/password`, {
        method: 'PUT',
        headers: { ...basic(pw), 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect(
      (await change('admin', { oldPassword: 'nope', newPassword: 'abcd', confirmNew: 'abcd' })).status,
    ).toBe(401);
    expect(
      (await change('admin', { oldPassword: 'admin', newPassword: 'abc', confirmNew: 'abc' })).status,
    ).toBe(400);
    expect(
      await change('admin', { oldPassword: 'admin', newPassword: 'rotated', confirmNew: 'rotated' }),
    ).toEqual({
      status: 200,
      body: '{"message":"User password changed"}',
    });
    expect((await call(`${g.url}/api/user`, { headers: basic('admin') })).status).toBe(401);
    expect((await call(`${g.url}/api/user`, { headers: basic('rotated') })).status).toBe(200);
  });

  it('Jaeger, kafka-ui and MinIO health stand-ins', async () => {
    const j = await start('jaeger');
    expect(JSON.parse((await get(j, '/api/services')).body).data).toEqual(expect.any(Array));
    const k = await start('kafka-ui');
    expect(await get(k, '/actuator/health')).toEqual({ status: 200, body: '{"status":"UP"}' });
    k.setState('starting');
    expect(await get(k, '/actuator/health')).toEqual({ status: 503, body: '{"status":"DOWN"}' });
    const m = await start('minio', { state: 'starting' });
    expect((await get(m, '/minio/health/live')).status).toBe(200);
    expect((await get(m, '/minio/health/ready')).status).toBe(503);
    m.setState('ready', 50);
    await new Promise((r) => setTimeout(r, 80));
    expect((await get(m, '/minio/health/ready')).status).toBe(200);
  });
});
