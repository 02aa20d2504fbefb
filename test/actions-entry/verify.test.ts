/**
 * actions/verify's bundle run as GitHub runs it, on target local against real PostgreSQL and Redis.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  describeWithServices,
  psql,
  type RunningPostgres,
  type RunningRedis,
  startPostgres,
  startRedis,
} from '../harness/services.ts';
import { actionSpec, errors, hasBundle, missingBundle, runAction } from './run-action.ts';

const ready = hasBundle('verify');
// No hidden skip: without a bundle this suite fails, naming what is missing.
if (!ready) missingBundle('verify');
else
  describeWithServices(
    'actions/verify entry point on target local (real PostgreSQL, Redis)',
    ['postgres', 'redis'],
    () => {
      let pg: RunningPostgres;
      let redis: RunningRedis;
      let badRedis: RunningRedis;
      beforeAll(async () => {
        [pg, redis, badRedis] = await Promise.all([
          startPostgres(),
          // as the stack's redis.yaml configures it (the catalog's checks assert both)
          startRedis({ config: ['--maxmemory-policy', 'allkeys-lru', '--appendonly', 'yes'] }),
          startRedis(),
        ]);
        // the seed's databases, which the catalog's seed-databases check expects
        for (const db of ['identity', 'conversation', 'knowledge']) psql(pg, `CREATE DATABASE ${db}`);
      });
      afterAll(async () => {
        await Promise.all([pg?.stop(), redis?.stop(), badRedis?.stop()]);
      });

      const inputs = (redisUrl: string) => ({
        target: 'local',
        components: 'postgres,redis',
        endpoints: `postgres=${pg.url}\nredis=${redisUrl}`,
      });

      it('passes, writes every declared output and a job summary', async () => {
        const r = await runAction('verify', inputs(redis.url));
        expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
        for (const name of Object.keys(actionSpec('verify').outputs))
          expect(r.outputs, `output ${name}`).toHaveProperty(name);
        expect(Number(r.outputs.failed)).toBe(0);
        expect(Number(r.outputs.passed)).toBeGreaterThanOrEqual(4);
        const results = JSON.parse(r.outputs.results!) as unknown;
        const text = JSON.stringify(results);
        for (const c of ['postgres', 'redis', 'version', 'seed-databases', 'ping', 'maxmemory-policy'])
          expect(text).toContain(c);
        expect(r.summary).toMatch(/postgres/);
        expect(r.summary).toMatch(/redis/);
      });

      it('fails (exit 1) on a Redis without the stack configuration, still writing its outputs', async () => {
        const r = await runAction('verify', inputs(badRedis.url));
        expect(r.code).toBe(1);
        expect(Number(r.outputs.failed)).toBeGreaterThanOrEqual(1);
        expect(r.outputs.results).toMatch(/maxmemory-policy/);
        expect(errors(r)).toMatch(/redis/);
        expect(r.summary).not.toBe('');
      });

      it('writes the JSON and JUnit reports it is asked for', async () => {
        const { mkdtempSync, readFileSync } = await import('node:fs');
        const { join } = await import('node:path');
        const { tmpdir } = await import('node:os');
        const dir = mkdtempSync(join(tmpdir(), 'kindling-verify-reports-'));
        const r = await runAction('verify', {
          ...inputs(redis.url),
          json: join(dir, 'r.json'),
          junit: join(dir, 'r.xml'),
        });
        expect(r.code, r.stdout).toBe(0);
        expect(JSON.stringify(JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')))).toContain(
          'seed-databases',
        );
        expect(readFileSync(join(dir, 'r.xml'), 'utf8')).toMatch(
          /<testsuites?[\s>][\s\S]*classname="postgres"/,
        );
      });
    },
  );
