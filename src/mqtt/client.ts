/**
 * The only `mqtt` import: a broker connection with our own small interface.
 * Incoming QoS 1 messages are acknowledged only after the handler resolved
 * (the agent journals a task before its PUBACK, issue 4). A broker that
 * refuses MQTT 5 (aedes, old brokers) is retried once with 3.1.1.
 */
import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type IClientPublishOptions, type MqttClient } from 'mqtt';
import { ReasondError } from '../core/errors.js';

export interface Incoming {
  topic: string;
  payload: Buffer;
  qos: number;
  /** MQTT 5 only. */
  responseTopic?: string;
  correlationData?: Buffer;
  /** Seconds left, as the broker forwarded it (MQTT 5 Message Expiry). */
  messageExpiryInterval?: number;
  /** The broker sends this copy again: an earlier one got no PUBACK (the DUP flag). */
  dup?: boolean;
}

export interface PublishOptions {
  qos?: 0 | 1;
  retain?: boolean;
  responseTopic?: string;
  correlationData?: Buffer;
  messageExpiryInterval?: number;
}

export interface ConnectionOptions {
  url: string;
  clientId: string;
  mqttVersion: 4 | 5;
  /** Persistent session: the broker keeps unacknowledged tasks while we are away. */
  persistent?: boolean;
  will?: { topic: string; payload: string; retain: boolean; qos: 0 | 1 };
  ca?: string;
  cert?: string;
  key?: string;
  username?: string;
  password?: string;
  keepaliveMs?: number;
  reconnectMs?: number;
  log?: (line: string) => void;
  /**
   * A client command (ask, fleet): start() fails with broker_unreachable on the first error before a
   * connection (refused, unknown host, TLS), naming its cause, instead of retrying; the daemons retry.
   */
  failFast?: boolean;
}

type Handler = (m: Incoming) => Promise<void>;

export class MqttConnection {
  private client?: MqttClient;
  private version: 4 | 5;
  private handler: Handler = async () => {};
  private readonly connectListeners: (() => void)[] = [];
  private readonly offlineListeners: (() => void)[] = [];
  private everConnected = false;

  constructor(private readonly options: ConnectionOptions) {
    this.version = options.mqttVersion;
  }

  get connected(): boolean {
    return this.client?.connected === true;
  }

  get protocolVersion(): 4 | 5 {
    return this.version;
  }

  onMessage(handler: Handler): void {
    this.handler = handler;
  }

  /** Called on every (re)connect, after the CONNACK; sessionPresent tells whether subscriptions survived. */
  onConnect(listener: () => void): void {
    this.connectListeners.push(listener);
  }

  onOffline(listener: () => void): void {
    this.offlineListeners.push(listener);
  }

  /** Resolves on the first connection or rejects if the broker refuses us (bad credentials, protocol). */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      const open = () => {
        const client = mqtt.connect(this.options.url, this.clientOptions());
        this.client = client;
        client.handleMessage = (packet, done) => {
          const props = packet.properties ?? {};
          this.handler({
            topic: packet.topic,
            payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload),
            qos: packet.qos,
            responseTopic: props.responseTopic,
            correlationData: props.correlationData,
            messageExpiryInterval: props.messageExpiryInterval,
            dup: packet.dup === true,
          }).then(() => done(), (e) => {
            this.options.log?.(`message on ${packet.topic} not handled: ${(e as Error).message}`);
            done();
          });
        };
        client.on('connect', () => {
          // see embedded-broker.ts: small MQTT packets must not wait for Nagle (issue 9)
          (client.stream as { setNoDelay?: (on: boolean) => void } | undefined)?.setNoDelay?.(true);
          this.everConnected = true;
          resolve();
          for (const l of this.connectListeners) l();
        });
        client.on('offline', () => this.offlineListeners.forEach((l) => l()));
        client.on('error', (e: Error & { code?: number }) => {
          if (!this.everConnected && this.version === 5 && (e.code === 1 || e.code === 132)) {
            this.options.log?.('the broker refused MQTT 5; using MQTT 3.1.1');
            this.version = 4;
            client.removeAllListeners();
            client.end(true);
            open();
            return;
          }
          this.options.log?.(`mqtt: ${e.message}`);
          if (!this.everConnected && this.options.failFast) {
            client.end(true);
            reject(new ReasondError('broker_unreachable', `cannot reach the broker at ${this.options.url}: ${e.message}`));
            return;
          }
          // Refusals that retrying will not fix: fail start() instead of looping.
          if (!this.everConnected && e.code !== undefined && [4, 5, 134, 135].includes(e.code)) {
            client.end(true);
            reject(new ReasondError('internal', `the broker ${this.options.url} refused the connection: ${e.message}`));
          }
        });
      };
      open();
    });
  }

  async stop(): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.client = undefined;
    // Without a connection a graceful end would wait for nothing.
    await client.endAsync(!client.connected);
  }

  async subscribe(filters: string[]): Promise<void> {
    if (!this.client) throw new ReasondError('internal', 'not connected');
    await this.client.subscribeAsync(filters, { qos: 1 });
  }

  async unsubscribe(filters: string[]): Promise<void> {
    await this.client?.unsubscribeAsync(filters);
  }

  async publish(topic: string, payload: string | Buffer, o: PublishOptions = {}): Promise<void> {
    if (!this.client) throw new ReasondError('internal', 'not connected');
    const options: IClientPublishOptions = { qos: o.qos ?? 1, retain: o.retain ?? false };
    if (this.version === 5) {
      const properties: NonNullable<IClientPublishOptions['properties']> = {};
      if (o.responseTopic) properties.responseTopic = o.responseTopic;
      if (o.correlationData) properties.correlationData = o.correlationData;
      if (o.messageExpiryInterval !== undefined) properties.messageExpiryInterval = o.messageExpiryInterval;
      options.properties = properties;
    }
    await this.client.publishAsync(topic, payload, options);
  }

  private clientOptions(): IClientOptions {
    const o = this.options;
    const read = (path?: string) => (path ? readFileSync(path) : undefined);
    return {
      clientId: o.clientId,
      protocolVersion: this.version,
      clean: !o.persistent,
      // MQTT 5 ends a session at disconnect unless it has an expiry. Five minutes covers a restart
      // or a Pi's reboot; longer would park a pool's tasks with a board that is gone for good.
      properties: this.version === 5 && o.persistent ? { sessionExpiryInterval: 300 } : undefined,
      keepalive: Math.round((o.keepaliveMs ?? 30000) / 1000),
      reconnectPeriod: o.reconnectMs ?? 2000,
      connectTimeout: 10000,
      resubscribe: false,
      will: o.will,
      username: o.username || undefined,
      password: o.password || undefined,
      ca: read(o.ca),
      cert: read(o.cert),
      key: read(o.key),
    };
  }
}
