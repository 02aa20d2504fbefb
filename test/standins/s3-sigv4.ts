/**
 * STAND-IN (test infrastructure): MinIO's request authentication in front of s3rver. s3rver does
 * not check AWS Signature Version 4 (node_modules/s3rver/lib/middleware/authentication.js:
 * "Signature version 4 calculation is unimplemented"), so on s3rver alone a wrong secret is
 * accepted and an old key can never be shown refused. This front recomputes each request's SigV4
 * signature with the root credentials it was started with — read from MINIO_ROOT_USER /
 * MINIO_ROOT_PASSWORD like MinIO reads them at start (minio/minio cmd/common-main.go
 * loadRootCredentials) — and answers a mismatch as MinIO does, else proxies the request to
 * s3rver unchanged, streaming both ways.
 *
 * The signature is the one of the AWS doc "Create a signed AWS API request"
 * (docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv4-create-signed-request.html): canonical
 * request (method, URI path, sorted query, the SignedHeaders' values, the payload hash — here the
 * x-amz-content-sha256 value as sent, which is what S3 signs), string to sign with the credential
 * scope, HMAC chain over date/region/service. The math is @smithy/signature-v4's (the AWS SDK's own
 * signer, S3's `uriEscapePath: false`), not hand-written.
 *
 * Refusals, as minio/minio cmd/api-errors.go maps them (HTTP 403, S3 error XML):
 *  - InvalidAccessKeyId: the Credential's access key is not the root user;
 *  - SignatureDoesNotMatch: the signature differs (wrong secret, altered request);
 *  - RequestTimeTooSkewed: x-amz-date more than 15 minutes from now (cmd/signature-v4-utils.go);
 *  - AccessDenied: no credentials at all (MinIO grants anonymous access only by bucket policy,
 *    which this stand-in has none of).
 * Not modelled (answered 501 NotImplemented, so nothing passes unchecked): presigned (query-string)
 * authentication and Signature Version 2 — kindling signs every request with an Authorization
 * header. The per-chunk signatures of an `aws-chunked` body (STREAMING-AWS4-HMAC-SHA256-PAYLOAD)
 * are not checked; the seed signature over the headers is.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Sha256 } from '@smithy/core/checksum';
import { HttpRequest } from '@smithy/core/protocols';
import { SignatureV4 } from '@smithy/signature-v4';

export interface RootCredentials {
  user: string;
  password: string;
}

export interface SigV4FrontOptions {
  /** Where verified requests go (an s3rver URL). */
  upstream: string;
  /** Defaults to MINIO_ROOT_USER / MINIO_ROOT_PASSWORD of `env`. */
  credentials?: RootCredentials;
  env?: NodeJS.ProcessEnv;
  listen?: { host?: string; port?: number };
  /** Unauthenticated paths (MinIO's /minio/health/*) and where they go. */
  open?: { prefix: string; upstream: string };
}

export interface SigV4Front {
  url: string;
  port: number;
  /** Refusals so far, by code (for tests). */
  refused: Record<string, number>;
  stop: () => Promise<void>;
}

interface Refusal {
  status: number;
  code: string;
  message: string;
}

/** MinIO's limit on clock skew (cmd/signature-v4-utils.go: globalMaxSkewTime = 15 minutes). */
const MAX_SKEW_MS = 15 * 60 * 1000;

const AUTH_V4 =
  /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/;

export function rootCredentialsFromEnv(env: NodeJS.ProcessEnv = process.env): RootCredentials {
  const user = env.MINIO_ROOT_USER;
  const password = env.MINIO_ROOT_PASSWORD;
  // MinIO refuses to start with only one of the pair (cmd/common-main.go); its default is minioadmin
  if (!user !== !password) throw new Error('MINIO_ROOT_USER and MINIO_ROOT_PASSWORD must be set together');
  return { user: user ?? 'minioadmin', password: password ?? 'minioadmin' };
}

/** `20261201T180000Z` → Date (the x-amz-date basic ISO 8601 form), else undefined. */
function amzDate(text: string | undefined): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text ?? '');
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  return new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, s!));
}

const header = (req: IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
};

