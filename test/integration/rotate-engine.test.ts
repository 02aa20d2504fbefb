/**
 * The rotation engine's decisions, with an in-memory STAND-IN service (a map user → password that
 * accepts exactly its password, as the real servers in rotate.test.ts do): the rollback when the
 * new credential is refused, the refusal to start when no credential works, usage errors before
 * anything is touched. Plus the pure parts: password generator, SCRAM verifier, secrets file.
 */
import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rotateStack } from '../../src/app/rotate.ts';
import { loadStack } from '../../src/catalog/index.ts';
import type { Stack } from '../../src/catalog/types.ts';
import { ALPHABET, generatePassword } from '../../src/rotate/password.ts';
import { scramVerifier } from '../../src/rotate/postgres-role.ts';
import { rotators } from '../../src/rotate/registry.ts';
import { rotate } from '../../src/rotate/run.ts';
import { readSecretsFile } from '../../src/rotate/state.ts';
import type { Rotator } from '../../src/rotate/types.ts';
import { FailedError, UsageError } from '../../src/util/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'kindling-rotate-engine-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = () => join(dir, `s${++n}.json`);

/** Stand-in service: accepts exactly its password; `breakSet` makes set() store something else. */
function standIn(password: string, opts: { breakSet?: boolean } = {}) {
  const state = { password, sets: 0 };
  const rotator: Rotator = {
    type: 'stand-in',
    params: [],
    validate: () => [],
    login: async (_ctx, pw) => (pw === state.password ? 'accepted' : 'rejected'),
    set: async (_ctx, current, next) => {
      if (current !== state.password) throw new Error('stand-in: wrong current password');
      state.sets++;
      state.password = opts.breakSet ? `${next}-mangled` : next;
    },
  };
  return { state, rotator };
}

function stackWith(rotator: Rotator): Stack {
  const stack = structuredClone(loadStack('manifests/stack.yaml'));
  (rotators as Map<string, Rotator>).set(rotator.type, rotator);
  stack.components.postgres!.rotation = [{ name: 'superuser', type: rotator.type, user: 'postgres' }];
  return stack;
}
const endpoints = (pw: string) =>
  new Map([['postgres.sql', new URL(`postgresql://postgres:${pw}@127.0.0.1:1/postgres`)]]);

describe('rotation engine (stand-in service)', () => {
  it('happy path: four steps, the file holds current and previous, the service the new one', async () => {
    const { state, rotator } = standIn('old-secret');
    const f = file();
    const results = await rotate({
      stack: stackWith(rotator),
      components: ['postgres'],
      endpoints: endpoints('old-secret'),
      secretsFile: f,
      timeoutMs: 1000,
    });
    expect(results[0]).toMatchObject({
      outcome: 'rotated',
      steps: ['createSecret', 'setSecret', 'testSecret', 'finishSecret'],
      oldRejected: true,
    });
    const c = readSecretsFile(f).credentials['postgres/superuser']!;
    expect(state.password).toBe(c.current);
    expect(c.previous).toBe('old-secret');
    expect(statSync(f).mode & 0o777).toBe(0o600);
  });

  it('testSecret refuses the new credential: rolled back, the old one still works, exit 1', async () => {
    const { state, rotator } = standIn('old-secret', { breakSet: true });
    const f = file();
    const err = await rotate({
      stack: stackWith(rotator),
      components: ['postgres'],
      endpoints: endpoints('old-secret'),
      secretsFile: f,
      timeoutMs: 1000,
    }).catch((e) => e);
    expect(err).toBeInstanceOf(FailedError);
    expect(String(err.message)).toMatch(/the new credential is refused and the old one no longer works/);
    // the stand-in really lost the old password (mangled set): the pending is kept for a human
    expect(readSecretsFile(f).credentials['postgres/superuser']!.pending).toBeDefined();
    expect(state.sets).toBe(1);
  });

  it('set() that does not take (old still accepted, new refused) is rolled back and the pending dropped', async () => {
    const { state, rotator } = standIn('old-secret');
    const noop: Rotator = { ...rotator, type: 'stand-in-noop', set: async () => {} };
    const f = file();
    const err = await rotate({
      stack: stackWith(noop),
      components: ['postgres'],
      endpoints: endpoints('old-secret'),
      secretsFile: f,
      timeoutMs: 1000,
    }).catch((e) => e);
    expect(err).toBeInstanceOf(FailedError);
    expect(String(err.message)).toMatch(/the new credential was refused; the current one is kept/);
    const c = readSecretsFile(f).credentials['postgres/superuser']!;
    expect(c.pending).toBeUndefined();
    expect(c.current).toBe('old-secret');
    expect(state.password).toBe('old-secret');
  });

  it('no credential the service accepts: nothing is created or changed', async () => {
    const { state, rotator } = standIn('real-secret');
    const f = file();
    await expect(
      rotate({
        stack: stackWith(rotator),
        components: ['postgres'],
        endpoints: endpoints('wrong-secret'),
        secretsFile: f,
        timeoutMs: 1000,
      }),
    ).rejects.toThrow(/neither the recorded credential nor the one in the --endpoint URL is accepted/);
    expect(state.sets).toBe(0);
    expect(readSecretsFile(f).credentials['postgres/superuser']).toBeUndefined();
  });
});

