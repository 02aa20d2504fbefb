/** The one result model of `verify`: every report (console, JSON, JUnit, job summary, annotations) reads it. */
export type CheckStatus = 'pass' | 'fail' | 'skip';

/** One try of a check. `not-ready` attempts are retried; `pass` and `fail` end the check. */
export interface Attempt {
  /** Milliseconds from the start of the check. */
  atMs: number;
  durationMs: number;
  outcome: 'pass' | 'fail' | 'not-ready';
  message: string;
}

export interface CheckResult {
  component: string;
  check: string;
  /** Probe type (sql, redis, http, ...); `namespace` for the namespace-wide checks. */
  type: string;
  status: CheckStatus;
  /** Number of attempts made (0 for a skipped check). */
  attempts: number;
  durationMs: number;
  /** What a healthy answer looks like, in words. */
  expected?: string;
  /** What was seen on the last attempt. */
  actual?: string;
  /** One line for people: why it failed or was skipped, or what passed. Never holds a secret. */
  message: string;
  /** `auth` when the service refused the credentials; `deadline` when it never became ready in time. */
  reason?: 'auth' | 'deadline' | 'wrong-value' | 'error' | 'not-checked' | 'other-target';
  /** Where it was checked (redacted URL, or `pod/NAME` for exec). */
  where?: string;
  history: Attempt[];
}

export interface ComponentSummary {
  name: string;
  dependsOn: string[];
  status: CheckStatus;
  passed: number;
  failed: number;
  skipped: number;
}

export interface VerifyReport {
  target: 'kube' | 'local';
  namespace?: string;
  startedAt: string;
  durationMs: number;
  results: CheckResult[];
  components: ComponentSummary[];
  passed: number;
  failed: number;
  skipped: number;
  /** True when no check failed and at least one ran. */
  ok: boolean;
}

/** Builds the report totals from results (pure). `order` keeps the catalog's component order. */
export function summarise(
  base: Pick<VerifyReport, 'target' | 'namespace' | 'startedAt' | 'durationMs'>,
  results: CheckResult[],
  order: readonly { name: string; dependsOn: readonly string[] }[],
): VerifyReport {
  const components: ComponentSummary[] = [];
  const names = [...order.map((c) => c.name)];
  for (const r of results) if (!names.includes(r.component)) names.push(r.component);
  for (const name of names) {
    const own = results.filter((r) => r.component === name);
    if (own.length === 0) continue;
    const count = (s: CheckStatus) => own.filter((r) => r.status === s).length;
    const failed = count('fail');
    const passed = count('pass');
    components.push({
      name,
      dependsOn: [...(order.find((c) => c.name === name)?.dependsOn ?? [])],
      status: failed ? 'fail' : passed ? 'pass' : 'skip',
      passed,
      failed,
      skipped: count('skip'),
    });
  }
  const passed = results.filter((r) => r.status === 'pass').length;
  const failed = results.filter((r) => r.status === 'fail').length;
  return {
    ...base,
    results,
    components,
    passed,
    failed,
    skipped: results.length - passed - failed,
    ok: failed === 0 && passed > 0,
  };
}
