/**
 * Simulation (test infrastructure): the kubelet's probes, executed for real against the container —
 * kubernetes/kubernetes `pkg/probe/http/http.go` (GET with `User-Agent: kube-probe/<version>`,
 * success for 200 <= status < 400, failure text `HTTP probe failed with statuscode: N`),
 * `pkg/probe/tcp/tcp.go` (a TCP connect), `pkg/probe/exec/exec.go` (exit code 0; the output is the
 * failure message) and `pkg/kubelet/prober/prober.go` (named ports resolved from the container).
 */
import type { Obj } from './apiserver.ts';
import type { Sandbox } from './runtime.ts';

export interface ProbeResult {
  ok: boolean;
  message: string;
}

export type ExecInContainer = (
  argv: string[],
  timeoutMs: number,
) => Promise<{ code: number; output: string }>;

export function resolvePort(container: Obj, port: number | string): number | undefined {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  return (container.ports ?? []).find((p: Obj) => p.name === port)?.containerPort;
}

export async function runProbe(
  probe: Obj,
  container: Obj,
  sandbox: Sandbox,
  exec: ExecInContainer,
): Promise<ProbeResult> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  if (probe.exec) {
    const r = await exec(probe.exec.command ?? [], timeoutMs);
    if (r.code === -1) return { ok: false, message: `command timed out after ${probe.timeoutSeconds ?? 1}s` };
    return { ok: r.code === 0, message: r.output.trim() };
  }
  if (probe.tcpSocket) {
    const port = resolvePort(container, probe.tcpSocket.port);
    if (!port) return { ok: false, message: `unknown port ${probe.tcpSocket.port}` };
    const ok = await tcpConnect(sandbox, port, timeoutMs);
    return { ok, message: ok ? '' : `dial tcp ${sandbox.ip}:${port}: connect: connection refused` };
  }
  if (probe.httpGet) {
    const port = resolvePort(container, probe.httpGet.port);
    if (!port) return { ok: false, message: `unknown port ${probe.httpGet.port}` };
    const path = probe.httpGet.path ?? '/';
    const url = `http://${sandbox.ip}:${port}${path}`;
    const status = await httpGet(sandbox, port, path, probe.httpGet.httpHeaders ?? [], timeoutMs);
    if (status === undefined)
      return {
        ok: false,
        message: `Get "${url}": dial tcp ${sandbox.ip}:${port}: connect: connection refused`,
      };
    if (status === 0)
      return {
        ok: false,
        message: `Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
      };
    return status >= 200 && status < 400
      ? { ok: true, message: '' }
      : { ok: false, message: `HTTP probe failed with statuscode: ${status}` };
  }
  return { ok: false, message: 'probe has no handler' };
}

function tcpConnect(sandbox: Sandbox, port: number, timeoutMs: number): Promise<boolean> {
  return sandbox.tcpCheck(port, timeoutMs);
}

/** The status code; undefined when the connection was refused; 0 on timeout. */
function httpGet(
  sandbox: Sandbox,
  port: number,
  path: string,
  headers: { name: string; value: string }[],
  timeoutMs: number,
): Promise<number | undefined> {
  return new Promise((resolve) => {
    const s = sandbox.dial(port);
    let buf = '';
    let done = false;
    const finish = (v: number | undefined) => {
      if (done) return;
      done = true;
      clearTimeout(t);
      s.destroy();
      resolve(v);
    };
    const t = setTimeout(() => finish(0), timeoutMs);
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(buf);
      if (m) finish(Number(m[1]));
    });
    s.on('end', () => finish(buf ? 0 : undefined));
    s.on('error', () => finish(undefined));
    const extra = headers.map((h) => `${h.name}: ${h.value}\r\n`).join('');
    s.write(
      `GET ${path} HTTP/1.1\r\nHost: ${sandbox.ip}:${port}\r\nUser-Agent: kube-probe/1.35\r\nAccept: */*\r\n${extra}Connection: close\r\n\r\n`,
    );
  });
}
