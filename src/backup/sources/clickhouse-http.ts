/**
 * ClickHouse's HTTP interface (port 8123), bounded: no activity — request body sent, answer
 * received — for `timeoutMs` fails the call. The query goes in the `query` URL parameter and data
 * in the POST body (ClickHouse docs, "HTTP Interface"; the same on 18.16 and 24.8). node:http, not
 * fetch: the global fetch's undici client waits 300 s for headers by default (nodejs/undici
 * `docs/docs/api/Client.md`, `headersTimeout: 300e3`), which would cut a long `wait_end_of_query`
 * SELECT or a big INSERT, and its `fetch failed` names nothing. Errors carry ClickHouse's own message and the
 * URL without credentials.
 */
import type { IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { type Readable, Transform } from 'node:stream';
import { httpAuth } from './endpoint.ts';

// Not `import … from 'node:http'`: building that ES module's namespace reads every export, and
// Node 24's http exports WebSocket, CloseEvent and MessageEvent as lazy getters that load the
// whole undici bundle and its llhttp WebAssembly — 12.6 MiB more RSS in every command that only
// loads this module (measured: `import('node:http')` +15.4 MiB, `getBuiltinModule` +2.8 MiB).
// test/unit/startup-modules.test.ts keeps undici out of `kindling backup`.
const { request: httpRequest } = process.getBuiltinModule('node:http');

export const CLICKHOUSE_TIMEOUT_MS = 30_000;

export interface ClickHouseCall {
  /** Data for `INSERT … FORMAT X` queries. */
  body?: Readable;
  signal?: AbortSignal;
  /** Longest silence in either direction (default 30 s). */
  timeoutMs?: number;
  /** Extra settings as URL parameters (e.g. `wait_end_of_query=1`). */
  settings?: Record<string, string>;
}

/** Runs one query; resolves with the answer's body as a stream (status 200), rejects otherwise. */
export function clickhouseStream(base: URL, sql: string, o: ClickHouseCall = {}): Promise<Readable> {
  const { origin, headers } = httpAuth(base);
  const timeoutMs = o.timeoutMs ?? CLICKHOUSE_TIMEOUT_MS;
  const where = `ClickHouse ${origin}`;
  const url = new URL(`${origin}/?${new URLSearchParams({ query: sql, ...o.settings })}`);
  return new Promise<Readable>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const why = (err: unknown) => {
      const e = err as { code?: string; message?: string };
      return new Error(`${where}: ${e?.code ?? e?.message ?? String(err)} (query: ${sql.slice(0, 120)})`, {
        cause: err,
      });
    };
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, {
      method: 'POST',
      headers: { ...headers, ...(o.body ? { 'transfer-encoding': 'chunked' } : { 'content-length': '0' }) },
    });
    let out: Transform | undefined;
    // before the answer: the promise rejects; after it: the answer's stream errors
    const stop = (err: Error) => {
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      req.destroy();
      if (out) out.destroy(err);
      else if (!settled) {
        settled = true;
        reject(err);
      }
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(
        () =>
          stop(new Error(`${where}: no answer within ${timeoutMs / 1000}s (query: ${sql.slice(0, 120)})`)),
        timeoutMs,
      );
    };
    const onAbort = () => stop(new Error(`${where}: aborted`));
    o.signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', (err) => stop(why(err)));
    req.on('response', (res: IncomingMessage) => {
      arm();
      if (res.statusCode !== 200) {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          text += d;
        });
        res.on('end', () =>
          stop(
            new Error(
              `${where} answered HTTP ${res.statusCode}: ${text.trim().split('\n')[0]?.slice(0, 400)}`,
            ),
          ),
        );
        return;
      }
      // every chunk re-arms the deadline; the end (or an error) disarms it
      out = new Transform({
        transform(chunk, _enc, cb) {
          arm();
          cb(null, chunk);
        },
        flush(cb) {
          clearTimeout(timer);
          o.signal?.removeEventListener('abort', onAbort);
          cb();
        },
      });
      res.on('error', (err) => stop(why(err)));
      out.once('close', () => {
        clearTimeout(timer);
        if (!res.destroyed) res.destroy();
      });
      res.pipe(out);
      settled = true;
      resolve(out);
    });
    arm();
    if (o.body) {
      o.body.on('data', arm);
      o.body.on('error', (err) => stop(why(err)));
      o.body.pipe(req);
    } else req.end();
  });
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
