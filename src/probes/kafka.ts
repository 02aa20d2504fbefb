import { Kafka, logLevel } from 'kafkajs';
import { isObject } from './expect.ts';
import { expectKeys, expectOf, unknownKeys } from './params.ts';
import { notReady, type Outcome, type ParamProblem, type Probe, pass, wrong } from './types.ts';

/**
 * `type: kafka` — cluster metadata through the admin API. `expect`: `minBrokers` (default 1),
 * `controller: true` (an active controller is reported), `topics: [..]` (these topics exist).
 * URL: `kafka://[user:pass@]host:port` (credentials → SASL/PLAIN).
 */
export const kafkaProbe: Probe = {
  type: 'kafka',
  usesEndpoint: true,
  params: ['expect'],
  validate: (check) => {
    const e = expectOf(check);
    const problems: ParamProblem[] = [
      ...unknownKeys(check, kafkaProbe.params),
      ...expectKeys(check, ['minBrokers', 'controller', 'topics']),
    ];
    if (e.minBrokers !== undefined && !(Number.isInteger(e.minBrokers) && (e.minBrokers as number) >= 1))
      problems.push({ path: ['expect', 'minBrokers'], message: 'must be a whole number >= 1' });
    if (e.controller !== undefined && typeof e.controller !== 'boolean')
      problems.push({ path: ['expect', 'controller'], message: 'must be true or false' });
    if (e.topics !== undefined && !(Array.isArray(e.topics) && e.topics.every((t) => typeof t === 'string')))
      problems.push({ path: ['expect', 'topics'], message: 'must be a list of topic names' });
    if (!isObject(check.expect ?? {})) problems.push({ path: ['expect'], message: 'must be a map' });
    return problems;
  },
  describe: (check) => {
    const e = expectOf(check);
    const parts = [`>= ${e.minBrokers ?? 1} broker(s)`];
    if (e.controller) parts.push('an active controller');
    if (Array.isArray(e.topics)) parts.push(`topics ${e.topics.join(', ')}`);
    return parts.join(', ');
  },
  run: async (ctx): Promise<Outcome> => {
    const url = ctx.url!;
    const e = expectOf(ctx.check);
    const timeout = Math.max(100, ctx.timeoutMs);
    const username = decodeURIComponent(url.username);
    const kafka = new Kafka({
      clientId: 'kindling-verify',
      brokers: [`${url.hostname}:${url.port || 9092}`],
      connectionTimeout: timeout,
      requestTimeout: timeout,
      retry: { retries: 0 },
      logLevel: logLevel.NOTHING,
      ...(username
        ? { sasl: { mechanism: 'plain' as const, username, password: decodeURIComponent(url.password) } }
        : {}),
    });
    const admin = kafka.admin();
    const onAbort = () => void admin.disconnect().catch(() => {});
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      const brokers = cluster.brokers.length;
      const controller = cluster.controller;
      const actual = `${brokers} broker(s), controller ${controller ?? 'none'}`;
      const minBrokers = Number(e.minBrokers ?? 1);
      if (brokers < minBrokers) return notReady(`expected at least ${minBrokers} broker(s)`, actual);
      if (e.controller === true && (controller === null || controller === undefined || controller < 0))
        return notReady('no active controller', actual);
      if (Array.isArray(e.topics)) {
        const topics = await admin.listTopics();
        const missing = (e.topics as string[]).filter((t) => !topics.includes(t));
        if (missing.length)
          return wrong(
            `missing topic(s) ${missing.join(', ')}`,
            `${actual}; topics: ${topics.join(', ') || 'none'}`,
          );
      }
      return pass(actual);
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
      await admin.disconnect().catch(() => {});
    }
  },
};
