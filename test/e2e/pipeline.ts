/**
 * The PR pipeline end to end on the simulated cluster (test/sim): exactly the steps
 * .github/workflows/pr-validation.yml → reusable-validate-deploy.yml run, in order —
 *   select    node scripts/changed-components.ts --changed-files F --full-stack false --with minio
 *   validate  kindling validate --format github
 *   deploy    actions/deploy (cluster: existing here — the kind cluster is the simulation), sizing kind
 *   verify    actions/verify, target kube, JSON + JUnit into the diagnostics directory
 *   netpol    node scripts/network-probes.ts, then one busybox `nc` pod per probe: the catalog edge
 *             connects, the unlabelled pod is refused (netpol-probe.ts)
 *   minio     the in-cluster MinIO's credentials from minio-secret and a port-forward to it
 *   backup    actions/backup into s3://backups/pr-drill/<run> on that MinIO
 *   scratch   a scratch PostgreSQL (the workflow `docker run`s the cluster's image; here the
 *             harness's real PostgreSQL)
 *   drill     kindling backups verify <id> --drill --target kube --scratch postgres=URL
 * Stand-ins, by name: the cluster (simulated), `kubectl port-forward` (the simulated node's
 * forwarder to the MinIO pod), the scratch database's image (this machine's PostgreSQL 15).
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from '../actions-entry/run-action.ts';
import { type RunningPostgres, startPostgres } from '../harness/services.ts';
import { SimCluster, type SimOptions } from '../sim/cluster.ts';
import { pinnedImages } from '../sim/images.ts';
import { type EntryRun, resolveEntry, runEntry } from './action-entry.ts';
import { networkProbes, PROBE_IMAGE, probe, probeFailure, probeToolMissing } from './netpol-probe.ts';

export interface Step {
  name: string;
  ok: boolean;
  ms: number;
  detail: string;
}

export interface PipelineOptions {
  /** Files a PR changed (the select step maps them to components); default: the minimal profile. */
  changedFiles?: string[];
  /** Components to deploy (the deploy action's `components` input) instead of the minimal profile. */
  components?: string;
  /** Edits a copy of manifests/ before anything runs (mutation tests). */
  mutate?: (manifestsDir: string) => void;
  /** Skip validate (mutations that validate would catch, to watch the cluster's own answer). */
  skipValidate?: boolean;
  /** Stop after deploy. */
  deployOnly?: boolean;
  /** The deploy action's timeout input (default 150s). */
  timeout?: string;
  /** The verify action's timeout input (the workflow leaves the default; bounded here for the budget). */
  verifyTimeout?: string;
  /**
   * Go on to backup and drill when verify failed (the workflow stops the job there): lets the e2e
   * prove the later steps while a known verify defect is open.
   */
  continueAfterVerify?: boolean;
  sim?: SimOptions;
  log?: (line: string) => void;
}

export interface PipelineResult {
  ok: boolean;
  steps: Step[];
  deploy?: EntryRun;
  verify?: EntryRun;
  backup?: EntryRun;
  drill?: { code: number | null; stdout: string; stderr: string };
  diagnosticsDir: string;
  components: string[];
  entries: Record<string, string>;
  /** Removes the work directory (kept until then for inspection). */
  cleanup(): void;
}

function run(argv: string[], env: Record<string, string> = {}, timeoutMs = 120_000) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: REPO,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}

const node = process.execPath;
const kindling = join(REPO, 'bin', 'kindling.js');

