import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import junitDefault, { type Builder } from 'junit-report-builder';
import { redact } from '../util/redact.ts';
import type { VerifyReport } from './results.ts';
import { detail } from './verify-console.ts';

/** The JSON report: the result model itself, secrets masked. */
export function toJson(report: VerifyReport): string {
  return `${redact(JSON.stringify(report, null, 2))}\n`;
}

/** JUnit XML: one suite, one test case per check; classname = component, failure message = detail. */
export function toJunit(report: VerifyReport): string {
  const builder = junitBuilder().newBuilder();
  const suite = builder
    .testSuite()
    .name(`kindling verify (${report.target}${report.namespace ? ` ${report.namespace}` : ''})`)
    .timestamp(report.startedAt)
    .time(report.durationMs / 1000);
  for (const r of report.results) {
    const tc = suite
      .testCase()
      .className(r.component)
      .name(r.check)
      .time(r.durationMs / 1000);
    if (r.status === 'fail') tc.failure(redact(detail(r)), r.reason ?? 'failed');
    if (r.status === 'skip') tc.skipped().standardOutput(redact(r.message));
    if (r.history.length)
      tc.standardOutput(
        redact(
          r.history.map((a) => `#${a.atMs}ms ${a.outcome} (${a.durationMs}ms): ${a.message}`).join('\n'),
        ),
      );
  }
  return redact(builder.build());
}

export function writeReportFile(file: string, content: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, content);
}

/** The package's default export, whichever way the CommonJS/ESM interop hands it over. */
function junitBuilder(): Builder {
  const mod = junitDefault as unknown as Builder & { default?: Builder };
  return mod.default ?? mod;
}
