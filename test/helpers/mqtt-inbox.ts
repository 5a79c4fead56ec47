/**
 * A test MQTT client (through src/mqtt, the one mqtt import) that keeps
 * every message it gets and lets a test wait for the ones it needs.
 */
import type { ExecutionContext } from 'ava';
import { randomUUID } from 'node:crypto';
import { MqttConnection, type Incoming, type PublishOptions } from '../../src/mqtt/index.js';

export const WAIT_MS = 60_000;

export interface Received extends Incoming {
  json: any;
}

export class Inbox {
  readonly messages: Received[] = [];
  private waiters: { match: (m: Received) => boolean; resolve: (m: Received) => void }[] = [];
  readonly connection: MqttConnection;

  constructor(url: string, mqttVersion: 4 | 5 = 4, clientId = `test-${randomUUID().slice(0, 8)}`) {
    this.connection = new MqttConnection({ url, clientId, mqttVersion, reconnectMs: 200 });
    this.connection.onMessage(async (m) => {
      let json: unknown;
      try {
        json = JSON.parse(m.payload.toString('utf8'));
      } catch {
        json = undefined;
      }
      const r = { ...m, json };
      this.messages.push(r);
      this.waiters = this.waiters.filter((w) => (w.match(r) ? (w.resolve(r), false) : true));
    });
  }

  async start(subscriptions: string[]): Promise<this> {
    await this.connection.start();
    if (subscriptions.length) await this.connection.subscribe(subscriptions);
    return this;
  }

  stop(): Promise<void> {
    return this.connection.stop();
  }

  publish(topic: string, payload: string | Buffer | object, o: PublishOptions = {}): Promise<void> {
    const body = typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload);
    return this.connection.publish(topic, body, o);
  }

  /** The first message (already received or still to come) that matches. */
  next(match: (m: Received) => boolean, what = 'a message', timeoutMs = WAIT_MS): Promise<Received> {
    const seen = this.messages.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
      this.waiters.push({ match, resolve: (m) => { clearTimeout(timer); resolve(m); } });
    });
  }

  /** The final reply (result or error) for a task id. */
  final(id: string, timeoutMs = WAIT_MS): Promise<Received> {
    return this.next((m) => m.json?.id === id && (m.json.type === 'result' || m.json.type === 'error'), `the final reply to ${id}`, timeoutMs);
  }

  finals(id: string): Received[] {
    return this.messages.filter((m) => m.json?.id === id && (m.json.type === 'result' || m.json.type === 'error'));
  }

  /**
   * Sends a short task after everything else and waits for its answer. The agent sends from one
   * ordered outbox, so any repeat of an earlier answer has arrived by then.
   */
  async barrier(taskTopic: string, replyTo: string): Promise<void> {
    const id = `barrier-${randomUUID().slice(0, 6)}`;
    await this.publish(taskTopic, { id, prompt: 'x', max_new_tokens: 2, reply_to: replyTo });
    await this.final(id);
  }

  /** Each id got exactly one final reply, and it is ok. */
  expectOneOkFinal(t: ExecutionContext, ids: string[]): void {
    for (const id of ids) {
      const finals = this.finals(id);
      t.is(finals.length, 1, `${id} got ${finals.length} final answers`);
      t.is(finals[0]?.json.status, 'ok', JSON.stringify(finals[0]?.json.error));
    }
  }

  deltas(id: string): Received[] {
    return this.messages.filter((m) => m.json?.id === id && m.json.type === 'delta');
  }
}
