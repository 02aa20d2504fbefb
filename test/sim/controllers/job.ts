/**
 * Simulation (test infrastructure): the Job controller for NonIndexed Jobs, after kubernetes/kubernetes
 * `pkg/controller/job/job_controller.go` (syncJob, manageJob, pastBackoffLimitOnFailure,
 * getNewFinishedPods, the pod-failure back-off `getRemainingTime` with DefaultJobPodFailureBackOff
 * 10 s doubling to 6 min) and the terminal conditions of `pkg/controller/job/util`. Since 1.31 a
 * success adds SuccessCriteriaMet before Complete, a failure FailureTarget before Failed.
 */
import { type Obj, randomSuffix } from '../apiserver.ts';
import { condition, ownerRef, type SimContext, selects } from '../context.ts';

const finished = (p: Obj) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
const restarts = (p: Obj): number =>
  [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])].reduce(
    (n: number, cs: Obj) => n + (cs.restartCount ?? 0),
    0,
  );

export function syncJob(ctx: SimContext, job: Obj): void {
  const ns = job.metadata.namespace;
  const s = job.status ?? {};
  const done = (s.conditions ?? []).some(
    (c: Obj) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
  );
  if (done) return;
  const pods = ctx.list('v1', 'Pod', ns).filter((p) => selects(job.spec.selector, p.metadata.labels));
  const active = pods.filter((p) => !finished(p));
  const succeeded = pods.filter((p) => p.status?.phase === 'Succeeded').length;
  const failed = pods.filter((p) => p.status?.phase === 'Failed').length;
  const limit: number = job.spec.backoffLimit ?? 6;
  const completions: number = job.spec.completions ?? 1;
  const startTime = s.startTime ?? new Date().toISOString();
  const base = { startTime, active: active.length, succeeded, failed, ready: 0, terminating: 0 };
  base.ready = active.filter((p) =>
    (p.status?.conditions ?? []).some((c: Obj) => c.type === 'Ready' && c.status === 'True'),
  ).length;

  if (succeeded >= completions) {
    const at = new Date().toISOString();
    ctx.setStatus(job, {
      ...base,
      active: 0,
      completionTime: at,
      conditions: [
        condition('SuccessCriteriaMet', true, {
          reason: 'CompletionsReached',
          message: 'Reached expected number of succeeded pods',
        }),
        condition('Complete', true, {
          reason: 'CompletionsReached',
          message: 'Reached expected number of succeeded pods',
        }),
      ],
    });
    ctx.event(job, 'Normal', 'Completed', 'Job completed', 'job-controller');
    return;
  }
  // failed pods beyond the limit, or (restartPolicy OnFailure) container restarts of active pods
  const onFailure = job.spec.template?.spec?.restartPolicy === 'OnFailure';
  // pastBackoffLimitOnFailure: restarts of running/pending pods reach the limit (> 0 when it is 0)
  const used = onFailure
    ? active
        .filter((p) => ['Running', 'Pending'].includes(p.status?.phase))
        .reduce((n, p) => n + restarts(p), 0)
    : 0;
  const pastLimit = failed > limit || (onFailure && (limit === 0 ? used > 0 : used >= limit));
  if (pastLimit) {
    for (const p of active) ctx.api.remove('v1', 'Pod', ns, p.metadata.name);
    const message = 'Job has reached the specified backoff limit';
    ctx.setStatus(job, {
      ...base,
      active: 0,
      ready: 0,
      failed: failed + active.length,
      conditions: [
        condition('FailureTarget', true, { reason: 'BackoffLimitExceeded', message }),
        condition('Failed', true, { reason: 'BackoffLimitExceeded', message }),
      ],
    });
    ctx.event(job, 'Warning', 'BackoffLimitExceeded', message, 'job-controller');
    return;
  }
  if (active.length === 0) {
    // back-off before replacing a failed pod: 10 s × 2^(failures-1), from the last failure
    const lastFailure = Math.max(0, ...pods.filter((p) => p.status?.phase === 'Failed').map(finishedAt));
    const wait = failed > 0 ? ctx.ms(Math.min(360, 10 * 2 ** (failed - 1))) : 0;
    if (Date.now() >= lastFailure + wait) createJobPod(ctx, job);
  }
  ctx.setStatus(job, {
    ...base,
    active: ctx
      .list('v1', 'Pod', ns)
      .filter((p) => selects(job.spec.selector, p.metadata.labels) && !finished(p)).length,
  });
}

function finishedAt(p: Obj): number {
  const times = (p.status?.containerStatuses ?? [])
    .map((cs: Obj) => Date.parse(cs.state?.terminated?.finishedAt ?? ''))
    .filter((t: number) => !Number.isNaN(t));
  return times.length ? Math.max(...times) : 0;
}

function createJobPod(ctx: SimContext, job: Obj): void {
  const template = structuredClone(job.spec.template);
  const name = `${job.metadata.name}-${randomSuffix()}`;
  ctx.create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      generateName: `${job.metadata.name}-`,
      namespace: job.metadata.namespace,
      labels: template.metadata?.labels ?? {},
      annotations: template.metadata?.annotations ?? {},
      ownerReferences: [ownerRef(job)],
      finalizers: ['batch.kubernetes.io/job-tracking'],
    },
    spec: template.spec,
    status: { phase: 'Pending' },
  });
  ctx.event(job, 'Normal', 'SuccessfulCreate', `Created pod: ${name}`, 'job-controller');
}
