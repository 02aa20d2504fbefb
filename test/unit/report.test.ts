import { describe, expect, it } from 'vitest';
import { type CheckResult, summarise } from '../../src/report/results.ts';
import { renderTable } from '../../src/report/verify-console.ts';
import { toJson, toJunit } from '../../src/report/verify-files.ts';
import { verifyAnnotations, verifySummary } from '../../src/report/verify-summary.ts';
import { addSecret } from '../../src/util/redact.ts';

const result = (
  component: string,
  check: string,
  status: CheckResult['status'],
  extra: Partial<CheckResult> = {},
): CheckResult => ({
  component,
  check,
  type: 'http',
  status,
  attempts: status === 'skip' ? 0 : 1,
  durationMs: 12,
  message: status === 'pass' ? 'ok' : 'expected HTTP 200, got 503',
  history: [],
  ...extra,
});
const order = [
  { name: 'postgres', dependsOn: [] },
  { name: 'grafana', dependsOn: ['prometheus'] },
  { name: 'prometheus', dependsOn: [] },
];
const base = { target: 'local' as const, startedAt: '2026-11-25T00:00:00.000Z', durationMs: 1500 };

describe('verify reports', () => {
  addSecret('Hunter2-secret');
  const report = summarise(
    base,
    [
      result('postgres', 'version', 'pass', { actual: 'PostgreSQL 15' }),
      result('grafana', 'health', 'fail', {
        expected: 'GET /api/health → HTTP 200',
        actual: 'HTTP 503 password=Hunter2-secret',
        reason: 'deadline',
      }),
      result('prometheus', 'ready', 'skip', { message: 'not checked: no --endpoint given' }),
    ],
    order,
  );

  it('summarises counts and per-component status', () => {
    expect(report).toMatchObject({ passed: 1, failed: 1, skipped: 1, ok: false });
    expect(report.components.map((c) => `${c.name}:${c.status}`)).toEqual([
      'postgres:pass',
      'grafana:fail',
      'prometheus:skip',
    ]);
  });

  it('console table: one row per check with expected vs seen; secrets masked', () => {
    const table = renderTable(report);
    expect(table.split('\n')[0]).toMatch(/^COMPONENT\s+CHECK\s+STATUS\s+TRIES\s+TIME\s+DETAIL$/);
    expect(table).toMatch(
      /grafana\s+health\s+FAIL\s+1\s+12ms\s+expected HTTP 200, got 503; expected GET \/api\/health → HTTP 200; saw HTTP 503/,
    );
    expect(table).toContain('NOT verified: 1 passed, 1 failed, 1 skipped');
    expect(table).not.toContain('Hunter2-secret');
  });

  it('JUnit: classname = component, the failure message in the XML, skipped marked', () => {
    const xml = toJunit(report);
    expect(xml).toMatch(
      /<testcase classname="grafana" name="health" time="0.012">\s*<failure message="expected HTTP 200, got 503; expected GET \/api\/health → HTTP 200; saw HTTP 503 password=\*\*\*" type="deadline"\/>/,
    );
    expect(xml).toMatch(/<testcase classname="prometheus" name="ready"[^>]*>\s*<skipped\/>/);
    expect(xml).toContain('tests="3" failures="1" errors="0" skipped="1"');
    expect(xml).not.toContain('Hunter2-secret');
  });

  it('JSON: the result model, masked', () => {
    const parsed = JSON.parse(toJson(report));
    expect(parsed.results[1]).toMatchObject({
      component: 'grafana',
      check: 'health',
      status: 'fail',
      attempts: 1,
      durationMs: 12,
      expected: 'GET /api/health → HTTP 200',
    });
    expect(toJson(report)).not.toContain('Hunter2-secret');
  });

  it('job summary: a Mermaid graph coloured by result and the table', () => {
    const md = verifySummary(report);
    expect(md).toContain('❌ Stack not verified');
    expect(md).toContain('grafana["grafana<br/><small>0/1 checks</small>"]:::fail');
    expect(md).toContain('prometheus --> grafana');
    expect(md).toContain('| ❌ | grafana | health | 1 | 12ms |');
    expect(md).not.toContain('Hunter2-secret');
  });

  it('annotations: at most 10 per level, the rest aggregated into the last', () => {
    const many = summarise(
      base,
      Array.from({ length: 14 }, (_, i) => result(`c${i}`, 'x', 'fail')),
      [],
    );
    const errors = verifyAnnotations(many).filter((a) => a.level === 'error');
    expect(errors).toHaveLength(10);
    expect(errors[9]!.title).toBe('5 more checks failed');
    expect(errors[9]!.message.split('\n')).toHaveLength(5);
    expect(verifyAnnotations(report)).toEqual([
      expect.objectContaining({ level: 'error', title: 'grafana/health failed' }),
    ]);
  });
});
