/**
 * Stand-in for the three GitHub REST endpoints the failure issue uses, recording every request:
 * "List repository issues" GET /repos/{owner}/{repo}/issues (labels, state filters), "Create an
 * issue" POST /repos/{owner}/{repo}/issues, "Create an issue comment" POST
 * /repos/{owner}/{repo}/issues/{n}/comments, and "Update an issue" PATCH .../issues/{n}
 * (docs.github.com/en/rest/issues). @actions/github sends them to $GITHUB_API_URL
 * (actions/toolkit packages/github/src/internal/utils.ts, getApiBaseUrl).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  body: Record<string, unknown>;
}

export class GitHubIssuesStandin {
  readonly requests: RecordedRequest[] = [];
  /** Open issues by number, with their labels. */
  readonly open = new Map<number, string[]>();
  private server?: Server;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      let raw = '';
      req.on('data', (d) => (raw += d));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://x');
        const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
        this.requests.push({ method: req.method ?? '', path: url.pathname, body });
        const send = (status: number, value: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(value));
        };
        const m = /^\/repos\/[^/]+\/[^/]+\/issues(?:\/(\d+))?(\/comments)?$/.exec(url.pathname);
        if (!m) return send(404, { message: 'Not Found' });
        const label = url.searchParams.get('labels');
        if (req.method === 'GET')
          return send(
            200,
            [...this.open].filter(([, l]) => !label || l.includes(label)).map(([number]) => ({ number })),
          );
        if (req.method === 'POST' && !m[1]) {
          const number = this.open.size + 1;
          this.open.set(number, (body.labels as string[]) ?? []);
          return send(201, { number });
        }
        if (req.method === 'POST' && m[2]) return send(201, { id: 1 });
        if (req.method === 'PATCH' && m[1]) {
          if (body.state === 'closed') this.open.delete(Number(m[1]));
          return send(200, { number: Number(m[1]) });
        }
        send(404, { message: 'Not Found' });
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => this.server?.close(() => r()));
  }
}
