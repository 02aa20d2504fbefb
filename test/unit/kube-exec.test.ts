// KubeCluster.exec against the stand-in of the API server's exec subresource (real WebSocket
// channel protocol, commands run as local processes).
import { createHash } from 'node:crypto';
import { PassThrough, Readable, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeCluster } from '../../src/kube/cluster.ts';
import { execOutcome } from '../../src/kube/exec-status.ts';
import { KubeApiStandin } from '../standins/kube-api.ts';
import { type ExecMode, KubeWsStandin, V1, V4, V5 } from '../standins/kube-ws.ts';

const NS = 'demo';
const MODES: Record<string, ExecMode> = {
  'mute-0': 'close-without-status',
  'drop-0': 'drop',
  'wedged-0': 'hang',
  'quick-0': 'instant',
};

function pod(name: string, containers = ['app'], annotations?: Record<string, string>) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, ...(annotations ? { annotations } : {}) },
    spec: { containers: containers.map((c) => ({ name: c, image: 'busybox' })) },
  };
}

function collect() {
  const chunks: Buffer[] = [];
  const stream = new PassThrough();
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

async function startStandin(execProtocols?: string[]) {
  const api = await new KubeApiStandin().start();
  api.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  for (const name of ['app-0', ...Object.keys(MODES)]) api.put(pod(name));
  api.put(pod('multi-0', ['main', 'sidecar'], { 'kubectl.kubernetes.io/default-container': 'sidecar' }));
  const ws = await new KubeWsStandin(api, {
    ...(execProtocols ? { execProtocols } : {}),
    execMode: (call) => MODES[call.pod] ?? 'run',
  }).start();
  return { api, ws, cluster: new KubeCluster(ws.kubeConfig()) };
}

describe('KubeCluster.exec over the stand-in exec WebSocket API', () => {
  let s: Awaited<ReturnType<typeof startStandin>>;
  beforeAll(async () => {
    s = await startStandin();
  });
  afterAll(async () => {
    await s.ws.stop();
    await s.api.stop();
  });

  it('streams stdout and stderr; exit 0 is Success (v5 negotiated, the argv as repeated command=)', async () => {
    const out = collect();
    const err = collect();
    const r = await s.cluster.exec({
      namespace: NS,
      pod: 'app-0',
      command: ['sh', '-c', 'echo "out $0"; echo err >&2', 'a b'],
      stdout: out.stream,
      stderr: err.stream,
    });
    expect(r).toEqual({ exitCode: 0 });
    expect(out.text()).toBe('out a b\n');
    expect(err.text()).toBe('err\n');
    expect(s.ws.execCalls.at(-1)).toMatchObject({
      container: 'app',
      command: ['sh', '-c', 'echo "out $0"; echo err >&2', 'a b'],
      protocol: V5,
      stdin: false,
    });
    // the caller owns its streams
    expect(out.stream.writableEnded).toBe(false);
  });

  it('frames that arrive with the upgrade response are not lost', async () => {
    const out = collect();
    expect(
      await s.cluster.exec({ namespace: NS, pod: 'quick-0', command: ['true'], stdout: out.stream }),
    ).toEqual({
      exitCode: 0,
    });
    expect(out.text()).toBe('ok\n');
  });

  it('a non-zero exit is the ExitCode cause of NonZeroExitCode, never 0', async () => {
    for (const code of [1, 3, 42]) {
      const r = await s.cluster.exec({ namespace: NS, pod: 'app-0', command: ['sh', '-c', `exit ${code}`] });
      expect(r.exitCode).toBe(code);
    }
  });

  it('streams stdin to the remote and closes it with the v5 signal (8 MiB round trip by hash)', async () => {
    const chunk = Buffer.alloc(64 * 1024);
    let sent = 0;
    const local = createHash('sha256');
    const input = new Readable({
      read() {
        if (sent >= 8 * 1024 * 1024) return this.push(null);
        chunk.fill(sent % 251);
        local.update(chunk);
        sent += chunk.length;
        this.push(Buffer.from(chunk));
      },
    });
    const out = collect();
    const r = await s.cluster.exec({
      namespace: NS,
      pod: 'app-0',
      command: ['sha256sum'],
      stdin: input,
      stdout: out.stream,
    });
    expect(r.exitCode).toBe(0);
    expect(out.text().split(' ')[0]).toBe(local.digest('hex'));
    expect(s.ws.execCalls.at(-1)?.stdin).toBe(true);
  });

  it('holds the socket while the caller is slow: 40 MB of output never queue up in memory', async () => {
    let received = 0;
    let peakQueued = 0;
    const slow = new Writable({
      highWaterMark: 256 * 1024,
      write(c: Buffer, _enc, cb) {
        received += c.length;
        setTimeout(cb, 1);
      },
    });
    const watch = setInterval(() => {
      peakQueued = Math.max(peakQueued, slow.writableLength);
    }, 2);
    const r = await s.cluster.exec({
      namespace: NS,
      pod: 'app-0',
      command: ['head', '-c', '40000000', '/dev/zero'],
      stdout: slow,
      timeoutMs: 60_000,
    });
    clearInterval(watch);
    await new Promise<void>((ok) => slow.end(ok));
    expect(r.exitCode).toBe(0);
    expect(received).toBe(40_000_000);
    // without backpressure the whole output waits in the stream's buffer
    expect(peakQueued).toBeLessThan(2 * 1024 * 1024);
  }, 60_000);

  it('a connection closed without a status is a failure, never exit 0', async () => {
    const out = collect();
    await expect(
      s.cluster.exec({ namespace: NS, pod: 'mute-0', command: ['echo', 'hi'], stdout: out.stream }),
    ).rejects.toThrow(/exec in pod demo\/mute-0 \(echo hi\): the connection closed without an exit status/);
    expect(out.text()).toBe('hi\n');
  });

  it('a dropped connection (socket error, no close frame) is a failure', async () => {
    await expect(s.cluster.exec({ namespace: NS, pod: 'drop-0', command: ['true'] })).rejects.toThrow(
      /demo\/drop-0 \(true\).*(without an exit status|ECONNRESET|socket)/,
    );
  });

  it('the deadline fails the exec naming the pod and the command, without hanging', async () => {
    const t0 = Date.now();
    await expect(
      s.cluster.exec({ namespace: NS, pod: 'wedged-0', command: ['sleep', '30'], timeoutMs: 300 }),
    ).rejects.toThrow(/exec in pod demo\/wedged-0 \(sleep 30\) did not finish within 300ms/);
    expect(Date.now() - t0).toBeLessThan(2000);
    // the socket was let go of, not left open to keep the process alive
    await expect
      .poll(() => s.ws.execCalls.at(-1), { timeout: 5000 })
      .toMatchObject({ pod: 'wedged-0', closed: true });
  });

  it('a command that cannot start is an error with the API server message, not an exit code', async () => {
    await expect(
      s.cluster.exec({ namespace: NS, pod: 'app-0', command: ['no-such-binary-kindling'] }),
    ).rejects.toThrow(/executable file not found/);
  });

  it('a missing pod or container is an error with the Status message and HTTP code', async () => {
    await expect(s.cluster.exec({ namespace: NS, pod: 'ghost-0', command: ['true'] })).rejects.toThrow(
      /exec in pod demo\/ghost-0 \(true\): pods "ghost-0" not found \(HTTP 404/,
    );
    await expect(
      s.cluster.exec({ namespace: NS, pod: 'app-0', container: 'nope', command: ['true'] }),
    ).rejects.toThrow(/container nope is not valid for pod app-0 \(HTTP 400/);
  });

  it("uses kubectl's default-container annotation when no container is named", async () => {
    await s.cluster.exec({ namespace: NS, pod: 'multi-0', command: ['true'] });
    expect(s.ws.execCalls.at(-1)?.container).toBe('sidecar');
  });
});

describe('KubeCluster.exec against older stand-in API servers', () => {
  it('v4 only: exit codes still come from the status; stdin is refused with a clear reason', async () => {
    const s = await startStandin([V4]);
    try {
      expect(
        (await s.cluster.exec({ namespace: NS, pod: 'app-0', command: ['sh', '-c', 'exit 5'] })).exitCode,
      ).toBe(5);
      expect(s.ws.execCalls.at(-1)?.protocol).toBe(V4);
      await expect(
        s.cluster.exec({ namespace: NS, pod: 'app-0', command: ['cat'], stdin: Readable.from(['x']) }),
      ).rejects.toThrow(/cannot close stdin.*v5\.channel\.k8s\.io/);
    } finally {
      await s.ws.stop();
      await s.api.stop();
    }
  });

  it('channel.k8s.io only (no JSON status): refused at the handshake, not read as success', async () => {
    const s = await startStandin([V1]);
    try {
      await expect(s.cluster.exec({ namespace: NS, pod: 'app-0', command: ['true'] })).rejects.toThrow(
        /protocol\(s\) are not supported.*\(HTTP 400/,
      );
    } finally {
      await s.ws.stop();
      await s.api.stop();
    }
  });
});

describe('execOutcome (V1Status on channel 3)', () => {
  it('Success → 0, ExitCode cause → N, a garbled cause → 1, other failures → the message', () => {
    expect(execOutcome({ status: 'Success' })).toEqual({ exitCode: 0 });
    const nonZero = (message: string) => ({
      status: 'Failure',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message }] },
    });
    expect(execOutcome(nonZero('7'))).toEqual({ exitCode: 7 });
    expect(execOutcome(nonZero('0'))).toEqual({ exitCode: 1 });
    expect(execOutcome(nonZero(''))).toEqual({ exitCode: 1 });
    expect(execOutcome({ status: 'Failure', reason: 'InternalError', message: 'boom' })).toEqual({
      error: 'boom',
    });
  });
});
