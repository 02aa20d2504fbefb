import { spawn } from 'node:child_process';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import type { ClusterAccess } from '../kube/types.ts';
import { redact } from '../util/redact.ts';

/** One tool invocation. Secrets go in `env` (local) or stay in the pod's own environment (kube), never in argv. */
export interface CommandSpec {
  argv: readonly string[];
  /** Local only: extra environment for the process. */
  env?: Record<string, string>;
  /** Kube only: where the command runs. */
  pod?: string;
  container?: string;
  stdin?: Readable;
  /** Receives the command's stdout; the runner ends it once the command has exited. */
  stdout?: Writable;
}

export interface CommandResult {
  exitCode: number;
  /** The last few KiB of stderr, redacted. */
  stderr: string;
}

/** Runs tools where the data is: local processes (target local) or exec in pods (target kube). */
export interface Runner {
  readonly kind: 'local' | 'kube';
  run(spec: CommandSpec, signal?: AbortSignal): Promise<CommandResult>;
}

const STDERR_TAIL = 4000;

/** Local processes; `baseEnv` (default process.env) decides which binaries PATH finds. */
export function localRunner(baseEnv: NodeJS.ProcessEnv = process.env): Runner {
  return {
    kind: 'local',
    run: (spec, signal) =>
      new Promise((resolve) => {
        const [cmd, ...args] = spec.argv;
        let stderr = '';
        let settled = false;
        const done = (r: CommandResult) => {
          if (settled) return;
          settled = true;
          signal?.removeEventListener('abort', onAbort);
          if (spec.stdout && !spec.stdout.destroyed) spec.stdout.end();
          resolve({ exitCode: r.exitCode, stderr: redact(r.stderr) });
        };
        const child = spawn(cmd!, args, {
          env: { ...baseEnv, ...spec.env },
          stdio: [spec.stdin ? 'pipe' : 'ignore', spec.stdout ? 'pipe' : 'ignore', 'pipe'],
        });
        const onAbort = () => child.kill('SIGTERM');
        signal?.addEventListener('abort', onAbort, { once: true });
        if (signal?.aborted) onAbort();
        child.stderr!.setEncoding('utf8');
        child.stderr!.on('data', (d: string) => {
          stderr = (stderr + d).slice(-STDERR_TAIL);
        });
        if (spec.stdin && child.stdin) {
          spec.stdin.pipe(child.stdin);
          child.stdin.on('error', () => {}); // EPIPE when the tool exits early: its exit status tells
          spec.stdin.on('error', () => child.kill('SIGTERM'));
        }
        if (spec.stdout && child.stdout) {
          child.stdout.pipe(spec.stdout, { end: false });
          spec.stdout.on('error', () => child.kill('SIGTERM'));
        }
        child.on('error', (err) =>
          done({ exitCode: 127, stderr: `${stderr}cannot run ${cmd}: ${(err as Error).message}` }),
        );
        child.on('close', (code, sig) =>
          done({
            exitCode: code ?? 128 + signalNumber(sig),
            stderr: sig ? `${stderr}(killed by ${sig})` : stderr,
          }),
        );
      }),
  };
}

function signalNumber(sig: NodeJS.Signals | null): number {
  return sig === 'SIGKILL' ? 9 : sig === 'SIGTERM' ? 15 : sig === 'SIGPIPE' ? 13 : 1;
}

/** Exec in pods through the Cluster contract, so the pod's own client matches its server. */
export function kubeRunner(cluster: ClusterAccess, namespace: string): Runner {
  return {
    kind: 'kube',
    run: async (spec, signal) => {
      if (!spec.pod) throw new Error(`internal: no pod for ${spec.argv.join(' ')}`);
      if (spec.env && Object.keys(spec.env).length)
        throw new Error('internal: env cannot be passed to a pod exec; use the pod environment');
      let stderr = '';
      const errSink = new PassThrough();
      errSink.setEncoding('utf8');
      errSink.on('data', (d: string) => {
        stderr = (stderr + d).slice(-STDERR_TAIL);
      });
      // our own stream in between: we end the caller's stdout only after the exit status is known
      const out = spec.stdout ? new PassThrough() : undefined;
      if (out && spec.stdout) out.pipe(spec.stdout, { end: false });
      const onAbort = () => out?.destroy(new Error('aborted'));
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        const r = await cluster.exec({
          namespace,
          pod: spec.pod,
          container: spec.container,
          command: spec.argv,
          stdin: spec.stdin,
          stdout: out,
          stderr: errSink,
        });
        if (out) await drained(out);
        return { exitCode: r.exitCode, stderr: redact(stderr) };
      } catch (err) {
        return {
          exitCode: 255,
          stderr: redact(`${stderr}exec in ${spec.pod} failed: ${(err as Error).message}`),
        };
      } finally {
        signal?.removeEventListener('abort', onAbort);
        if (spec.stdout && !spec.stdout.destroyed) spec.stdout.end();
      }
    },
  };
}

function drained(s: PassThrough): Promise<void> {
  return new Promise((resolve) => {
    if (s.readableEnded || s.destroyed) return resolve();
    s.once('end', () => resolve());
    s.once('close', () => resolve());
    s.end();
  });
}

/** Runs a command and collects its stdout as text (for small outputs: versions, lists, INFO). */
export async function capture(
  runner: Runner,
  spec: CommandSpec,
  signal?: AbortSignal,
): Promise<CommandResult & { stdout: string }> {
  const sink = new PassThrough();
  let stdout = '';
  sink.setEncoding('utf8');
  sink.on('data', (d: string) => {
    stdout += d;
  });
  const ended = new Promise((r) => sink.once('end', r));
  const r = await runner.run({ ...spec, stdout: sink }, signal);
  await ended;
  return { ...r, stdout };
}

/** How a command is shown in reports and the manifest (never with secrets: those are in env). */
export function describeCommand(spec: CommandSpec): string {
  const shown = spec.argv
    .map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`))
    .join(' ');
  return redact(
    spec.pod ? `kubectl exec ${spec.pod}${spec.container ? ` -c ${spec.container}` : ''} -- ${shown}` : shown,
  );
}
