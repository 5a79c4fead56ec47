/** `GET /metrics` for Prometheus on `metrics_port`; everything else is 404. */
import { listenError } from '../../core/listen.js';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Exposition {
  contentType: string;
  render(): Promise<string>;
}

export class MetricsHttpServer {
  private server: Server | undefined;

  constructor(
    private readonly exposition: Exposition,
    private readonly port: number,
    private readonly host = '0.0.0.0',
  ) {}

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try GET /metrics\n');
        return;
      }
      this.exposition.render().then(
        (body) => res.writeHead(200, { 'content-type': this.exposition.contentType }).end(body),
        (e: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(e)}\n`),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) => reject(listenError(e, 'the Prometheus endpoint', this.host, this.port, '--metrics-port (metrics_port)')));
      server.listen(this.port, this.host, () => resolve());
    });
    this.server = server;
  }

  /** The bound port (useful with port 0 in tests). */
  get boundPort(): number | undefined {
    return (this.server?.address() as AddressInfo | null)?.port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
