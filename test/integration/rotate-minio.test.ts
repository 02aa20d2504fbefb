/**
 * `kindling rotate` of MinIO's root credentials (minio-root) on target local, against MinIO's
 * request authentication STAND-IN (test/standins/s3-sigv4.ts: SigV4 checked with the root
 * credentials read from MINIO_ROOT_USER / MINIO_ROOT_PASSWORD at start, in front of a real s3rver;
 * no MinIO server runs on this platform). MinIO reads its root credentials only at start
 * (minio/minio cmd/common-main.go loadRootCredentials), so the flow is two runs: the first makes
 * the pending credential and stops at setSecret telling the operator what to do (exit 1); the
 * operator restarts MinIO with it; the same command again finds it accepted and finishes, the old
 * key refused (SignatureDoesNotMatch). A SIGKILL after any step leaves a working key and state the
 * next run resumes from. The CLI runs as its own process; no output holds either password.
 */
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import type { Step } from '../../src/rotate/types.ts';
import { tempDir } from '../harness/services.ts';
import { type SigV4Front, startSignedS3 } from '../standins/s3-sigv4.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const dir = tempDir('rotate-minio');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const USER = 'minioadmin';
const SEED = 'minioadmin123';
let n = 0;

interface Run {
  code: number | null;
  signal: string | null;
  out: string;
}

function rotate(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
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

/** A MinIO-like server started with these root credentials in its environment, on `port` (0: any). */
const startMinio = (data: string, password: string, port = 0) =>
  startSignedS3({
    dir: data,
    env: { MINIO_ROOT_USER: USER, MINIO_ROOT_PASSWORD: password },
    listen: { port },
  });

const login = async (s3: SigV4Front, password: string) => {
  const c = new S3Client({
    endpoint: s3.url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: USER, secretAccessKey: password },
    maxAttempts: 1,
  });
  try {
    await c.send(new ListBucketsCommand({}));
    return 'accepted';
  } catch (err) {
    return (err as { Code?: string }).Code ?? String(err);
  } finally {
    c.destroy();
  }
};

type Cred = { current?: string; pending?: string; previous?: string; step?: Step; user: string };
const credOf = (file: string) =>
  (JSON.parse(readFileSync(file, 'utf8')) as { credentials: Record<string, Cred> }).credentials[
    'minio/root'
  ]!;

