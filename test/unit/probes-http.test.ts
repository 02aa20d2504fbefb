import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { httpProbe, httpRequest } from '../../src/probes/http.ts';

// `auth: form`: a login API takes the credentials as a POSTed form (Nacos 2.4 POST /nacos/v1/auth/login
// reads the username/password request parameters: alibaba/nacos 2.4.3 UserController.login,
// AbstractAuthenticationManager.authenticate).
describe('http checks: auth: form posts the endpoint credentials', () => {
  const check = { name: 'login', type: 'http', path: '/nacos/v1/auth/login', auth: 'form' };
  it('builds a POST with a urlencoded username/password body and no Basic header', () => {
    const req = httpRequest(check, new URL('http://nacos:p%40ss%26w0rd@127.0.0.1:8848'));
    expect(req).toEqual({
      target: new URL('http://127.0.0.1:8848/nacos/v1/auth/login'),
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'username=nacos&password=p%40ss%26w0rd',
    });
  });
  it('is an auth failure when the endpoint has no credentials; basic stays the default otherwise', () => {
    expect(httpRequest(check, new URL('http://127.0.0.1:8848'))).toMatchObject({
      kind: 'fail',
      reason: 'auth',
    });
    const basic = httpRequest({ name: 'x', type: 'http' }, new URL('http://a:b@127.0.0.1:1/'));
    expect(basic).toMatchObject({ method: 'GET', headers: { authorization: `Basic ${btoa('a:b')}` } });
  });
  it('refuses another method with auth: form', () => {
    const problems = httpProbe.validate({ ...check, method: 'GET' });
    expect(problems).toEqual([
      { path: ['method'], message: 'auth: form posts the credentials: method must be POST' },
    ]);
  });
  it('sends the form over the wire (a local echo server records the request)', async () => {
    let seen = '';
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => {
        body += d;
      });
      req.on('end', () => {
        seen = `${req.method} ${req.url} ${req.headers['content-type']} ${body}`;
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end('{"accessToken":"t","tokenTtl":18000}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as AddressInfo;
      const outcome = await httpProbe.run({
        check: { ...check, expect: { status: 200, json: { accessToken: { type: 'string' } } } },
        url: new URL(`http://nacos:secret@127.0.0.1:${port}`),
        signal: new AbortController().signal,
        timeoutMs: 5000,
        namespace: 'test',
        component: { name: 'test' },
      } as unknown as Parameters<typeof httpProbe.run>[0]);
      expect(outcome.kind).toBe('pass');
      expect(seen).toBe(
        'POST /nacos/v1/auth/login application/x-www-form-urlencoded username=nacos&password=secret',
      );
    } finally {
      server.close();
    }
  });
});
