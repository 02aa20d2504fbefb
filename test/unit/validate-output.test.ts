import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { annotations, formatJson, formatText, writeGithub } from '../../src/manifests/output.ts';
import type { ValidateResult } from '../../src/manifests/validate.ts';
import type { Problem } from '../../src/util/problem.ts';

const problem = (i: number, severity: Problem['severity'] = 'error', file = 'manifests/a.yaml'): Problem => ({
  severity,
  file,
  line: i + 1,
  rule: 'schema',
  message: `problem ${i}`,
});

const result = (problems: Problem[]): ValidateResult => ({
  sizing: 'kind',
  problems,
  objects: 12,
  rendered: true,
});

describe('validate output', () => {
  it('text: problems grouped by file as file:line: severity: message [rule], then a summary', () => {
    const text = formatText(
      result([problem(0), problem(4, 'warning'), { ...problem(2), file: 'manifests/b.yaml' }]),
    );
    expect(text).toBe(
      [
        'manifests/a.yaml:1: error: problem 0 [schema]',
        'manifests/a.yaml:5: warning: problem 4 [schema]',
        '',
        'manifests/b.yaml:3: error: problem 2 [schema]',
        '',
        'validate (sizing kind, 12 objects): 2 errors, 1 warning in 2 files',
        '',
      ].join('\n'),
    );
    expect(formatText(result([]))).toBe('validate (sizing kind, 12 objects): no problems\n');
  });

  it('json: machine-readable counts and problems', () => {
    const parsed = JSON.parse(formatJson(result([problem(0), problem(1, 'warning')])));
    expect(parsed).toMatchObject({
      sizing: 'kind',
      ok: false,
      errors: 1,
      warnings: 1,
      objects: 12,
      rendered: true,
    });
    expect(parsed.problems[0]).toEqual(problem(0));
    expect(JSON.parse(formatJson(result([problem(1, 'warning')]))).ok).toBe(true);
  });

  it('annotations: at most 10 per level, the tenth summarising the rest', () => {
    const list = annotations([
      ...Array.from({ length: 25 }, (_, i) => problem(i)),
      ...[0, 1, 2].map((i) => problem(i, 'warning')),
    ]);
    const errors = list.filter((a) => a.level === 'error');
    expect(errors).toHaveLength(10);
    expect(errors.slice(0, 9).map((a) => a.startLine)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(errors[9]!.title).toBe('kindling validate (16 more errors)');
    expect(errors[9]!.message.split('\n')).toHaveLength(17);
    expect(errors[9]!.message).toContain('manifests/a.yaml:25: problem 24 [schema]');
    expect(list.filter((a) => a.level === 'warning')).toHaveLength(3);
    // exactly ten fit without a summary
    expect(
      annotations(Array.from({ length: 10 }, (_, i) => problem(i))).every((a) => a.startLine !== undefined),
    ).toBe(true);
  });

  describe('github', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kindling-summary-'));
    afterEach(() => {
      vi.restoreAllMocks();
      delete process.env.GITHUB_STEP_SUMMARY;
    });

    it('writes workflow-command annotations and a job summary table', async () => {
      const summary = join(dir, 'summary.md');
      writeFileSync(summary, '');
      process.env.GITHUB_STEP_SUMMARY = summary;
      const out: string[] = [];
      vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
        out.push(String(s));
        return true;
      });
      await writeGithub(result([problem(0), { ...problem(1, 'warning'), message: 'a <b> tag' }]));
      vi.restoreAllMocks();
      const lines = out.join('').trim().split('\n');
      expect(lines).toContain(
        '::error title=kindling validate [schema],file=manifests/a.yaml,line=1::problem 0',
      );
      expect(lines).toContain(
        '::warning title=kindling validate [schema],file=manifests/a.yaml,line=2::a <b> tag',
      );
      const md = readFileSync(summary, 'utf8');
      expect(md).toContain('<h2>kindling validate (kind)</h2>');
      expect(md).toContain('<td>manifests/a.yaml:1</td>');
      expect(md).toContain('a &lt;b&gt; tag');
      rmSync(dir, { recursive: true, force: true });
    });
  });
});
