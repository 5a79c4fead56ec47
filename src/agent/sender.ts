/**
 * Delivers the outbox in order whenever the broker is reachable: one row at
 * a time, deleted only after the broker acknowledged it (issue 4, item 6).
 */
import { describeError } from '../errors.js';
import type { MqttConnection } from '../mqtt/index.js';
import type { Outbox, OutboxMessage } from '../store/index.js';

export class OutboxSender {
  private flushing?: Promise<void>;
  private again = false;

  constructor(private readonly outbox: Outbox, private readonly connection: MqttConnection, private readonly log: (line: string) => void) {}

  start(): void {
    this.connection.onConnect(() => this.kick());
    this.kick();
  }

  async send(m: OutboxMessage): Promise<void> {
    await this.outbox.add(m);
    this.kick();
  }

  kick(): void {
    if (this.flushing) {
      this.again = true;
      return;
    }
    this.flushing = this.flush().finally(() => {
      this.flushing = undefined;
      if (this.again) {
        this.again = false;
        this.kick();
      }
    });
  }

  /** Waits for the current flush (used on stop, bounded by the caller). */
  async idle(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  pending(): Promise<number> {
    return this.outbox.size();
  }

  private async flush(): Promise<void> {
    while (this.connection.connected) {
      const row = await this.outbox.oldest();
      if (!row) return;
      try {
        const correlationData = row.properties?.correlation_data ? Buffer.from(row.properties.correlation_data, 'base64') : undefined;
        await this.connection.publish(row.topic, row.payload, { qos: 1, correlationData });
        await this.outbox.remove(row.seq);
      } catch (e) {
        this.log(`outbox: ${row.topic} not delivered yet (${describeError(e)}); retrying on reconnect`);
        return;
      }
    }
  }
}
