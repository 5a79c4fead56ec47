/**
 * Delivers the outbox in order whenever the broker is reachable; a message is
 * deleted only after the broker acknowledged it (issue 4, item 6). Up to
 * `window` messages are published back to back before their PUBACKs are
 * awaited: one connection keeps them in order, and waiting a round trip per
 * message capped the pipeline at ~700 tasks/s (docs/BENCHMARKS.md).
 */
import { describeError } from '../core/errors.js';
import type { MqttConnection } from '../mqtt/index.js';
import type { Outbox, OutboxMessage } from '../store/index.js';

export class OutboxSender {
  private flushing?: Promise<void>;
  private again = false;

  constructor(
    private readonly outbox: Outbox,
    private readonly connection: Pick<MqttConnection, 'connected' | 'publish' | 'onConnect'>,
    private readonly log: (line: string) => void,
    private readonly window = 64,
  ) {}

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
      const rows = await this.outbox.oldestRows(this.window);
      if (!rows.length) return;
      const sent = await Promise.allSettled(rows.map((row) => {
        const correlationData = row.properties?.correlation_data ? Buffer.from(row.properties.correlation_data, 'base64') : undefined;
        return this.connection.publish(row.topic, row.payload, { qos: 1, correlationData, retain: row.properties?.retain });
      }));
      // Only the acknowledged prefix is deleted: from the first failure on, everything is sent again
      // (QoS 1 is at least once), so nothing is lost and the order of first delivery holds.
      const failed = sent.findIndex((s) => s.status === 'rejected');
      const delivered = failed < 0 ? rows.length : failed;
      if (delivered > 0) await this.outbox.removeThrough(rows[delivered - 1].seq);
      if (failed >= 0) {
        const why = (sent[failed] as PromiseRejectedResult).reason;
        this.log(`outbox: ${rows[failed].topic} not delivered yet (${describeError(why)}); ${rows.length - delivered} message(s) wait for the broker`);
        return;
      }
    }
  }
}
