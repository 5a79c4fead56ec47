/**
 * `reasond model serve <dir>`: package folders over plain HTTP on the LAN,
 * for sites without a fleet controller. GET and HEAD with Range; `/` lists
 * the packages found up to two levels down as JSON. Nothing here needs
 * trust: the agent verifies every byte against the signed manifest.
 */
import { listenError } from '../core/listen.js';
import { createReadStream, existsSync } from 'node:fs';
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Transform } from 'node:stream';
import { join, relative, sep } from 'node:path';
import { MANIFEST_FILE } from './manifest.js';
import { parseRange } from './range.js';

export interface PackageServerOptions {
  root: string;
  host?: string;
  port?: number;
  log?: (line: string) => void;
  /** Called for each request (tests check the Range header a resumed download sends). */
  onRequest?: (path: string, range: string | undefined) => void;
  /** Caps each response's rate, so serving a fleet does not saturate a site's link; 0 = no cap. */
  bytesPerSecond?: number;
}

/** Paces a stream to a byte rate: each chunk waits for the time its bytes take at that rate. */
function paced(bytesPerSecond: number): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      setTimeout(() => done(null, chunk), Math.ceil((chunk.length * 1000) / bytesPerSecond));
    },
  });
}

export class PackageServer {
  private server?: Server;

  constructor(private readonly o: PackageServerOptions) {}

  get url(): string {
    const a = this.server?.address() as AddressInfo | null;
    if (!a) throw new Error('the package server is not listening');
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address === '0.0.0.0' ? '127.0.0.1' : a.address;
    return `http://${host}:${a.port}/`;
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((e) => {
        this.o.log?.(`serving ${req.url} failed: ${(e as Error).message}`);
        if (!res.headersSent) res.writeHead(500).end();
        else res.destroy();
      });
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', (e: NodeJS.ErrnoException) => reject(listenError(e, 'the package server', this.o.host ?? '127.0.0.1', this.o.port ?? 0, '--package-port (package_port) or --port')));
      this.server!.listen(this.o.port ?? 0, this.o.host ?? '127.0.0.1', resolve);
    });
    return this.url;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { allow: 'GET, HEAD' }).end();
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    this.o.onRequest?.(path, req.headers.range);
    if (path === '/' || path === '/index.json') return this.index(res);
    const root = await realpath(this.o.root);
    const file = await realpath(join(root, path)).catch(() => undefined);
    // realpath resolves symlinks and `..`: anything outside the root is simply not there
    if (!file || (file !== root && !file.startsWith(root + sep))) return void res.writeHead(404).end();
    const st = await stat(file);
    if (!st.isFile()) return void res.writeHead(404).end();
    const range = parseRange(req.headers.range, st.size);
    const headers = { 'accept-ranges': 'bytes', 'content-type': 'application/octet-stream' };
    if (range === 'unsatisfiable') return void res.writeHead(416, { ...headers, 'content-range': `bytes */${st.size}` }).end();
    const [start, end] = range === 'none' ? [0, st.size - 1] : [range.start, range.end];
    res.writeHead(range === 'none' ? 200 : 206, {
      ...headers,
      'content-length': String(Math.max(0, end - start + 1)),
      ...(range === 'none' ? {} : { 'content-range': `bytes ${start}-${end}/${st.size}` }),
    });
    if (req.method === 'HEAD' || st.size === 0) return void res.end();
    const rate = this.o.bytesPerSecond ?? 0;
    const body = createReadStream(file, { start, end, highWaterMark: rate > 0 ? Math.max(1024, Math.min(65536, Math.floor(rate / 10))) : undefined });
    if (rate > 0) body.pipe(paced(rate)).pipe(res);
    else body.pipe(res);
    res.on('close', () => body.destroy());
  }

  private async index(res: ServerResponse): Promise<void> {
    const found: { name: string; version: string; path: string }[] = [];
    const look = async (rel: string, depth: number) => {
      const dir = join(this.o.root, rel);
      if (existsSync(join(dir, MANIFEST_FILE))) {
        const m = JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8').catch(() => '{}'));
        found.push({ name: m.name, version: m.version, path: `/${relative(this.o.root, dir).split(sep).join('/')}${rel ? '/' : ''}` });
      }
      if (depth === 0) return;
      for (const e of await readdir(dir, { withFileTypes: true })) if (e.isDirectory()) await look(rel ? `${rel}/${e.name}` : e.name, depth - 1);
    };
    await look('', 2);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ packages: found }));
  }
}
