/**
 * Messages that must reach the broker (final replies, events), stored before
 * they are sent and deleted once the broker acknowledged them. Sent in
 * insertion order; created_at is when the message was made, not when sent.
 */
import type { Database } from './database.js';

export interface OutboxMessage {
  topic: string;
  payload: string;
  /** MQTT 5 publish properties as JSON-safe values (correlation data in base64). */
  properties?: { correlation_data?: string; retain?: boolean };
  created_at: number;
}

export interface OutboxRow extends OutboxMessage {
  seq: number;
}

export class Outbox {
  constructor(private readonly db: Database) {}

  async add(m: OutboxMessage): Promise<void> {
    await this.db.run('INSERT INTO outbox (topic, payload, properties, created_at) VALUES (?, ?, ?, ?)', [
      m.topic, m.payload, m.properties ? JSON.stringify(m.properties) : null, m.created_at,
    ]);
  }

  /** Up to `limit` messages, oldest first. */
  async oldestRows(limit: number): Promise<OutboxRow[]> {
    const rows = await this.db.all<OutboxRow & { properties: string | null }>('SELECT * FROM outbox ORDER BY seq LIMIT ?', [limit]);
    return rows.map((row) => ({ ...row, properties: row.properties ? JSON.parse(row.properties) : undefined }));
  }

  /** Deletes every message up to and including `seq` (a delivered prefix of the queue). */
  async removeThrough(seq: number): Promise<void> {
    await this.db.run('DELETE FROM outbox WHERE seq <= ?', [seq]);
  }

  async size(): Promise<number> {
    return (await this.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM outbox'))?.n ?? 0;
  }
}
