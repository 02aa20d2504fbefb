import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { brokenStack, describeWithKubectl, GOOD } from './validate-helpers.ts';

/** Runs `kindling ...` in-process, capturing what it prints. */
async function run(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
    out.push(String(s));
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
    err.push(String(s));
    return true;
  });
  try {
    const code = await main(args);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    vi.restoreAllMocks();
  }
}

describeWithKubectl('kindling validate (CLI)', () => {
  afterEach(() => vi.restoreAllMocks());
  const catalog = `${GOOD}/stack.yaml`;

  it('exits 0 on the valid stack, for the default (kind) and the production sizing', async () => {
    const kind = await run('validate', '--catalog', catalog);
    expect(kind).toMatchObject({ code: 0, stderr: '' });
    expect(kind.stdout).toContain('validate (sizing kind, 9 objects): no problems');
    expect((await run('validate', '--catalog', catalog, '--sizing', 'production')).code).toBe(0);
  });

  it('exits 1 and lists every problem with file:line when the stack is broken', async () => {
    const s = brokenStack([
      { file: 'base/web.yaml', find: 'image: nginx:1.27.2', replace: 'image: nginx:latest' },
      { file: 'base/db.yaml', find: 'replicas: 1', replace: 'replicaz: 1' },
    ]);
    try {
      const r = await run('validate', '--catalog', s.catalog);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/web\.yaml:64: error: container web of Deployment web: image "nginx:latest"/);
      expect(r.stdout).toMatch(/db\.yaml:34: error: StatefulSet db: unknown field "spec\.replicaz"/);
      expect(r.stderr).toContain('kindling: failed: validate (sizing kind, 9 objects): 2 errors');
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
      const json = await run('validate', '--catalog', s.catalog, '--format', 'json');
      expect(json.code).toBe(1);
      expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, errors: 2, warnings: 0 });
    } finally {
      s.cleanup();
    }
  });

  it('exits 0 with warnings only (default credentials under kind)', async () => {
    const s = brokenStack([
      { file: 'base/web.yaml', find: 'ADMIN_PASSWORD: fixture-only-Hn4c', replace: 'ADMIN_PASSWORD: nacos' },
    ]);
    try {
      const r = await run('validate', '--catalog', s.catalog);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('0 errors, 1 warning');
      expect((await run('validate', '--catalog', s.catalog, '--sizing', 'production')).code).toBe(1);
    } finally {
      s.cleanup();
    }
  });

  it('reports a broken catalog as problems (exit 1), not as a usage error', async () => {
    const s = brokenStack([{ file: 'stack.yaml', find: 'dependsOn: [db]', replace: 'dependsOn: [web]' }]);
    try {
      const r = await run('validate', '--catalog', s.catalog);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(
        /stack\.yaml:34: error: dependency cycle: migrate -> web -> migrate \[dependency-cycle\]/,
      );
    } finally {
      s.cleanup();
    }
  });

  it.each([
    [['--catalog', '/nonexistent/stack.yaml'], '--catalog: no such file: /nonexistent/stack.yaml'],
    [['--catalog', GOOD], 'is a directory'],
    [['--sizing', 'staging'], '--sizing: unknown sizing "staging"; the catalog has kind, production'],
    [['--format', 'xml'], "argument 'xml' is invalid"],
    [['--bogus'], "unknown option '--bogus'"],
  ])('exits 2 on a usage error: %s', async (args, message) => {
    const r = await run('validate', '--catalog', catalog, ...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stdout).toBe('');
  });

  it('reports a check parameter that verify would refuse (one validity pass), and verify refuses it (exit 2)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kindling-params-'));
    cpSync('manifests', dir, { recursive: true });
    const file = join(dir, 'stack.yaml');
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('expect: { equals: PONG }');
    writeFileSync(file, text.replace('expect: { equals: PONG }', 'expect: { equls: PONG }'));
    try {
      const r = await run('validate', '--catalog', file);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(
        /stack\.yaml:\d+: error: check "ping" of "redis": expect\.equls: unknown expectation "equls"/,
      );
      const v = await run(
        'verify',
        '--catalog',
        file,
        '--target',
        'local',
        '--endpoint',
        'redis=redis://127.0.0.1:1',
      );
      expect(v.code).toBe(2);
      expect(v.stderr).toMatch(/unknown expectation "equls"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('has --help', async () => {
    const r = await run('validate', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--format <format>');
    expect(r.stdout).toContain('Exit status: 0 no errors');
  });
});
