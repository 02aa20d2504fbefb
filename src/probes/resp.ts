import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

/** A RESP2 reply: text, number, null, a list of replies, or a server error (never thrown). */
export type Reply = string | number | null | Reply[] | { error: string };

/** Encodes a command as a RESP array of bulk strings. */
export function encodeCommand(argv: readonly string[]): Buffer {
  const parts = [`*${argv.length}\r\n`];
  for (const a of argv) parts.push(`$${Buffer.byteLength(a)}\r\n${a}\r\n`);
  return Buffer.from(parts.join(''));
}

/** Parses one reply at `offset`; undefined when the buffer does not hold a whole reply yet. */
export function parseReply(buf: Buffer, offset = 0): { reply: Reply; next: number } | undefined {
  const eol = buf.indexOf('\r\n', offset);
  if (eol < 0) return undefined;
  const type = String.fromCharCode(buf[offset]!);
  const line = buf.toString('utf8', offset + 1, eol);
  const after = eol + 2;
  switch (type) {
    case '+':
      return { reply: line, next: after };
    case '-':
      return { reply: { error: line }, next: after };
    case ':':
      return { reply: Number(line), next: after };
    case '$': {
      const len = Number(line);
      if (len < 0) return { reply: null, next: after };
      if (buf.length < after + len + 2) return undefined;
      return { reply: buf.toString('utf8', after, after + len), next: after + len + 2 };
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return { reply: null, next: after };
      const items: Reply[] = [];
      let at = after;
      for (let i = 0; i < n; i++) {
        const r = parseReply(buf, at);
        if (!r) return undefined;
        items.push(r.reply);
        at = r.next;
      }
      return { reply: items, next: at };
    }
    default:
      throw new Error(`not a Redis reply (starts with ${JSON.stringify(type)})`);
  }
}

/**
 * Sends commands over one connection and returns their replies in order. Plain sockets, no
 * reconnect or offline queue: an unreachable server is an error at once, which the runner retries.
 */
export async function redisCommands(
  url: URL,
  commands: readonly (readonly string[])[],
  opts: { signal: AbortSignal; timeoutMs: number },
): Promise<Reply[]> {
  const port = Number(url.port || 6379);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const socket: Socket =
    url.protocol === 'rediss:' ? tlsConnect({ host, port, servername: host }) : netConnect({ host, port });
  return new Promise<Reply[]>((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const replies: Reply[] = [];
    const done = (err?: Error) => {
      clearTimeout(timer);
      opts.signal.removeEventListener('abort', onAbort);
      socket.destroy();
      if (err) reject(err);
      else resolve(replies);
    };
    const onAbort = () =>
      done(Object.assign(new Error('timed out waiting for Redis'), { code: 'ETIMEDOUT' }));
    const timer = setTimeout(onAbort, opts.timeoutMs);
    opts.signal.addEventListener('abort', onAbort, { once: true });
    socket.once('error', (err) => done(err));
    socket.once('close', () => {
      if (replies.length < commands.length)
        done(Object.assign(new Error('Redis closed the connection'), { code: 'ECONNRESET' }));
    });
    socket.once(url.protocol === 'rediss:' ? 'secureConnect' : 'connect', () => {
      socket.write(Buffer.concat(commands.map((c) => encodeCommand(c))));
    });
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      try {
        for (;;) {
          const r = parseReply(buf);
          if (!r) break;
          replies.push(r.reply);
          buf = buf.subarray(r.next);
          if (replies.length === commands.length) return done();
        }
      } catch (err) {
        done(err as Error);
      }
    });
  });
}
