/**
 * ClickHouse's HTTP interface (port 8123), bounded: the answer's headers must come within
 * `timeoutMs`, and a streamed body may not stall for longer than that. The query goes in the
 * `query` URL parameter and data in the POST body (ClickHouse docs, "HTTP Interface"; the same on
 * 18.16 and 24.8). Errors carry ClickHouse's own message and the URL without credentials.
 */
import { Readable, Transform } from 'node:stream';
import { httpAuth } from './endpoint.ts';
import { networkReason } from './http.ts';

export const CLICKHOUSE_TIMEOUT_MS = 30_000;

export interface ClickHouseCall {
  /** Data for `INSERT … FORMAT X` queries. */
  body?: Readable;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Extra settings as URL parameters (e.g. `wait_end_of_query=1`). */
  settings?: Record<string, string>;
}

/** Runs one query; resolves with the answer's body as a stream (status 200), rejects otherwise. */
export async function clickhouseStream(base: URL, sql: string, o: ClickHouseCall = {}): Promise<Readable> {
  const { origin, headers } = httpAuth(base);
  const timeoutMs = o.timeoutMs ?? CLICKHOUSE_TIMEOUT_MS;
  const abort = new AbortController();
  const onAbort = () => abort.abort(o.signal?.reason);
  o.signal?.addEventListener('abort', onAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timedOut = true;
      abort.abort();
    }, timeoutMs);
  };
  const params = new URLSearchParams({ query: sql, ...o.settings });
  const where = `ClickHouse ${origin}`;
  const fail = (err: unknown) =>
    new Error(
      `${where}: ${timedOut ? `no answer within ${timeoutMs / 1000}s` : networkReason(err, timeoutMs)} (query: ${sql.slice(0, 120)})`,
      { cause: err },
    );
  arm();
  let res: Response;
  try {
    res = await fetch(`${origin}/?${params}`, {
      method: 'POST',
      headers,
      body: o.body ? (o.body as unknown as AsyncIterable<Uint8Array>) : undefined,
      // a streamed request body needs half duplex (fetch standard; undici enforces it)
      ...(o.body ? { duplex: 'half' } : {}),
      signal: abort.signal,
    } as RequestInit);
  } catch (err) {
    clearTimeout(timer);
    o.signal?.removeEventListener('abort', onAbort);
    throw fail(err);
  }
  if (res.status !== 200 || !res.body) {
    clearTimeout(timer);
    o.signal?.removeEventListener('abort', onAbort);
    const text = await res.text().catch(() => '');
    throw new Error(`${where} answered HTTP ${res.status}: ${text.trim().split('\n')[0]?.slice(0, 400)}`);
  }
  const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
  const done = () => {
    clearTimeout(timer);
    o.signal?.removeEventListener('abort', onAbort);
  };
  // every chunk re-arms the idle deadline; the end (or an error) disarms it
  const out = new Transform({
    transform(chunk, _enc, cb) {
      arm();
      cb(null, chunk);
    },
    flush(cb) {
      done();
      cb();
    },
  });
  body.once('error', (err) => out.destroy(fail(err)));
  out.once('close', () => {
    done();
    if (!body.destroyed) body.destroy();
  });
  body.pipe(out);
  return out;
}

/** Runs one query and returns its whole answer as text (small answers: lists, counts, DDL). */
export async function clickhouseText(base: URL, sql: string, o: ClickHouseCall = {}): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of await clickhouseStream(base, sql, o)) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Tab-separated rows of a `FORMAT TabSeparated` answer, unescaped. */
export function tsvRows(text: string): string[][] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split('\t').map(unescapeTsv));
}

/** TabSeparated escapes (ClickHouse docs, "TabSeparated"): \t \n \\ \' and \0. */
export function unescapeTsv(s: string): string {
  return s.replace(/\\(.)/g, (_, c: string) =>
    c === 'n'
      ? '\n'
      : c === 't'
        ? '\t'
        : c === '0'
          ? '\0'
          : c === 'r'
            ? '\r'
            : c === 'b'
              ? '\b'
              : c === 'f'
                ? '\f'
                : c,
  );
}

/** `db`.`table`, backquoted as ClickHouse accepts identifiers. */
export const chIdent = (s: string) => `\`${s.replace(/\\/g, '\\\\').replace(/`/g, '\\`')}\``;
export const chLiteral = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
