import { execProbe } from './exec.ts';
import { httpProbe } from './http.ts';
import { kafkaProbe } from './kafka.ts';
import { metricsProbe } from './metrics.ts';
import { redisProbe } from './redis.ts';
import { s3Probe } from './s3.ts';
import { sqlProbe } from './sql.ts';
import { tcpProbe } from './tcp.ts';
import type { Probe } from './types.ts';

/** Every check type, by its `type:` in the catalog. A new type is one file plus one line here. */
export const probes: Readonly<Record<string, Probe>> = Object.fromEntries(
  [sqlProbe, redisProbe, httpProbe, tcpProbe, kafkaProbe, execProbe, s3Probe, metricsProbe].map((p) => [
    p.type,
    p,
  ]),
);
