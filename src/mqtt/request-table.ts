/**
 * Request/response over MQTT: <prefix><action> → <response topic of action>.
 * One handler table; every reply echoes the request id and says status
 * ok|error (the zigbee2mqtt bridge convention, see STYLE.md). The agent's
 * admin actions and the controller's API both run on it.
 */
import { describeError, isReasondError, ReasondError } from '../core/errors.js';
import type { Incoming } from './client.js';

export type RequestHandler = (body: Record<string, unknown>) => Promise<Record<string, unknown>>;

export interface RequestTableDeps {
  requestPrefix: string;
  responseTopic: (action: string) => string;
  publish: (topic: string, payload: string, correlationData?: Buffer) => Promise<void>;
  handlers: Record<string, RequestHandler>;
  log: (line: string) => void;
  /**
   * Run handlers beside the reading of MQTT messages (the agent, issue 16): handle() returns once the
   * request is parsed and recorded, so its PUBACK goes out and pings and tasks keep flowing while a
   * rollback waits for a download; the reply is published when the handler ends. A request id seen
   * before is never run again: while it runs a repeat is dropped (its reply is coming), after it the
   * recorded reply is published again. Off: the handler finishes before the next message is read.
   */
  background?: boolean;
}

/** Request ids remembered for repeats (the most recent ones). */
const REMEMBERED = 256;

export class RequestTable {
  /** action + id → the reply once the handler ended, or undefined while it runs. */
  private readonly seen = new Map<string, Record<string, unknown> | undefined>();

  constructor(private readonly d: RequestTableDeps) {}

  async handle(m: Incoming): Promise<void> {
    const action = m.topic.slice(this.d.requestPrefix.length);
    const parsed = this.parse(action, m);
    if ('reply' in parsed) return this.send(action, parsed.reply, m);
    const { id, handler, body } = parsed;
    const key = id === null || id === undefined ? undefined : `${action}\u0000${JSON.stringify(id)}`;
    if (key !== undefined && this.d.background && this.seen.has(key)) {
      const done = this.seen.get(key);
      if (done) this.send(action, done, m);
      else this.d.log(`admin request ${action} ${JSON.stringify(id)} repeated while it runs: not run again`);
      return;
    }
    const run = async () => {
      let reply: Record<string, unknown>;
      try {
        reply = { id, status: 'ok', data: await handler(body) };
      } catch (e) {
        reply = this.errorReply(id, e);
      }
      if (key !== undefined && this.d.background) this.remember(key, reply);
      this.send(action, reply, m);
    };
    if (!this.d.background) return run();
    if (key !== undefined) this.remember(key, undefined);
    void run();
  }

  private parse(action: string, m: Incoming): { reply: Record<string, unknown> } | { id: unknown; handler: RequestHandler; body: Record<string, unknown> } {
    let id: unknown = null;
    try {
      let body: unknown;
      try {
        body = m.payload.length === 0 ? {} : JSON.parse(m.payload.toString('utf8'));
      } catch {
        throw new ReasondError('invalid_request', `the request is not JSON; got ${JSON.stringify(m.payload.toString('utf8', 0, 60))}`);
      }
      if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new ReasondError('invalid_request', `the request must be a JSON object; got ${JSON.stringify(body)}`);
      id = (body as Record<string, unknown>).id ?? null;
      const handler = Object.hasOwn(this.d.handlers, action) ? this.d.handlers[action] : undefined;
      if (!handler) throw new ReasondError('invalid_request', `unknown action ${JSON.stringify(action)}; known: ${Object.keys(this.d.handlers).join(', ')}`);
      return { id, handler, body: body as Record<string, unknown> };
    } catch (e) {
      return { reply: this.errorReply(id, e) };
    }
  }

  private errorReply(id: unknown, e: unknown): Record<string, unknown> {
    const err = isReasondError(e) ? e : new ReasondError('internal', describeError(e));
    return { id, status: 'error', error: { code: err.code, message: err.message } };
  }

  private remember(key: string, reply: Record<string, unknown> | undefined): void {
    this.seen.delete(key);
    this.seen.set(key, reply);
    while (this.seen.size > REMEMBERED) this.seen.delete(this.seen.keys().next().value!);
  }

  private send(action: string, reply: Record<string, unknown>, m: Incoming): void {
    // Not awaited: the MQTT client reads no packet (so no PUBACK) until handle() returns.
    void this.d.publish(this.d.responseTopic(action), JSON.stringify(reply), m.correlationData).catch((e) =>
      this.d.log(`admin reply to ${action} not sent: ${describeError(e)}`),
    );
  }
}
