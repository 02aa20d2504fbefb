import type { Component, Endpoint, Stack } from '../catalog/types.ts';
import { FailedError, UsageError } from '../util/errors.ts';
import { addSecret } from '../util/redact.ts';
import { generatePassword } from './password.ts';
import { rotatorFor } from './registry.ts';
import {
  type CredentialState,
  credentialKey,
  readSecretsFile,
  type SecretsFile,
  writeSecretsFile,
} from './state.ts';
import type { InPod, RotationSpec, Rotator, RotatorContext, Step } from './types.ts';

export interface RotateOptions {
  stack: Stack;
  components: readonly string[];
  /** `--endpoint` URLs keyed `component.endpoint` (parseEndpointFlags). */
  endpoints: ReadonlyMap<string, URL>;
  /** The secrets file: new credentials and the rotation state (0600). */
  secretsFile: string;
  timeoutMs: number;
  /** Called after each step's state is on disk (the CLI's fault injection kills the process here). */
  afterStep?: (step: Step, key: string) => void;
  log?: (line: string) => void;
  /**
   * Target kube: once the service takes `password`, the stack's Secret and the workloads reading it
   * follow (src/app/rotate-kube.ts); returns the endpoint's new way in (the old port-forward went
   * with the restarted pods). Idempotent: a resumed run calls it again.
   */
  publish?: (
    job: { key: string; component: string; spec: RotationSpec },
    password: string,
  ) => Promise<URL | undefined>;
  /** Target kube: the endpoint's pod, for rotators that log in from inside it (RotatorContext.inPod). */
  inPod?: (job: { component: string; spec: RotationSpec }) => InPod | undefined;
}

export interface RotationResult {
  key: string;
  outcome: 'rotated' | 'rolled-back' | 'failed';
  /** Steps this run performed (a resumed rotation starts later). */
  steps: Step[];
  resumed: boolean;
  /** After finishSecret: the previous credential is refused by the service. */
  oldRejected?: boolean;
  message: string;
}

interface Job {
  key: string;
  component: Component;
  spec: RotationSpec;
  rotator: Rotator;
  ctx: RotatorContext;
  /** The password in the --endpoint URL ('' = none). */
  given: string;
}