/** Undefined when the request is signed by `creds`, else MinIO's refusal. */
export async function checkSignature(
  req: IncomingMessage,
  creds: RootCredentials,
  now = new Date(),
): Promise<Refusal | undefined> {
  const raw = req.url ?? '/';
  const q = raw.indexOf('?');
  const path = q >= 0 ? raw.slice(0, q) : raw;
  const search = new URLSearchParams(q >= 0 ? raw.slice(q + 1) : '');
  const auth = header(req, 'authorization');
  if (search.has('X-Amz-Algorithm') || search.has('Signature') || auth?.startsWith('AWS '))
    return {
      status: 501,
      code: 'NotImplemented',
      message: 'stand-in: only Authorization-header Signature Version 4 is modelled',
    };
  if (!auth) return { status: 403, code: 'AccessDenied', message: 'Access Denied.' };
  const m = AUTH_V4.exec(auth);
  if (!m)
    return {
      status: 400,
      code: 'AuthorizationHeaderMalformed',
      message: 'The authorization header is malformed.',
    };
  const [, accessKey, day, region, service, signedList, signature] = m as unknown as string[];
  if (accessKey !== creds.user)
    return {
      status: 403,
      code: 'InvalidAccessKeyId',
      message: 'The Access Key Id you provided does not exist in our records.',
    };
  const date = amzDate(header(req, 'x-amz-date'));
  if (!date) return { status: 403, code: 'AccessDenied', message: 'A valid x-amz-date header is required.' };
  if (Math.abs(now.getTime() - date.getTime()) > MAX_SKEW_MS)
    return {
      status: 403,
      code: 'RequestTimeTooSkewed',
      message: "The difference between the request time and the server's time is too large.",
    };
  const signed = signedList!.split(';');
  const headers: Record<string, string> = {};
  for (const name of signed) {
    const v = header(req, name);
    if (v !== undefined) headers[name] = v;
  }
  const query: Record<string, string | string[]> = {};
  for (const key of new Set(search.keys())) {
    const all = search.getAll(key);
    query[key] = all.length === 1 ? all[0]! : all;
  }
  const [host, port] = (header(req, 'host') ?? '').split(':');
  const signer = new SignatureV4({
    credentials: { accessKeyId: creds.user, secretAccessKey: creds.password },
    region: region!,
    service: service!,
    sha256: Sha256,
    // S3 signs the path as sent (no second encoding); the payload hash is the header's value
    uriEscapePath: false,
    applyChecksum: false,
  });
  const mine = await signer.sign(
    new HttpRequest({
      method: req.method ?? 'GET',
      protocol: 'http:',
      hostname: host ?? '',
      ...(port ? { port: Number(port) } : {}),
      path,
      query,
      headers,
    }),
    { signingDate: date, signableHeaders: new Set(signed), signingRegion: region, signingService: service },
  );
  const expected = /Signature=([0-9a-f]{64})$/.exec(String(mine.headers.authorization))?.[1] ?? '';
  const scopeDay = date.toISOString().slice(0, 10).replace(/-/g, '');
  const same =
    scopeDay === day &&
    expected.length === signature!.length &&
    timingSafeEqual(Buffer.from(expected), Buffer.from(signature!));
  return same
    ? undefined
    : {
        status: 403,
        code: 'SignatureDoesNotMatch',
        message: 'The request signature we calculated does not match the signature you provided.',
      };
}

/** S3's error document (docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html), as MinIO writes it. */
function refuse(res: ServerResponse, path: string, r: Refusal): void {
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const id = randomBytes(8).toString('hex').toUpperCase();
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${r.code}</Code><Message>${esc(r.message)}</Message><Resource>${esc(path)}</Resource><RequestId>${id}</RequestId><HostId>${id}</HostId></Error>`;
  res.writeHead(r.status, {
    'content-type': 'application/xml',
    'content-length': Buffer.byteLength(body),
    'x-amz-request-id': id,
  });
  res.end(body);
}

function proxy(req: IncomingMessage, res: ServerResponse, upstream: string): void {
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
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  req.pipe(up);
}

export async function startSigV4Front(o: SigV4FrontOptions): Promise<SigV4Front> {
  const creds = o.credentials ?? rootCredentialsFromEnv(o.env);
  const refused: Record<string, number> = {};
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (o.open && path.startsWith(o.open.prefix)) return proxy(req, res, o.open.upstream);
    checkSignature(req, creds).then(
      (r) => {
        if (!r) return proxy(req, res, o.upstream);
        refused[r.code] = (refused[r.code] ?? 0) + 1;
        // the body is not read: drop it rather than let it stall the socket
        req.resume();
        refuse(res, path, r);
      },
      (err) => {
        req.resume();
        refuse(res, path, { status: 500, code: 'InternalError', message: String(err) });
      },
    );
  });
  await new Promise<void>((r) => server.listen(o.listen?.port ?? 0, o.listen?.host ?? '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    refused,
    stop: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/**
 * s3rver over `dir` behind the SigV4 front: a MinIO-like S3 endpoint whose root credentials are
 * `credentials` (default: MINIO_ROOT_USER / MINIO_ROOT_PASSWORD of `env`).
 */
export async function startSignedS3(o: {
  dir: string;
  credentials?: RootCredentials;
  env?: NodeJS.ProcessEnv;
  listen?: { host?: string; port?: number };
  innerPort?: number;
  open?: SigV4FrontOptions['open'];
}): Promise<SigV4Front & { s3rverPort: number }> {
  const creds = o.credentials ?? rootCredentialsFromEnv(o.env);
  mkdirSync(o.dir, { recursive: true });
  const pkg = 's3rver'; // untyped package
  const { default: S3rver } = await import(pkg);
  // s3rver checks the access key exists (its own S3RVER pair otherwise); the front checks the rest
  const accountModule = 's3rver/lib/models/account.js';
  const { default: account } = await import(accountModule);
  account.DUMMY_ACCOUNT.createKeyPair(creds.user, creds.password);
  const inner = new S3rver({ port: o.innerPort ?? 0, address: '127.0.0.1', directory: o.dir, silent: true });
  const addr = (await inner.run()) as AddressInfo;
  const front = await startSigV4Front({
    upstream: `http://127.0.0.1:${addr.port}`,
    credentials: creds,
    ...(o.listen ? { listen: o.listen } : {}),
    ...(o.open ? { open: o.open } : {}),
  });
  return {
    ...front,
    s3rverPort: addr.port,
    stop: async () => {
      await front.stop();
      await inner.close();
    },
  };
}
