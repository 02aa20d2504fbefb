/**
 * Test-only PKI, generated at test time with the `openssl` CLI (nothing committed): a CA, a server
 * certificate for 127.0.0.1 and a client certificate — the shape of a kind cluster's credentials
 * (kind's kubeadm-made CA; the admin client certificate with `O=kubeadm:cluster-admins` /
 * `system:masters`, handed out as certificate-authority-data, client-certificate-data and
 * client-key-data in `kind get kubeconfig`).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPki {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A second, unrelated CA: the "wrong CA" of a stale kubeconfig. */
  otherCa: string;
}

let cached: TestPki | undefined;

export function testPki(): TestPki {
  if (cached) return cached;
  const dir = mkdtempSync(join(tmpdir(), 'kindling-pki-'));
  const f = (n: string) => join(dir, n);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  for (const name of ['ca', 'other-ca'])
    ssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=${name === 'ca' ? 'kubernetes' : 'someone-else'}`,
      '-keyout',
      f(`${name}.key`),
      '-out',
      f(`${name}.crt`),
    );
  writeFileSync(f('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  writeFileSync(f('client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const [name, subj] of [
    ['server', '/CN=kube-apiserver'],
    ['client', '/O=kubeadm:cluster-admins/CN=kubernetes-admin'],
  ] as const) {
    ssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      subj,
      '-keyout',
      f(`${name}.key`),
      '-out',
      f(`${name}.csr`),
    );
    ssl(
      'x509',
      '-req',
      '-in',
      f(`${name}.csr`),
      '-CA',
      f('ca.crt'),
      '-CAkey',
      f('ca.key'),
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      f(`${name}.ext`),
      '-out',
      f(`${name}.crt`),
    );
  }
  const read = (n: string) => readFileSync(f(n), 'utf8');
  cached = {
    ca: read('ca.crt'),
    serverCert: read('server.crt'),
    serverKey: read('server.key'),
    clientCert: read('client.crt'),
    clientKey: read('client.key'),
    otherCa: read('other-ca.crt'),
  };
  return cached;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** A kubeconfig as `kind get kubeconfig` writes it: CA and client certificate inline, no token. */
export function kindStyleKubeconfig(server: string, pki: TestPki, opts: { ca?: string } = {}): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- cluster:',
    `    certificate-authority-data: ${b64(opts.ca ?? pki.ca)}`,
    `    server: ${server}`,
    '  name: kind-kindling',
    'contexts:',
    '- context:',
    '    cluster: kind-kindling',
    '    user: kind-kindling',
    '  name: kind-kindling',
    'current-context: kind-kindling',
    'preferences: {}',
    'users:',
    '- name: kind-kindling',
    '  user:',
    `    client-certificate-data: ${b64(pki.clientCert)}`,
    `    client-key-data: ${b64(pki.clientKey)}`,
  ].join('\n');
}
