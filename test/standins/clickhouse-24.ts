/**
 * Stand-in for ClickHouse 24.8's HTTP interface — the pinned server (manifests/base/clickhouse.yaml)
 * cannot run here — answering exactly the statements `type: clickhouse-server-backup` and the
 * portable drill's comparison send, and nothing else (anything else: `Code: 48 … NOT_IMPLEMENTED`).
 *
 * Faithful on the points tested (ClickHouse/ClickHouse):
 * - the query is the `query` URL parameter, then the POST body after a newline (docs "HTTP
 *   Interface"); errors are a non-200 answer whose body is `Code: N. DB::Exception: …. (NAME)
 *   (version V (official build))` and whose `X-ClickHouse-Exception-Code` header holds N
 *   (src/Server/HTTPHandler.cpp; the message form as docs/en/operations/backup.md quotes it);
 * - `BACKUP|RESTORE DATABASE a [AS b], … TO|FROM S3('url', 'key', 'secret') ASYNC` answers at once
 *   with one TabSeparated row `id<TAB>status` (src/Interpreters/InterpreterBackupQuery.cpp), the
 *   work then runs in the background and `system.backups` shows it by id: CREATING_BACKUP →
 *   BACKUP_CREATED | BACKUP_FAILED, RESTORING → RESTORED | RESTORE_FAILED (src/Backups/
 *   BackupStatus.cpp), `error` holding the exception text, `num_files`/`total_size` set at the end,
 *   `name` with the secret shown as '[HIDDEN]' (src/Backups/BackupInfo.cpp toStringForLogging,
 *   src/Parsers/FunctionSecretArgumentsFinder.h);
 * - the backup is real objects written into the S3 server the URL names, path-style, with the
 *   key and secret given, under the URL's path: a `.lock` first, removed at the end, the `.backup`
 *   listing (name, size, checksum per file; num_files = its entries, total_size = their sizes)
 *   written last, everything removed again when the backup fails; a prefix that holds a `.backup`
 *   fails with `Code: 598 … (BACKUP_ALREADY_EXISTS)`; RESTORE without `.backup` fails
 *   BACKUP_NOT_FOUND (src/Backups/BackupImpl.cpp: createLockFile, writeBackupMetadata,
 *   checkBackupDoesntExist, readBackupMetadata, removeAllFilesAfterFailure); an S3 error fails the
 *   operation with `Code: 499 … (S3_ERROR)`;
 * - `s3(url, key, secret, 'RawBLOB', 'data String')` reads one object as a String (docs "s3 Table
 *   Function", "Formats: RawBLOB"); a missing object or a refused key is `Code: 499 … (S3_ERROR)`;
 * - JSONEachRow quotes UInt64 values (`output_format_json_quote_64bit_integers`, default 1);
 *   TabSeparated escapes \\ \t \n \' (docs "TabSeparated").
 *
 * NOT faithful (not relied on): the objects' layout and contents are the stand-in's own (the real
 * server writes part files and a `.backup` XML with 128-bit checksums), and `cityHash64` is a
 * 64-bit hash of the row's text, not CityHash64 — equal rows still give equal sums, which is all
 * the drill compares. `hosts` plays cluster DNS: an S3 host the URL names is looked up there.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { S3Store } from '../../src/store/s3.ts';

export const STANDIN_VERSION = '24.8.4.13';

export interface StandinTable {
  engine: string;
  columns: { name: string; type: string }[];
  rows: string[][];
}

interface Operation {
  id: string;
  name: string;
  status: string;
  error: string;
  numFiles: number;
  totalSize: number;
}

class ChError extends Error {
  readonly code: number;
  readonly codeName: string;
  readonly http: number;
  constructor(code: number, codeName: string, message: string, http = 500) {
    super(message);
    this.code = code;
    this.codeName = codeName;
    this.http = http;
  }
  get text() {
    return `Code: ${this.code}. DB::Exception: ${this.message}. (${this.codeName}) (version ${STANDIN_VERSION} (official build))`;
  }
}

const unquote = (s: string) => s.replace(/\\(.)/g, '$1');
const literals = (s: string) => [...s.matchAll(/'((?:[^'\\]|\\.)*)'/g)].map((m) => unquote(m[1]!));
const idents = (s: string) => [...s.matchAll(/`((?:[^`\\]|\\.)*)`/g)].map((m) => unquote(m[1]!));
const tsv = (v: string) =>
  v.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/'/g, "\\'");
const rowsText = (rows: string[][]) => rows.map((r) => `${r.map(tsv).join('\t')}\n`).join('');

/** Splits `a UInt64, b Nullable(Float64)` at depth-0 commas. */
function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const c of s) {
    if (c === '(') depth++;
    if (c === ')') depth--;
    if (c === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

export class ClickHouse24Standin {
  readonly databases = new Map<string, Map<string, StandinTable>>();
  readonly operations = new Map<string, Operation>();
  /** Every statement received (tests check what was sent). */
  readonly statements: string[] = [];
  /** How long a BACKUP/RESTORE stays CREATING_BACKUP/RESTORING before the work starts. */
  workDelayMs = 300;
  /** `host:port` in an S3 URL → `host:port` to connect to (cluster DNS). */
  hosts: Record<string, string> = {};
  private server?: Server;
  url = '';

  addTable(db: string, table: string, t: StandinTable): void {
    if (!this.databases.has(db)) this.databases.set(db, new Map());
    this.databases.get(db)!.set(table, t);
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const param = new URL(req.url ?? '/', 'http://x').searchParams.get('query') ?? '';
    const body = Buffer.concat(chunks).toString('utf8');
    const sql = [param, body].filter(Boolean).join('\n').replace(/\s+/g, ' ').trim();
    this.statements.push(sql);
    try {
      const out = await this.run(sql);
      res.writeHead(200, { 'content-type': 'text/tab-separated-values; charset=UTF-8' });
      res.end(out);
    } catch (err) {
      const e = err instanceof ChError ? err : new ChError(1001, 'STD_EXCEPTION', (err as Error).message);
      res.writeHead(e.http, {
        'content-type': 'text/plain; charset=UTF-8',
        'x-clickhouse-exception-code': String(e.code),
      });
      res.end(`${e.text}\n`);
    }
  }

  private db(name: string): Map<string, StandinTable> {
    const d = this.databases.get(name);
    if (!d) throw new ChError(81, 'UNKNOWN_DATABASE', `Database ${name} does not exist`, 404);
    return d;
  }

  /** The statements answered, each a pattern and its answer (anything else: NOT_IMPLEMENTED). */
  private routes(): [RegExp, (m: RegExpMatchArray) => string | Promise<string>][] {
    const sorted = <T>(m: Map<string, T>) => [...m].sort(([a], [b]) => a.localeCompare(b));
    return [
      [/^SELECT version\(\) FORMAT TabSeparated$/, () => `${STANDIN_VERSION}\n`],
      [
        /^SELECT count\(\) FROM system\.tables WHERE database = 'system' AND name = 'backups' FORMAT TabSeparated$/,
        () => '1\n',
      ],
      [
        /^SELECT name FROM system\.databases WHERE name (NOT )?IN \((.*)\)( ORDER BY name)? FORMAT TabSeparated$/,
        (m) => {
          const list = literals(m[2]!);
          const names = [...this.databases.keys()].filter((n) =>
            m[1] ? !list.includes(n) : list.includes(n),
          );
          return rowsText(names.sort().map((n) => [n]));
        },
      ],
      [
        /^SELECT database, name, engine FROM system\.tables WHERE database (NOT )?IN \((.*)\) AND NOT startsWith\(name, '\.inner'\) ORDER BY database, name FORMAT TabSeparated$/,
        (m) => {
          const list = literals(m[2]!);
          const rows: string[][] = [];
          for (const [d, tables] of sorted(this.databases))
            if (m[1] ? !list.includes(d) : list.includes(d))
              for (const [t, info] of sorted(tables)) rows.push([d, t, info.engine]);
          return rowsText(rows);
        },
      ],
      [
        /^SELECT database, name FROM system\.tables WHERE database IN \((.*)\) FORMAT TabSeparated$/,
        (m) => {
          const list = literals(m[1]!);
          const rows: string[][] = [];
          for (const [d, tables] of this.databases)
            if (list.includes(d)) for (const t of tables.keys()) rows.push([d, t]);
          return rowsText(rows);
        },
      ],
      [
        /^SELECT name FROM system\.columns WHERE database = (.+) AND table = (.+) ORDER BY name FORMAT TabSeparated$/,
        (m) => {
          const t = this.databases.get(literals(m[1]!)[0]!)?.get(literals(m[2]!)[0]!);
          return rowsText((t?.columns ?? []).map((c) => [c.name]).sort(([a], [b]) => a!.localeCompare(b!)));
        },
      ],
      [
        /^SELECT count\(\), sum\(cityHash64\((.*)\)\) FROM (`.*`)\.(`.*`) FORMAT TabSeparated$/,
        (m) => {
          const [db, table] = [idents(m[2]!)[0]!, idents(m[3]!)[0]!];
          const t = this.db(db).get(table);
          if (!t) throw new ChError(60, 'UNKNOWN_TABLE', `Table ${db}.${table} does not exist`, 404);
          const order = idents(m[1]!).map((c) => t.columns.findIndex((x) => x.name === c));
          let sum = 0n;
          for (const r of t.rows) {
            const h = createHash('sha256')
              .update(order.map((i) => r[i]).join('\t'))
              .digest();
            sum = (sum + h.readBigUInt64BE(0)) % 2n ** 64n;
          }
          return `${t.rows.length}\t${sum}\n`;
        },
      ],
      [
        /^SELECT status, error, num_files, total_size FROM system\.backups WHERE id = (.+) FORMAT JSONEachRow$/,
        (m) => {
          const op = this.operations.get(literals(m[1]!)[0]!);
          if (!op) return '';
          const row = {
            status: op.status,
            error: op.error,
            num_files: String(op.numFiles),
            total_size: String(op.totalSize),
          };
          return `${JSON.stringify(row)}\n`;
        },
      ],
      [
        /^DROP TABLE IF EXISTS (`(?:[^`\\]|\\.)*`)\.(`(?:[^`\\]|\\.)*`)$/,
        (m) => {
          this.databases.get(idents(m[1]!)[0]!)?.delete(idents(m[2]!)[0]!);
          return '';
        },
      ],
      [
        /^SELECT length\(data\) FROM s3\((.*), 'RawBLOB', 'data String'\) FORMAT TabSeparated$/,
        (m) => this.readBlob(literals(m[1]!)),
      ],
      [/^BACKUP (.+) TO S3\((.*)\) ASYNC$/, (m) => this.backup(m[1]!, literals(m[2]!))],
      [/^RESTORE (.+) FROM S3\((.*)\) ASYNC$/, (m) => this.restore(m[1]!, literals(m[2]!))],
    ];
  }

  private async run(sql: string): Promise<string> {
    for (const [re, answer] of this.routes()) {
      const m = sql.match(re);
      if (m) return answer(m);
    }
    throw new ChError(
      48,
      'NOT_IMPLEMENTED',
      `the stand-in for ClickHouse 24.8 does not answer: ${sql.slice(0, 60)}`,
    );
  }

  /** `http://host:port/bucket/path` → a store on the mapped host, the bucket, the key prefix. */
  private s3Of(args: string[]): { store: S3Store; bucket: string; prefix: string; name: string } {
    const [url, key, secret] = args as [string, string, string];
    const u = new URL(url);
    const [bucket, ...rest] = u.pathname.slice(1).split('/').map(decodeURIComponent);
    const store = new S3Store({
      endpoint: `${u.protocol}//${this.hosts[u.host] ?? u.host}`,
      region: 'us-east-1',
      accessKeyId: key,
      secretAccessKey: secret,
      timeoutMs: 5_000,
    });
    return { store, bucket: bucket!, prefix: rest.join('/'), name: `S3('${url}', '${key}', '[HIDDEN]')` };
  }

  /** The `s3` table function reading one object as RawBLOB; S3 errors are S3_ERROR. */
  private async readBlob(args: string[]): Promise<string> {
    const s3 = this.s3Of(args);
    const text = await s3.store.getText(s3.bucket, s3.prefix).catch((err: Error) => {
      throw new ChError(499, 'S3_ERROR', err.message.split('\n')[0]!);
    });
    if (text === undefined)
      throw new ChError(499, 'S3_ERROR', `The specified key does not exist: ${s3.prefix}`);
    return `${Buffer.byteLength(text)}\n`;
  }

  private start_(name: string, status: string): Operation {
    const op = { id: randomUUID(), name, status, error: '', numFiles: 0, totalSize: 0 };
    this.operations.set(op.id, op);
    return op;
  }

  private fail(op: Operation, status: string, err: unknown): void {
    op.status = status;
    op.error =
      err instanceof ChError
        ? err.text
        : new ChError(499, 'S3_ERROR', (err as Error).message.split('\n')[0]!).text;
  }

  private backup(what: string, args: string[]): string {
    const dbs = [...what.matchAll(/DATABASE (`(?:[^`\\]|\\.)*`)/g)].map((x) => idents(x[1]!)[0]!);
    for (const d of dbs) this.db(d);
    const s3 = this.s3Of(args);
    const op = this.start_(s3.name, 'CREATING_BACKUP');
    const written: string[] = [];
    // a snapshot of the data as the statement ran
    const snapshot = dbs.map((d) => [d, structuredClone([...this.db(d)])] as const);
    setTimeout(async () => {
      try {
        const root = s3.prefix;
        if (await s3.store.head(s3.bucket, `${root}/.backup`))
          throw new ChError(598, 'BACKUP_ALREADY_EXISTS', `Backup ${s3.name} already exists`);
        await s3.store.putText(s3.bucket, `${root}/.lock`, op.id, 'text/plain');
        written.push(`${root}/.lock`);
        const files: { name: string; text: string }[] = [];
        for (const [d, tables] of snapshot) {
          files.push({ name: `metadata/${d}.sql`, text: `CREATE DATABASE \`${d}\` ENGINE = Atomic` });
          for (const [t, info] of tables) {
            const cols = info.columns.map((c) => `\`${c.name}\` ${c.type}`).join(', ');
            files.push({
              name: `metadata/${d}/${t}.sql`,
              text: `CREATE TABLE \`${d}\`.\`${t}\` (${cols}) ENGINE = ${info.engine}`,
            });
            if (info.rows.length)
              files.push({ name: `data/${d}/${t}/all_1_1_0/data.tsv`, text: rowsText(info.rows) });
          }
        }
        for (const f of files) {
          await s3.store.putText(s3.bucket, `${root}/${f.name}`, f.text, 'application/octet-stream');
          written.push(`${root}/${f.name}`);
        }
        const listing = files
          .map(
            (f) =>
              `<file><name>${f.name}</name><size>${Buffer.byteLength(f.text)}</size><checksum>${createHash('sha256').update(f.text).digest('hex').slice(0, 32)}</checksum></file>`,
          )
          .join('');
        await s3.store.putText(
          s3.bucket,
          `${root}/.backup`,
          `<config><version>1</version><contents>${listing}</contents></config>`,
          'application/xml',
        );
        await s3.store.deleteKeys(s3.bucket, [`${root}/.lock`]);
        op.numFiles = files.length;
        op.totalSize = files.reduce((n, f) => n + Buffer.byteLength(f.text), 0);
        op.status = 'BACKUP_CREATED';
      } catch (err) {
        this.fail(op, 'BACKUP_FAILED', err);
        // a failed backup removes what it wrote (BackupImpl::removeAllFilesAfterFailure)
        await s3.store.deleteKeys(s3.bucket, written).catch(() => {});
      }
    }, this.workDelayMs);
    return `${op.id}\t${op.status}\n`;
  }

  private restore(what: string, args: string[]): string {
    const pairs = [...what.matchAll(/DATABASE (`(?:[^`\\]|\\.)*`)(?: AS (`(?:[^`\\]|\\.)*`))?/g)].map((x) => {
      const from = idents(x[1]!)[0]!;
      return [from, x[2] ? idents(x[2])[0]! : from] as const;
    });
    const s3 = this.s3Of(args);
    const op = this.start_(s3.name, 'RESTORING');
    setTimeout(async () => {
      try {
        const root = s3.prefix;
        const listing = await s3.store.getText(s3.bucket, `${root}/.backup`);
        // (the code number is not checked against ErrorCodes.cpp; no test relies on it)
        if (listing === undefined) throw new ChError(599, 'BACKUP_NOT_FOUND', `Backup ${s3.name} not found`);
        for (const [from, to] of pairs) {
          const names = [...listing.matchAll(/<name>metadata\/([^<]+)\/([^</]+)\.sql<\/name>/g)].filter(
            (x) => x[1] === from,
          );
          // create_database = kCreateIfNotExists (src/Backups/RestoreSettings.h): an existing one is kept
          const tables = this.databases.get(to) ?? new Map<string, StandinTable>();
          for (const [, , t] of names) {
            const create = (await s3.store.getText(s3.bucket, `${root}/metadata/${from}/${t}.sql`))!;
            const [, cols, engine] = create.match(/\((.*)\) ENGINE = (.+)$/)!;
            const columns = splitTop(cols!).map((c) => ({
              name: idents(c)[0]!,
              type: c.slice(c.indexOf('` ') + 2),
            }));
            const data =
              (await s3.store.getText(s3.bucket, `${root}/data/${from}/${t}/all_1_1_0/data.tsv`)) ?? '';
            const rows = data
              .split('\n')
              .filter((l) => l !== '')
              .map((l) =>
                l
                  .split('\t')
                  .map((v) =>
                    v.replace(/\\(.)/g, (_, c: string) => (c === 't' ? '\t' : c === 'n' ? '\n' : c)),
                  ),
              );
            if (tables.has(t!))
              throw new ChError(
                48,
                'NOT_IMPLEMENTED',
                `the stand-in does not restore over an existing table ${to}.${t}`,
              );
            tables.set(t!, { engine: engine!, columns, rows });
          }
          this.databases.set(to, tables);
        }
        op.status = 'RESTORED';
      } catch (err) {
        this.fail(op, 'RESTORE_FAILED', err);
      }
    }, this.workDelayMs);
    return `${op.id}\t${op.status}\n`;
  }
}
