import { describe, expect, it } from 'vitest';
import { runCli } from '../harness/cli.ts';

const cli = (...argv: string[]) => runCli(argv);

describe('kindling CLI', () => {
  it('prints help with exit 0', async () => {
    const r = await cli('--help');
    expect(r.code).toBe(0);
    expect(r.out).toContain('Usage: kindling');
  });
  it('loads only the module of the command being run', async () => {
    const { buildProgram } = await import('../../src/cli/main.ts');
    expect((await buildProgram(['validate', '--help'])).commands.map((c) => c.name())).toEqual(['validate']);
    expect((await buildProgram(['backups', 'list', '--json'])).commands.map((c) => c.name())).toEqual([
      'backup',
      'restore',
      'backups',
    ]);
  });
  it('--version prints the version (exit 0) without loading any command module', async () => {
    const { VERSION } = await import('../../src/version.ts');
    const r = await cli('--version');
    expect(r.code).toBe(0);
    expect(r.out.trim()).toBe(VERSION);
    const { buildProgram } = await import('../../src/cli/main.ts');
    expect((await buildProgram(['--version'])).commands).toEqual([]);
  });
  it('an unknown command is a usage error (exit 2) naming it', async () => {
    const r = await cli('frobnicate');
    expect(r.code).toBe(2);
    expect(r.err).toContain("unknown command 'frobnicate'");
  });
  it('every command has --help', async () => {
    const { buildProgram } = await import('../../src/cli/main.ts');
    const names = (await buildProgram()).commands.map((c) => c.name());
    expect(names.length).toBeGreaterThan(3);
    for (const name of names.filter((n) => n !== 'help')) {
      const r = await cli(name, '--help');
      expect(r.code, name).toBe(0);
      expect(r.out, name).toContain(`Usage: kindling ${name}`);
    }
  });
});

describe('a catalog with a renamed key', () => {
  it('plan exits 2 naming the file:line and the new key (render.defaultProfile → defaultSizing)', async () => {
    const { mkdtempSync, readFileSync, rmSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'kindling-renamed-'));
    try {
      const text = readFileSync('manifests/stack.yaml', 'utf8');
      const line = text.split('\n').findIndex((l) => l.includes('defaultSizing:')) + 1;
      const catalog = join(dir, 'stack.yaml');
      writeFileSync(catalog, text.replace('defaultSizing:', 'defaultProfile:'));
      const r = await cli('plan', '--catalog', catalog);
      expect(r.code).toBe(2);
      expect(r.err).toContain(`stack.yaml:${line}`);
      expect(r.err).toContain('render.defaultProfile is now render.defaultSizing');
      expect(r.err).not.toMatch(/\n\s+at /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('kindling as a process', () => {
  it('exits quietly when its reader goes away (kindling --help | head -1)', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, ['bin/kindling.js', '--help'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += String(d);
    });
    child.stdout.destroy(); // the reader closes before kindling writes
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(stderr).not.toMatch(/EPIPE|at .*\.js:\d+/);
    expect(code).toBe(0);
  });
});
