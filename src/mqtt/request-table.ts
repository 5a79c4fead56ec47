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
}

export class RequestTable {
  constructor(private readonly d: RequestTableDeps) {}

  async handle(m: Incoming): Promise<void> {
    const action = m.topic.slice(this.d.requestPrefix.length);
    let id: unknown = null;
    let reply: Record<string, unknown>;
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
      reply = { id, status: 'ok', data: await handler(body as Record<string, unknown>) };
    } catch (e) {
      const err = isReasondError(e) ? e : new ReasondError('internal', describeError(e));
      reply = { id, status: 'error', error: { code: err.code, message: err.message } };
    }
    // Not awaited: the MQTT client reads no packet (so no PUBACK) until this handler returns.
    void this.d.publish(this.d.responseTopic(action), JSON.stringify(reply), m.correlationData).catch((e) =>
      this.d.log(`admin reply to ${action} not sent: ${describeError(e)}`),
    );
  }
}
