/**
 * The only `aedes` import: an MQTT broker inside the agent so one machine
 * works with no set-up (issue 4). aedes 1.x speaks MQTT 3.1.1, so clients
 * reply through `reply_to`; shared subscriptions are emulated (see
 * shared-subscriptions.ts). Real sites use Mosquitto or a clustered broker.
 */
import { Aedes } from 'aedes';
import { createServer, type Server, type Socket } from 'node:net';
import { ReasondError } from '../core/errors.js';
import { listenError } from '../core/listen.js';
import { parseShared, SharedGroups } from './shared-subscriptions.js';

export interface EmbeddedBrokerOptions {
  host: string;
  port: number;
  log?: (line: string) => void;
}

export class EmbeddedBroker {
  private broker?: Aedes;
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private readonly shared = new SharedGroups();

  constructor(private readonly options: EmbeddedBrokerOptions) {}

  get url(): string {
    return `mqtt://${this.options.host}:${this.options.port}`;
  }

  async start(): Promise<void> {
    const shared = this.shared;
    const broker = await Aedes.createBroker({
      authorizeSubscribe: (client, sub, done) => {
        const s = parseShared(sub.topic);
        if (s && client) {
          shared.join(client.id, s.group, s.filter);
          sub.topic = s.filter;
        }
        done(null, sub);
      },
      authorizeForward: (client, packet) => {
        const p = packet as typeof packet & { brokerId?: string; brokerCounter?: number };
        return shared.allow(client.id, `${p.brokerId}:${p.brokerCounter}`, packet.topic) ? packet : null;
      },
    });
    broker.on('clientDisconnect', (client) => shared.leave(client.id));
    broker.on('unsubscribe', (filters, client) => filters.forEach((f) => client && shared.leave(client.id, parseShared(f)?.filter ?? f)));
    this.broker = broker;
    this.server = createServer((socket) => {
      // Nagle's algorithm held each small reply back ~40 ms behind the client's delayed ACK:
      // 73 ms MQTT overhead per task in the issue-9 benchmark, under 4 ms without it.
      socket.setNoDelay(true);
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      broker.handle(socket);
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', (e: NodeJS.ErrnoException) => {
        const hint = ` (is a broker already running there? then use it with --broker mqtt://${this.options.host}:${this.options.port})`;
        reject(listenError(e, 'the embedded broker', this.options.host, this.options.port, '--embedded-port (embedded_port)', hint));
      });
      this.server!.listen(this.options.port, this.options.host, () => resolve());
    });
    this.options.log?.(`embedded MQTT broker (3.1.1) listening on ${this.url}`);
  }

  async stop(): Promise<void> {
    const server = this.server;
    const broker = this.broker;
    this.server = undefined;
    this.broker = undefined;
    if (server) await new Promise<void>((resolve) => { server.close(() => resolve()); for (const s of this.sockets) s.destroy(); });
    if (broker) await new Promise<void>((resolve) => broker.close(() => resolve()));
  }
}
