/**
 * Issue #11 item 8: the seed's 90-day ClickHouse retention reaches application tables only through
 * their own table TTL, so the catalog check clickhouse/tables-have-ttl lists the MergeTree tables of
 * `analytics` without one. Run here against the real ClickHouse 18.16, which predates TTL (19.6):
 * it shows a table without TTL is reported and other engines are not; that a table WITH a TTL
 * passes rests on 24.8's create_table_query text ("… ENGINE = MergeTree … TTL d + toIntervalDay(90)").
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadStack } from '../../src/catalog/index.ts';
import { httpProbe } from '../../src/probes/http.ts';
import { describeWithServices, type RunningClickHouse, startClickHouse } from '../harness/services.ts';

const check = loadStack('manifests/stack.yaml').components.clickhouse!.checks.find(
  (c) => c.name === 'tables-have-ttl',
)!;

describeWithServices('clickhouse/tables-have-ttl on the real ClickHouse', ['clickhouse'], () => {
  let ch: RunningClickHouse;
  beforeAll(async () => {
    ch = await startClickHouse();
  }, 30_000);
  afterAll(async () => {
    await ch?.stop();
  });
  const sql = async (q: string) => {
    const res = await fetch(`${ch.url}/`, { method: 'POST', body: q, signal: AbortSignal.timeout(5000) });
    expect(res.status, await res.clone().text()).toBe(200);
  };
  const run = () =>
    httpProbe.run({
      check,
      url: new URL(ch.url),
      signal: new AbortController().signal,
      timeoutMs: 5000,
      namespace: 'test',
      component: { name: 'test' },
    } as unknown as Parameters<typeof httpProbe.run>[0]);

  it('passes without application tables, fails naming a MergeTree table without TTL, ignores other engines', async () => {
    expect((await run()).kind).toBe('pass');
    await sql('CREATE DATABASE IF NOT EXISTS analytics');
    await sql('CREATE TABLE analytics.sessions (x UInt8) ENGINE = Memory');
    expect((await run()).kind).toBe('pass');
    await sql('CREATE TABLE analytics.events (d Date, x UInt8) ENGINE = MergeTree() ORDER BY x');
    const failed = await run();
    expect(failed).toMatchObject({ kind: 'fail' });
    expect(JSON.stringify(failed)).toContain('events');
    expect(JSON.stringify(failed)).not.toContain('sessions');
  });
});