describe('kindling rotate: MinIO root (minio-root) on target local, MinIO authentication stand-in (SigV4 over s3rver)', () => {
  it('run 1 stops at setSecret with the operator step (exit 1); after the operator restarts MinIO with the pending key, run 2 finishes: new accepted, old SignatureDoesNotMatch', async () => {
    const data = join(dir, `d${++n}`);
    let s3 = await startMinio(data, SEED);
    const file = join(dir, `s${n}.json`);
    const args = [
      '--components',
      'minio',
      '--endpoint',
      `minio=http://${USER}:${SEED}@127.0.0.1:${s3.port}`,
      '--write-secrets',
      file,
    ];
    try {
      const first = await rotate(args);
      expect(first.code, first.out).toBe(1);
      const jq = `jq -r '.credentials["minio/root"].pending' ${file}`;
      expect(first.out).toContain('MinIO reads its root credentials only at start');
      expect(first.out).toContain(jq);
      expect(first.out).toContain('MINIO_ROOT_PASSWORD');
      const c1 = credOf(file);
      expect(c1).toMatchObject({ current: SEED, step: 'createSecret', user: USER });
      expect(c1.pending).toMatch(/^[A-Za-z0-9]{32}$/);
      // the message's own jq line reads the pending key from the file
      const pending = execFileSync('sh', ['-c', jq], { encoding: 'utf8' }).trim();
      expect(pending).toBe(c1.pending);
      expect(await login(s3, SEED)).toBe('accepted'); // nothing changed in the service

      // the operator restarts MinIO with the pending credential
      const port = s3.port;
      await s3.stop();
      s3 = await startMinio(data, pending, port);
      expect(await login(s3, SEED)).toBe('SignatureDoesNotMatch');

      const second = await rotate(args);
      expect(second.code, second.out).toBe(0);
      expect(second.out).toMatch(
        /minio\/root: rotated \(resumed\) \[setSecret → testSecret → finishSecret\]/,
      );
      expect(second.out).toContain('new credential accepted, old one rejected');
      const c2 = credOf(file);
      expect(c2).toMatchObject({ current: pending, previous: SEED, step: 'finishSecret', user: USER });
      expect(c2.pending).toBeUndefined();
      expect(await login(s3, pending)).toBe('accepted');
      expect(await login(s3, SEED)).toBe('SignatureDoesNotMatch');
      for (const r of [first, second]) for (const p of [SEED, pending]) expect(r.out).not.toContain(p);
    } finally {
      await s3.stop();
    }
  });

  it('a SIGKILL after each step leaves a key MinIO accepts and a state the next run resumes from', async () => {
    for (const crash of ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const) {
      const data = join(dir, `d${++n}`);
      let s3 = await startMinio(data, SEED);
      const file = join(dir, `s${n}.json`);
      const args = [
        '--components',
        'minio',
        '--endpoint',
        `minio=http://${USER}:${SEED}@127.0.0.1:${s3.port}`,
        '--write-secrets',
        file,
      ];
      const runs: Run[] = [];
      const fault = { KINDLING_FAULT_ROTATE_AFTER: crash };
      try {
        const operatorRestart = async () => {
          const port = s3.port;
          await s3.stop();
          s3 = await startMinio(data, credOf(file).pending!, port);
        };
        if (crash === 'createSecret') {
          const killed = await rotate(args, fault);
          runs.push(killed);
          expect(killed.signal, killed.out).toBe('SIGKILL');
          expect(await login(s3, credOf(file).current!)).toBe('accepted');
          const again = await rotate(args); // resumes: the same pending, the operator step again
          runs.push(again);
          expect(again.code, again.out).toBe(1);
          expect(again.out).toContain('restart the MinIO');
        } else {
          const first = await rotate(args);
          runs.push(first);
          expect(first.code, first.out).toBe(1);
        }
        const pending = credOf(file).pending!;
        await operatorRestart();
        if (crash !== 'createSecret') {
          const killed = await rotate(args, fault);
          runs.push(killed);
          expect(killed.signal, `${crash}: ${killed.out}`).toBe('SIGKILL');
          const c = credOf(file);
          expect(c.step).toBe(crash);
          // the key the file says is in force (pending until finished, then current) is MinIO's
          expect(await login(s3, crash === 'finishSecret' ? c.current! : c.pending!)).toBe('accepted');
        }
        if (crash !== 'finishSecret') {
          const last = await rotate(args);
          runs.push(last);
          expect(last.code, `${crash}: ${last.out}`).toBe(0);
          expect(last.out).toContain('new credential accepted, old one rejected');
        }
        const c = credOf(file);
        expect(c).toMatchObject({ current: pending, previous: SEED, step: 'finishSecret' });
        expect(c.pending).toBeUndefined();
        expect(await login(s3, pending)).toBe('accepted');
        expect(await login(s3, SEED)).toBe('SignatureDoesNotMatch');
        for (const r of runs) for (const p of [SEED, pending]) expect(r.out, crash).not.toContain(p);
      } finally {
        await s3.stop();
      }
    }
  });

  it('an unreachable MinIO is a failed rotation naming the endpoint (exit 1, no hang, no secret)', async () => {
    const s3 = await startMinio(join(dir, `d${++n}`), SEED);
    const port = s3.port;
    await s3.stop();
    const started = Date.now();
    const r = await rotate([
      '--components',
      'minio',
      '--endpoint',
      `minio=http://${USER}:${SEED}@127.0.0.1:${port}`,
      '--write-secrets',
      join(dir, `s${n}.json`),
    ]);
    expect(r.code, r.out).toBe(1);
    expect(r.out).toContain(`MinIO at http://127.0.0.1:${port}`);
    expect(r.out).not.toContain(SEED);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('a MinIO that accepts the connection and never answers is a failed rotation within the deadline (exit 1, no hang, no secret)', async () => {
    const held: Socket[] = [];
    const silent = createServer((sock) => held.push(sock.on('error', () => {})));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    try {
      const started = Date.now();
      const r = await rotate([
        '--components',
        'minio',
        '--endpoint',
        `minio=http://${USER}:${SEED}@127.0.0.1:${port}`,
        '--write-secrets',
        join(dir, `s${++n}.json`),
      ]);
      expect(r.code, r.out).toBe(1);
      expect(r.out).toContain(`MinIO at http://127.0.0.1:${port}`);
      expect(r.out).not.toContain(SEED);
      // --timeout 5s bounds the one ListBuckets attempt
      expect(Date.now() - started).toBeLessThan(15_000);
    } finally {
      for (const s of held) s.destroy();
      silent.close();
    }
  });
});