describe('kindling rotate usage errors (exit 2, before anything is touched)', () => {
  const base = { catalog: 'manifests/stack.yaml', target: 'local', endpoints: [], timeout: '5s' };
  it.each([
    [{ ...base, components: 'postgres' }, /--write-secrets: is required/],
    [
      { ...base, components: 'postgres', writeSecrets: '/nonexistent-dir/x.json' },
      /--write-secrets: directory \/nonexistent-dir does not exist/,
    ],
    [{ ...base, writeSecrets: join(dir, 'u.json') }, /--components: is required/],
    [
      { ...base, components: 'postgres', writeSecrets: join(dir, 'u.json') },
      /manifests\/stack\.yaml:\d+: component "postgres" rotation "superuser": needs --endpoint postgres=URL/,
    ],
    [
      { ...base, components: 'kafka', writeSecrets: join(dir, 'u.json') },
      /none of kafka has a rotation: entry/,
    ],
    [
      {
        ...base,
        target: 'kube',
        endpoints: ['postgres=postgresql://postgres:x@127.0.0.1:1'],
        components: 'postgres',
        writeSecrets: join(dir, 'u.json'),
      },
      /--endpoint: is for target local/,
    ],
    [
      {
        ...base,
        target: 'kube',
        components: 'postgres',
        writeSecrets: join(dir, 'u.json'),
        kubeconfig: join(dir, 'no-such-kubeconfig'),
      },
      /no-such-kubeconfig/,
    ],
    [
      { ...base, target: 'cloud', components: 'postgres', writeSecrets: join(dir, 'u.json') },
      /--target: unknown target "cloud" \(kube, local\)/,
    ],
    [{ ...base, components: 'postgres', writeSecrets: join(dir, 'u.json'), timeout: 'soon' }, /--timeout/],
  ])('%#: %s', async (req, message) => {
    const err = await rotateStack(req).catch((e) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect(String(err.message)).toMatch(message);
  });

  it("a secrets file that is not kindling's is refused, not overwritten", async () => {
    const f = join(dir, 'foreign.json');
    writeFileSync(f, '{"hello": 1}');
    const err = await rotateStack({
      ...base,
      components: 'postgres',
      writeSecrets: f,
      endpoints: ['postgres=postgresql://postgres:x@127.0.0.1:1/postgres'],
    }).catch((e) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect(readFileSync(f, 'utf8')).toBe('{"hello": 1}');
  });
});

describe('passwords and verifiers', () => {
  it('generatePassword: CSPRNG letters and digits, at least 24 characters, no repeats across draws', () => {
    const all = Array.from({ length: 200 }, () => generatePassword());
    for (const p of all) expect(p).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(new Set(all).size).toBe(all.length);
    expect(generatePassword(24)).toHaveLength(24);
    expect(() => generatePassword(23)).toThrow(/at least 24/);
    // every symbol of the alphabet turns up (a broken draw over a subset would not)
    expect(new Set(all.join('')).size).toBe(ALPHABET.length);
  });

  it("scramVerifier: RFC 5802 keys in PostgreSQL's stored format", () => {
    const salt = Buffer.from('0123456789abcdef');
    const v = scramVerifier('pencil', salt, 4096);
    const m = /^SCRAM-SHA-256\$4096:([^$]+)\$([^:]+):(.+)$/.exec(v)!;
    expect(Buffer.from(m[1]!, 'base64')).toEqual(salt);
    const salted = pbkdf2Sync('pencil', salt, 4096, 32, 'sha256');
    const clientKey = createHmac('sha256', salted).update('Client Key').digest();
    expect(m[2]).toBe(createHash('sha256').update(clientKey).digest('base64'));
    expect(m[3]).toBe(createHmac('sha256', salted).update('Server Key').digest('base64'));
    expect(scramVerifier('pencil')).not.toBe(scramVerifier('pencil')); // a fresh salt each time
  });
});
