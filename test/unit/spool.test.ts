import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSpool, readSpool, SPOOL_RESERVE_BYTES, spoolDecision } from '../../src/backup/spool.ts';

const parent = mkdtempSync(join(tmpdir(), 'spool-test-'));
afterAll(() => rmSync(parent, { recursive: true, force: true }));

async function readAll(r: NodeJS.ReadableStream): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of r) out.push(c as Buffer);
  return Buffer.concat(out);
}

describe('spoolDecision (pure)', () => {
  it('spools within the cap and the free space, not above the cap, without room, or when off', () => {
    expect(spoolDecision(100, 1000, 100 + SPOOL_RESERVE_BYTES)).toEqual({ spool: true });
    expect(spoolDecision(1001, 1000, 10 ** 12)).toMatchObject({
      spool: false,
      why: expect.stringMatching(/cap/),
    });
    expect(spoolDecision(100, 1000, 99 + SPOOL_RESERVE_BYTES)).toMatchObject({
      spool: false,
      why: expect.stringMatching(/free/),
    });
    expect(spoolDecision(0, 0, 10 ** 12)).toEqual({ spool: false, why: 'spooling is off' });
  });
});

describe('openSpool', () => {
  it('creates a private directory under the parent and removes it, once, on dispose', () => {
    const before = process.listenerCount('SIGTERM');
    const spool = openSpool(10, { dir: parent }, () => {})!;
    expect(spool.dir.startsWith(join(parent, 'kindling-restore-'))).toBe(true);
    expect(statSync(spool.dir).mode & 0o777).toBe(0o700);
    expect(process.listenerCount('SIGTERM')).toBe(before + 1);
    writeFileSync(spool.file(0), 'x');
    spool.dispose();
    spool.dispose();
    expect(existsSync(spool.dir)).toBe(false);
    expect(process.listenerCount('SIGTERM')).toBe(before);
  });

  it('says why and returns nothing above the cap or in a missing directory', () => {
    const lines: string[] = [];
    expect(openSpool(2048, { dir: parent, maxBytes: 1024 }, (l) => lines.push(l))).toBeUndefined();
    expect(openSpool(1, { dir: join(parent, 'missing') }, (l) => lines.push(l))).toBeUndefined();
    expect(lines[0]).toMatch(/no spool \(.*exceed the spool cap.*\): downloading every artifact twice/);
    expect(lines[1]).toMatch(/no spool in .*missing.*downloading every artifact twice/);
    expect(readdirSync(parent).filter((f) => f.startsWith('kindling-restore-'))).toEqual([]);
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    it(`is removed when the process gets ${signal}, which then ends the process as before`, async () => {
      const child = spawn(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `const { openSpool } = await import(${JSON.stringify(new URL('../../src/backup/spool.ts', import.meta.url).href)});
           const { writeFileSync } = await import('node:fs');
           const s = openSpool(10, { dir: ${JSON.stringify(parent)} }, () => {});
           writeFileSync(s.file(0), 'data');
           console.log(s.dir);
           setInterval(() => {}, 1000);`,
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      const [line] = (await once(child.stdout!, 'data')) as [Buffer];
      const dir = line.toString().trim();
      expect(existsSync(join(dir, '0'))).toBe(true);
      child.kill(signal);
      const [code, sig] = await once(child, 'exit');
      expect({ code, sig }).toEqual({ code: null, sig: signal });
      expect(existsSync(dir)).toBe(false);
    });
});

describe('readSpool', () => {
  it('reads the file byte for byte in chunks of at most the given size', async () => {
    const data = randomBytes(200_003);
    const file = join(parent, 'data');
    writeFileSync(file, data);
    const chunks: Buffer[] = [];
    const r = readSpool(file, 65536).on('data', (c: Buffer) => chunks.push(c));
    await once(r, 'end');
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
    expect(Math.max(...chunks.map((c) => c.length))).toBe(65536);
    expect(await readAll(readSpool(join(parent, 'empty-missing'), 65536)).catch((e) => String(e))).toMatch(
      /ENOENT/,
    );
  });
});
