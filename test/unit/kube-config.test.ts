// Loading a kubeconfig: no kubeconfig anywhere must be a usage error naming the ways out, not
// client-node's silent fallback to http://localhost:8080 (kubernetes-client/javascript src/config.ts
// loadFromDefault → loadFromClusterAndUser).
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadKubeConfig } from '../../src/kube/config.ts';
import { ExitCode, exitCodeOf } from '../../src/util/errors.ts';

const saved = { HOME: process.env.HOME, KUBECONFIG: process.env.KUBECONFIG };
afterEach(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});
const kubeconfig = (server: string) =>
  [
    'apiVersion: v1',
    'kind: Config',
    `clusters: [{name: c, cluster: {server: "${server}"}}]`,
    'users: [{name: u, user: {token: t}}]',
    'contexts: [{name: x, context: {cluster: c, user: u}}]',
    'current-context: x',
  ].join('\n');

describe('loadKubeConfig', () => {
  it('no --kubeconfig, no KUBECONFIG, no ~/.kube/config: exit 2 naming --kubeconfig, KUBECONFIG and --target local', () => {
    // the in-cluster service-account token would be a fourth, legitimate source: not on this machine
    expect(existsSync('/var/run/secrets/kubernetes.io/serviceaccount/token')).toBe(false);
    process.env.HOME = mkdtempSync(join(tmpdir(), 'kindling-home-'));
    delete process.env.KUBECONFIG;
    let err: unknown;
    try {
      loadKubeConfig({});
    } catch (e) {
      err = e;
    }
    expect(exitCodeOf(err)).toBe(ExitCode.Usage);
    const message = (err as Error).message;
    expect(message).toMatch(/no kubeconfig/);
    for (const way of ['--kubeconfig', 'KUBECONFIG', '--target local']) expect(message).toContain(way);
    expect(message).not.toMatch(/localhost:8080/);
  });
  it('~/.kube/config and KUBECONFIG are still found (a real http://localhost:8080 server in a file is kept)', () => {
    const home = mkdtempSync(join(tmpdir(), 'kindling-home-'));
    process.env.HOME = home;
    delete process.env.KUBECONFIG;
    mkdirSync(join(home, '.kube'));
    writeFileSync(join(home, '.kube', 'config'), kubeconfig('https://10.0.0.1:6443'));
    expect(loadKubeConfig({}).getCurrentCluster()?.server).toBe('https://10.0.0.1:6443');
    const file = join(home, 'other');
    writeFileSync(file, kubeconfig('http://localhost:8080'));
    process.env.KUBECONFIG = file;
    expect(loadKubeConfig({}).getCurrentCluster()?.server).toBe('http://localhost:8080');
  });
  it('KUBECONFIG naming a missing file says so, naming the variable', () => {
    process.env.KUBECONFIG = '/nonexistent/kubeconfig';
    expect(() => loadKubeConfig({})).toThrow(/KUBECONFIG \(\/nonexistent\/kubeconfig\): no such file/);
  });
});
