import { connect } from 'node:net';
import { unknownKeys } from './params.ts';
import { type Outcome, type Probe, pass } from './types.ts';

/** `type: tcp` — the endpoint's port accepts a connection. */
export const tcpProbe: Probe = {
  type: 'tcp',
  usesEndpoint: true,
  params: [],
  validate: (check) => unknownKeys(check, []),
  describe: () => 'port accepts connections',
  run: (ctx) =>
    new Promise<Outcome>((resolve, reject) => {
      const url = ctx.url!;
      const host = url.hostname.replace(/^\[|\]$/g, '');
      const socket = connect({ host, port: Number(url.port) });
      const finish = (err?: Error) => {
        clearTimeout(timer);
        ctx.signal.removeEventListener('abort', onAbort);
        socket.destroy();
        if (err) reject(err);
        else resolve(pass(`connected to ${host}:${url.port}`));
      };
      const onAbort = () => finish(Object.assign(new Error('connect timed out'), { code: 'ETIMEDOUT' }));
      const timer = setTimeout(onAbort, Math.max(1, ctx.timeoutMs));
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      socket.once('connect', () => finish());
      socket.once('error', (err) => finish(err));
    }),
};
