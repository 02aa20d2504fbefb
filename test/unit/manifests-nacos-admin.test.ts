/**
 * Issue #11 item 3: Nacos 2.4 inserts no user (alibaba/nacos #11991), so the Job nacos-admin-init sets
 * the admin password from nacos-secret, and the catalog check nacos/admin-login logs in with the same
 * Secret. The Job's own script (from the rendered manifests, both sizings) runs here with sh and curl
 * against the Nacos stand-in, which answers the 2.4.3 account API (test/standins/http-services.ts).
 */
import { spawn } from 'node:child_process';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadStack } from '../../src/catalog/index.ts';
import type { KubeObject } from '../../src/manifests/render.ts';
import { renderSizing } from '../../src/manifests/render.ts';
import { httpProbe } from '../../src/probes/http.ts';
import { type StandIn, startStandIn } from '../standins/http-services.ts';

const stack = loadStack('manifests/stack.yaml');
const nacos = stack.components.nacos!;
type Container = {
  name: string;
  command: string[];
  env: { name: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
};
const jobContainer = (objects: KubeObject[]): Container => {
  const job = objects.find((o) => o.kind === 'Job' && o.metadata.name === 'nacos-admin-init');
  if (!job) throw new Error('no Job nacos-admin-init');
  return (job.spec as { template: { spec: { containers: Container[] } } }).template.spec.containers[0]!;
};

let rendered: Record<'kind' | 'production', KubeObject[]>;
beforeAll(async () => {
  rendered = {
    kind: await renderSizing(stack, 'kind'),
    production: await renderSizing(stack, 'production'),
  };
}, 60_000);
let standIn: StandIn | undefined;
afterEach(async () => {
  await standIn?.stop();
  standIn = undefined;
});

/** Runs the Job's script with its base URL pointed at the stand-in (async: the stand-in is in this process). */
function runJob(c: Container, url: string, env: Record<string, string>) {
  const script = c.command[2]!.replaceAll('http://nacos:8848', url);
  expect(c.command.slice(0, 2)).toEqual(['sh', '-c']);
  const child = spawn('sh', ['-c', script], { env: { PATH: process.env.PATH, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += String(d);
  });
  child.stderr.on('data', (d) => {
    stderr += String(d);
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    }),
  );
}
const login = (url: string) =>
  httpProbe.run({
    check: nacos.checks.find((c) => c.name === 'admin-login')!,
    url: new URL(url),
    signal: new AbortController().signal,
    timeoutMs: 5000,
    namespace: 'test',
    component: { name: 'test' },
  } as unknown as Parameters<typeof httpProbe.run>[0]);

describe('the Nacos admin account: set once from the Secret, then the catalog check logs in with it', () => {
  it('the Job and the catalog endpoint read the same Secret keys, and the Job runs in component nacos', () => {
    for (const profile of ['kind', 'production'] as const) {
      const c = jobContainer(rendered[profile]);
      const ref = (n: string) => c.env.find((e) => e.name === n)?.valueFrom?.secretKeyRef;
      const ep = nacos.endpoints[0]!;
      expect(ref('NACOS_PASSWORD')).toEqual({ name: 'nacos-secret', key: 'NACOS_PASSWORD' });
      expect(ep.password).toEqual({ secret: 'nacos-secret', key: 'NACOS_PASSWORD' });
      expect(ep.username).toEqual({ secret: 'nacos-secret', key: ref('NACOS_USERNAME')!.key });
    }
    expect(nacos.workloads).toContainEqual({ kind: 'Job', name: 'nacos-admin-init' });
  });

  it('on a fresh Nacos (no user): the login check fails, the Job creates the admin, then the login passes; the password is never printed', async () => {
    standIn = await startStandIn('nacos');
    const creds = `http://nacos:S3cret-pw@${new URL(standIn.url).host}`;
    expect(await login(creds)).toMatchObject({ kind: 'fail', reason: 'auth' });
    const r = await runJob(jobContainer(rendered.kind), standIn.url, {
      NACOS_USERNAME: 'nacos',
      NACOS_PASSWORD: 'S3cret-pw',
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/initialised from nacos-secret/);
    expect(`${r.stdout}${r.stderr}`).not.toContain('S3cret-pw');
    expect(standIn.requests).toContain('POST /nacos/v1/auth/users/admin');
    expect((await login(creds)).kind).toBe('pass');
  });

  it('re-running the Job is harmless (409: the admin exists), and a wrong Secret password fails the login check', async () => {
    standIn = await startStandIn('nacos', { credentials: { username: 'nacos', password: 'the-old-one' } });
    const r = await runJob(jobContainer(rendered.production), standIn.url, {
      NACOS_USERNAME: 'nacos',
      NACOS_PASSWORD: 'new-pw',
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/exists already/);
    expect(await login(`http://nacos:new-pw@${new URL(standIn.url).host}`)).toMatchObject({
      kind: 'fail',
      reason: 'auth',
    });
  });

  it('refuses another username (the API only creates "nacos"), naming the key', async () => {
    standIn = await startStandIn('nacos');
    const r = await runJob(jobContainer(rendered.kind), standIn.url, {
      NACOS_USERNAME: 'admin',
      NACOS_PASSWORD: 'x',
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/NACOS_USERNAME must be "nacos"/);
    expect(standIn.requests).toEqual([]);
  });
});