/** Every rotation of the selected components, checked before anything is touched (UsageError, exit 2). */
export function planRotations(o: RotateOptions): Job[] {
  const jobs: Job[] = [];
  const problems: string[] = [];
  for (const name of o.components) {
    const c = o.stack.components[name];
    if (!c) {
      problems.push(`unknown component "${name}"`);
      continue;
    }
    for (const spec of c.rotation ?? []) {
      const where = `${o.stack.file}:${o.stack.lines[name] ?? 1}: component "${name}" rotation "${spec.name}"`;
      let rotator: Rotator;
      try {
        rotator = rotatorFor(spec.type);
      } catch (err) {
        problems.push(`${where}: ${(err as Error).message}`);
        continue;
      }
      problems.push(...rotator.validate(spec).map((m) => `${where}: ${m}`));
      const ep: Endpoint | undefined = spec.endpoint
        ? c.endpoints.find((e) => e.name === spec.endpoint)
        : c.endpoints[0];
      if (!ep) {
        problems.push(`${where}: no endpoint ${spec.endpoint ?? '(the component has none)'}`);
        continue;
      }
      const url = o.endpoints.get(`${name}.${ep.name}`);
      if (!url) {
        problems.push(`${where}: needs --endpoint ${name}=URL (with the current credential) on target local`);
        continue;
      }
      const user =
        spec.user ??
        (url.username
          ? decodeURIComponent(url.username)
          : typeof ep.username === 'string'
            ? ep.username
            : undefined);
      if (!user) {
        problems.push(`${where}: no user: set user: in the rotation or put it in the --endpoint URL`);
        continue;
      }
      const given = url.password ? decodeURIComponent(url.password) : '';
      const bare = new URL(url);
      bare.username = '';
      bare.password = '';
      const inPod = o.inPod?.({ component: name, spec });
      jobs.push({
        key: credentialKey(name, spec.name),
        component: c,
        spec,
        rotator,
        ctx: {
          url: bare,
          user,
          spec,
          timeoutMs: o.timeoutMs,
          key: credentialKey(name, spec.name),
          secretsFile: o.secretsFile,
          ...(o.publish && spec.secret ? { restartCarries: true } : {}),
          ...(inPod ? { inPod } : {}),
        },
        given,
      });
    }
  }
  if (problems.length) throw new UsageError(`cannot rotate:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  if (jobs.length === 0)
    throw new UsageError(
      `none of ${o.components.join(', ')} has a rotation: entry in the catalog`,
      '--components',
    );
  return jobs;
}

/** Runs (or resumes) every rotation; never prints a credential. Throws FailedError when any failed. */
export async function rotate(o: RotateOptions): Promise<RotationResult[]> {
  const jobs = planRotations(o);
  const file = readSecretsFile(o.secretsFile);
  for (const c of Object.values(file.credentials))
    for (const v of [c.current, c.pending, c.previous]) addSecret(v);
  const results: RotationResult[] = [];
  for (const job of jobs) {
    let r: RotationResult;
    try {
      r = await rotateOne(job, file, o);
    } catch (err) {
      r = { key: job.key, outcome: 'failed', steps: [], resumed: false, message: (err as Error).message };
    }
    o.log?.(
      `${r.key}: ${r.outcome}${r.resumed ? ' (resumed)' : ''}${r.steps.length ? ` [${r.steps.join(' → ')}]` : ''} — ${r.message}`,
    );
    results.push(r);
  }
  const bad = results.filter((r) => r.outcome !== 'rotated' || r.oldRejected === false);
  if (bad.length)
    throw new FailedError(
      `${bad.length} of ${results.length} rotation${results.length === 1 ? '' : 's'} did not complete`,
      bad.map((r) => `${r.key}: ${r.message}`),
    );
  return results;
}

async function rotateOne(job: Job, file: SecretsFile, o: RotateOptions): Promise<RotationResult> {
  const { rotator, ctx, key } = job;
  addSecret(job.given);
  const steps: Step[] = [];
  const entry: CredentialState = file.credentials[key] ?? {
    component: job.component.name,
    rotation: job.spec.name,
    user: ctx.user,
    secret: job.spec.secret,
    updatedAt: new Date().toISOString(),
  };
  const resumed = entry.pending !== undefined;
  const save = (step: Step) => {
    entry.step = step;
    entry.updatedAt = new Date().toISOString();
    file.credentials[key] = entry;
    writeSecretsFile(o.secretsFile, file);
    steps.push(step);
    o.afterStep?.(step, key);
  };
  const publish = async (password: string) => {
    const url = await o.publish?.({ key, component: job.component.name, spec: job.spec }, password);
    if (url) ctx.url = url;
  };
  // the credential the service takes now: the one recorded by a previous rotation, else the URL's
  let working: string | undefined;
  for (const candidate of unique([entry.current, job.given]))
    if ((await rotator.login(ctx, candidate)) === 'accepted') {
      working = candidate;
      break;
    }

  // a service that admits a password never set (PostgreSQL `trust` for loopback, which a kube
  // port-forward is) cannot tell by a login whether a step happened: then the change always runs
  const admitsAny = (await rotator.login(ctx, generatePassword())) === 'accepted';

  // 1. createSecret: the pending credential is on disk before the service is changed
  if (entry.pending === undefined) {
    if (working === undefined)
      return fail(
        key,
        steps,
        resumed,
        'neither the recorded credential nor the one in the --endpoint URL is accepted',
      );
    entry.current = working;
    entry.pending = generatePassword();
    addSecret(entry.pending);
    save('createSecret');
  }
  const pending = entry.pending;

  // 2. setSecret (skipped when a crashed run already set it)
  if (admitsAny || (await rotator.login(ctx, pending)) !== 'accepted') {
    if (working === undefined)
      return fail(
        key,
        steps,
        resumed,
        'the service takes neither the current nor the pending credential; both are kept in the secrets file',
      );
    await rotator.set(ctx, working, pending);
    await publish(pending);
    save('setSecret');
  } else if (entry.step === 'createSecret') {
    await publish(pending);
    save('setSecret');
  }

  // 3. testSecret: log in with the pending credential; roll back when it is refused
  if ((await rotator.login(ctx, pending)) !== 'accepted') {
    if (working !== undefined && (await rotator.login(ctx, working)) === 'accepted') {
      await publish(working);
      entry.pending = undefined;
      file.credentials[key] = entry;
      writeSecretsFile(o.secretsFile, file);
      return {
        key,
        outcome: 'rolled-back',
        steps,
        resumed,
        message: 'the new credential was refused; the current one is kept',
      };
    }
    return fail(
      key,
      steps,
      resumed,
      'the new credential is refused and the old one no longer works; both are kept in the secrets file',
    );
  }
  save('testSecret');

  // 4. finishSecret: promote (AWSCURRENT), keep the old as previous (AWSPREVIOUS)
  entry.previous = entry.current;
  entry.current = pending;
  entry.pending = undefined;
  save('finishSecret');
  const old = entry.previous ?? '';
  const oldRejected = !admitsAny && old !== pending && (await rotator.login(ctx, old)) === 'rejected';
  return {
    key,
    outcome: 'rotated',
    steps,
    resumed,
    oldRejected,
    message: oldRejected
      ? `new credential accepted, old one rejected; written to ${o.secretsFile}`
      : admitsAny
        ? `new credential set, but the OLD ONE IS STILL ACCEPTED on this connection: the service admits any password here (e.g. trust for loopback, where a port-forward arrives), so neither the new one nor the old one's refusal is proven; written to ${o.secretsFile}`
        : `new credential accepted but the OLD ONE IS STILL ACCEPTED (another auth method admits it); written to ${o.secretsFile}`,
  };
}

function fail(key: string, steps: Step[], resumed: boolean, message: string): RotationResult {
  return { key, outcome: 'failed', steps, resumed, message };
}

const unique = (xs: (string | undefined)[]): string[] => [
  ...new Set(xs.filter((x): x is string => x !== undefined)),
];
