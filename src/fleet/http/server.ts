/**
 * The dashboard (issue 7): one page, rendered here with its tables (issue 20),
 * uPlot (a small, well-kept time-series chart library, served from
 * node_modules) and read-only JSON for the page and other tools.
 * Nothing here changes state: rollouts and uploads go through the MQTT API,
 * where the broker's ACLs decide who may ask.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { createRequire } from 'node:module';
import { describeError, isReasondError } from '../../core/errors.js';
import { listenError } from '../../core/listen.js';
import { EVENTS_LIMIT, EVENTS_SINCE_MS, fleetApi, type ApiDeps } from '../api.js';
import { dashboardPage } from './page.js';
import { dashboardData } from './render.js';

const require = createRequire(import.meta.url);
const assets: Record<string, { file: string; type: string }> = {
  '/assets/uPlot.iife.min.js': { file: require.resolve('uplot/dist/uPlot.iife.min.js'), type: 'text/javascript' },
  '/assets/uPlot.min.css': { file: require.resolve('uplot/dist/uPlot.min.css'), type: 'text/css' },
};

/** Sent with every response: no sniffing, no framing (clickjacking), no referrer leaving the page. */
export const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'content-security-policy': "frame-ancestors 'none'; object-src 'none'; base-uri 'none'",
  'referrer-policy': 'no-referrer',
};

export interface DashboardOptions {
  host: string;
  port: number;
  api: ApiDeps;
  log: (line: string) => void;
}

export class DashboardServer {
  private server?: Server;

  constructor(private readonly o: DashboardOptions) {}

  /** Where it listens, truthfully: an address open to every interface says so. */
  get url(): string {
    const a = this.server?.address() as AddressInfo | null;
    if (!a) return '(not listening)';
    if (a.address === '0.0.0.0' || a.address === '::') return `http://${hostname()}:${a.port}/ (every interface, ${a.address}: anyone on the network can read it)`;
    return `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}/`;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((e) => {
        const status = isReasondError(e) && e.code === 'invalid_request' ? 404 : 500;
        if (status === 500) this.o.log(`dashboard ${req.url}: ${describeError(e)}`);
        if (!res.headersSent) res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: describeError(e) } }));
      });
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', (e: NodeJS.ErrnoException) => reject(listenError(e, 'the dashboard', this.o.host, this.o.port, '--http-port (http_port)')));
      this.server!.listen(this.o.port, this.o.host, resolve);
    });
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    if (req.method !== 'GET') return void res.writeHead(405, { allow: 'GET' }).end();
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    const api = fleetApi(this.o.api);
    const json = (body: unknown) => void res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
    // rendered per request from the API's own answers (issue 20): the tables are in the HTML
    if (path === '/' || path === '/index.html') {
      const html = dashboardPage(await dashboardData(api));
      return void res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(html);
    }
    const asset = assets[path];
    if (asset) return void res.writeHead(200, { 'content-type': asset.type, 'cache-control': 'max-age=3600' }).end(await readFile(asset.file));
    if (path === '/api/status') return json(await api.status());
    if (path === '/api/rollouts') return json(await api.rollouts());
    if (path === '/api/jobs') return json(await api.jobs(url.searchParams.get('device') || undefined));
    if (path === '/api/packages') return json(await api.packages());
    if (path === '/api/events') {
      const since = Number(url.searchParams.get('since_ms') ?? EVENTS_SINCE_MS);
      const limit = Number(url.searchParams.get('limit') ?? EVENTS_LIMIT);
      return json(await api.events(since > 0 ? since : EVENTS_SINCE_MS, Number.isInteger(limit) && limit > 0 ? Math.min(limit, 500) : EVENTS_LIMIT));
    }
    let m = /^\/api\/rollouts\/([^/]+)$/.exec(path);
    if (m) return json(await api.rollout(decodeURIComponent(m[1])));
    m = /^\/api\/devices\/([^/]+)\/history$/.exec(path);
    if (m) {
      const since = Number(url.searchParams.get('since_ms') ?? 86_400_000);
      return json(await api.history(decodeURIComponent(m[1]), since > 0 ? since : 86_400_000, Number(url.searchParams.get('points') ?? 300)));
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `no ${path}` } }));
  }
}