export async function runPipeline(opts: PipelineOptions = {}): Promise<PipelineResult> {
  const log = opts.log ?? (() => {});
  const work = mkdtempSync(join(tmpdir(), 'kindling-e2e-'));
  const runnerTemp = join(work, 'runner-temp');
  const diagnosticsDir = join(work, 'kindling-diagnostics');
  mkdirSync(runnerTemp, { recursive: true });
  mkdirSync(diagnosticsDir, { recursive: true });
  // the checkout: the catalog and manifests as the PR has them (a copy when mutated)
  let catalog = join(REPO, 'manifests', 'stack.yaml');
  if (opts.mutate) {
    cpSync(join(REPO, 'manifests'), join(work, 'manifests'), { recursive: true });
    opts.mutate(join(work, 'manifests'));
    catalog = join(work, 'manifests', 'stack.yaml');
  }
  const steps: Step[] = [];
  const result: PipelineResult = {
    ok: false,
    steps,
    diagnosticsDir,
    components: [],
    entries: Object.fromEntries(['deploy', 'verify', 'backup'].map((a) => [a, resolveEntry(a).kind])),
    cleanup: () => rmSync(work, { recursive: true, force: true }),
  };
  const step = (name: string, ok: boolean, ms: number, detail: string) => {
    steps.push({ name, ok, ms, detail });
    log(`${ok ? 'ok  ' : 'FAIL'} ${name} (${(ms / 1000).toFixed(1)} s) ${detail}`);
    return ok;
  };

  // select
  let t = Date.now();
  const changed = join(work, 'changed-files.txt');
  writeFileSync(changed, (opts.changedFiles ?? []).join('\n'));
  const ghOut = join(work, 'select-output');
  writeFileSync(ghOut, '');
  let profile = opts.components ? '' : 'minimal';
  let components = opts.components ?? '';
  if (opts.changedFiles) {
    const sel = await run([
      node,
      join(REPO, 'scripts', 'changed-components.ts'),
      '--changed-files',
      changed,
      '--full-stack',
      'false',
      '--with',
      'minio',
      '--github-output',
      ghOut,
    ]);
    if (sel.code !== 0) {
      step('select', false, Date.now() - t, sel.stderr.trim());
      return result;
    }
    const outs = Object.fromEntries(
      (await import('node:fs'))
        .readFileSync(ghOut, 'utf8')
        .split('\n')
        .filter((l) => l.includes('='))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    profile = outs.profile ?? '';
    components = outs.components ?? '';
    step(
      'select',
      true,
      Date.now() - t,
      `mode=${outs.mode} profile=${profile || '-'} components=${components || '-'}`,
    );
  }

  // validate
  if (!opts.skipValidate) {
    t = Date.now();
    const v = await run([node, kindling, 'validate', '--format', 'github', '--catalog', catalog]);
    if (
      !step(
        'validate',
        v.code === 0,
        Date.now() - t,
        v.code === 0
          ? 'no errors'
          : v.stdout
              .split('\n')
              .filter((l) => l.startsWith('::error'))
              .slice(0, 5)
              .join(' | '),
      )
    )
      return result;
  }

  // the stack's pinned images and the workflow's probe pods' busybox
  const sim = await new SimCluster({
    ...opts.sim,
    images: [...(opts.sim?.images ?? pinnedImages(REPO)), PROBE_IMAGE],
  }).start();
  let scratch: RunningPostgres | undefined;
  try {
    const kubeconfig = join(work, 'kubeconfig');
    writeFileSync(kubeconfig, sim.kubeconfigYaml(), { mode: 0o600 });

    // deploy
    t = Date.now();
    const deploy = await runEntry(
      'deploy',
      {
        catalog,
        cluster: 'existing',
        kubeconfig,
        sizing: 'kind',
        profile,
        components,
        timeout: opts.timeout ?? '150s',
        verify: 'false',
      },
      { runnerTemp, timeoutMs: 200_000 },
    );
    result.deploy = deploy;
    if (process.env.KINDLING_SIM_TRACE)
      for (const q of sim.api.requests)
        console.error(`[sim api] ${new Date(q.at).toISOString()} ${q.method} ${q.path}?${q.query}`);
    try {
      result.components = JSON.parse(deploy.outputs.components ?? '[]');
    } catch {
      result.components = [];
    }
    const deployErrors = deploy.stdout
      .split('\n')
      .filter((l) => l.startsWith('::error'))
      .join('\n');
    if (
      !step(
        'deploy',
        deploy.code === 0,
        deploy.ms,
        deploy.code === 0 ? `${result.components.length} components ready` : deployErrors.slice(0, 2000),
      )
    )
      return result;
    if (opts.deployOnly) {
      result.ok = true;
      return result;
    }
    const list = result.components.join(',');

    // verify
    const verify = await runEntry(
      'verify',
      {
        target: 'kube',
        kubeconfig,
        components: list,
        catalog,
        json: join(diagnosticsDir, 'verify.json'),
        junit: join(diagnosticsDir, 'verify-junit.xml'),
        ...(opts.verifyTimeout ? { timeout: opts.verifyTimeout } : {}),
      },
      { runnerTemp, timeoutMs: 200_000 },
    );
    result.verify = verify;
    const verified = step(
      'verify',
      verify.code === 0,
      verify.ms,
      `failed=${verify.outputs.failed ?? '?'} passed=${verify.outputs.passed ?? '?'}`,
    );
    if (!verified && !opts.continueAfterVerify) return result;

    // NetworkPolicies: one catalog edge allowed, an unlabelled pod refused (the workflow's probe step)
    t = Date.now();
    const netpol = await networkAssertion(sim, result.components);
    if (!step('netpol', netpol.ok, Date.now() - t, netpol.detail)) return result;

    // expose the in-cluster MinIO (the workflow: kubectl get secret + kubectl port-forward svc/minio)
    t = Date.now();
    const secret = sim.api.get('v1', 'Secret', 'voiceassistant-infra', 'minio-secret');
    const decode = (k: string) => Buffer.from(secret?.data?.[k] ?? '', 'base64').toString();
    const minio = sim.kubelet.container('voiceassistant-infra', 'minio-0', 'minio');
    if (
      !step(
        'minio',
        !!(secret && minio),
        Date.now() - t,
        minio ? 'port-forward to minio-0:9000' : 'no running minio-0',
      )
    )
      return result;
    const endpoint = `http://127.0.0.1:${await minio!.sandbox.forward(9000)}`;
    const accessKeyId = decode('MINIO_ROOT_USER');
    const secretAccessKey = decode('MINIO_ROOT_PASSWORD');
    const store = 's3://backups/pr-drill/1';

    // backup
    const backup = await runEntry(
      'backup',
      {
        catalog,
        target: 'kube',
        kubeconfig,
        components: list,
        store,
        's3-endpoint': endpoint,
        'access-key-id': accessKeyId,
        'secret-access-key': secretAccessKey,
        'issue-on-failure': 'false',
      },
      { runnerTemp, timeoutMs: 200_000 },
    );
    result.backup = backup;
    const backupId = backup.outputs['backup-id'] ?? '';
    if (!step('backup', backup.code === 0 && !!backupId, backup.ms, `backup-id=${backupId || '-'}`))
      return result;

    // restore drill into a scratch PostgreSQL
    t = Date.now();
    const args = [
      node,
      kindling,
      'backups',
      'verify',
      backupId,
      '--store',
      store,
      '--s3-endpoint',
      endpoint,
      '--catalog',
      catalog,
    ];
    if (result.components.includes('postgres')) {
      scratch = await startPostgres({ password: 'drill' });
      args.push(
        '--drill',
        '--target',
        'kube',
        '--kubeconfig',
        kubeconfig,
        '--components',
        'postgres',
        '--scratch',
        `postgres=${scratch.url}`,
      );
    }
    const drill = await run(args, {
      AWS_ACCESS_KEY_ID: accessKeyId,
      AWS_SECRET_ACCESS_KEY: secretAccessKey,
      KUBECONFIG: kubeconfig,
    });
    result.drill = drill;
    if (
      !step(
        'drill',
        drill.code === 0,
        Date.now() - t,
        drill.code === 0
          ? (`${drill.stdout}\n${drill.stderr}`.split('\n').find((l) => /artifact\(s\) match/.test(l)) ??
              lastLine(drill.stdout))
          : firstFailure(`${drill.stdout}\n${drill.stderr}`),
      )
    )
      return result;
    result.ok = steps.every((x) => x.ok);
    return result;
  } finally {
    await scratch?.stop();
    await sim.stop();
  }
}

/** The workflow's probe loop: each probe's verdict and time, or the first failures. */
async function networkAssertion(
  sim: SimCluster,
  components: readonly string[],
): Promise<{ ok: boolean; detail: string }> {
  const missing = probeToolMissing();
  if (missing) return { ok: false, detail: missing };
  let probes: Awaited<ReturnType<typeof networkProbes>>;
  try {
    probes = await networkProbes(components);
  } catch (err) {
    return { ok: false, detail: `network-probes.ts: ${(err as Error).message.split('\n')[0]}` };
  }
  const said: string[] = [];
  const failures: string[] = [];
  for (const [i, p] of probes.entries()) {
    const r = await probe(sim, 'voiceassistant-infra', p, i + 1);
    const failure = probeFailure(p, r, i + 1);
    if (failure) failures.push(failure);
    said.push(
      `${p.as} -> ${r.host}:${r.port} ${p.expect === 'allowed' ? 'connected' : 'refused'} (nc exit ${r.result || '-'}, ${r.ms} ms)`,
    );
  }
  if (probes.length !== 2) failures.push(`expected 2 network probes, ran ${probes.length}`);
  return failures.length ? { ok: false, detail: failures.join('; ') } : { ok: true, detail: said.join('; ') };
}

const lastLine = (s: string) => s.trim().split('\n').pop() ?? '';
const firstFailure = (s: string) =>
  s
    .split('\n')
    .find((l) => /✗|FAILED|failed/.test(l))
    ?.trim() ?? s.trim().slice(0, 500);
