/**
 * The operator's side of the controller API (issue 7): one request, one
 * reply matched by id, over the broker (src/mqtt's connection). A reply
 * with status error becomes a ReasondError with the controller's code.
 */
import { randomUUID, type KeyObject } from 'node:crypto';
import { ReasondError, type ErrorCode } from '../core/errors.js';
import { brokerConnection, MqttConnection, type BrokerConfig } from '../mqtt/index.js';
import { controllerTopics } from '../protocol/topics.js';
import { signRequest } from './operator-auth.js';

export type ClientOptions = BrokerConfig & {
  base_topic: string;
  timeoutMs: number;
  /** The operator's Ed25519 private key: every request is signed with it (issue 16). */
  operatorKey?: KeyObject;
};

type Waiter = { resolve: (v: Record<string, any>) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };

export class FleetClient {
  private readonly connection: MqttConnection;
  private readonly waiting = new Map<string, Waiter>();

  constructor(private readonly o: ClientOptions) {
    this.connection = new MqttConnection({
      ...brokerConnection(o), clientId: `reasond-fleet-${randomUUID().slice(0, 8)}`, mqttVersion: 5, reconnectMs: 1000, failFast: true,
    });
  }

  async start(): Promise<void> {
    this.connection.onMessage(async (m) => {
      let reply: Record<string, any>;
      try {
        reply = JSON.parse(m.payload.toString('utf8'));
      } catch {
        return;
      }
      const w = this.waiting.get(String(reply.id));
      if (!w) return; // another operator's reply on the shared response topic
      this.waiting.delete(String(reply.id));
      clearTimeout(w.timer);
      if (reply.status === 'ok') w.resolve(reply.data ?? {});
      else w.reject(new ReasondError((reply.error?.code as ErrorCode) ?? 'internal', reply.error?.message ?? 'the controller gave no reason'));
    });
    // a broker that neither answers nor refuses (a dropped packet, a wrong host) is given the command's timeout
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ReasondError('broker_unreachable', `no connection to the broker at ${this.o.broker} within ${this.o.timeoutMs} ms`)), this.o.timeoutMs);
    });
    try {
      await Promise.race([this.connection.start(), late]);
    } catch (e) {
      await this.connection.stop().catch(() => {});
      throw e;
    } finally {
      clearTimeout(timer);
    }
    await this.connection.subscribe([controllerTopics(this.o.base_topic).responseFilter]);
  }

  stop(): Promise<void> {
    for (const w of this.waiting.values()) clearTimeout(w.timer);
    return this.connection.stop();
  }

  request<T = Record<string, any>>(action: string, body: Record<string, unknown> = {}): Promise<T> {
    const id = `fleet-${randomUUID()}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new ReasondError('deadline_exceeded', `no reply from the controller to ${action} within ${this.o.timeoutMs} ms (is reasond controller running on ${this.o.broker}?)`));
      }, this.o.timeoutMs);
      this.waiting.set(id, { resolve: resolve as (v: Record<string, any>) => void, reject, timer });
      const request = this.o.operatorKey ? signRequest(action, { ...body, id }, this.o.operatorKey, Date.now()) : { ...body, id };
      this.connection.publish(controllerTopics(this.o.base_topic).request(action), JSON.stringify(request), { qos: 1 }).catch((e) => {
        clearTimeout(timer);
        this.waiting.delete(id);
        reject(e);
      });
    });
  }
}
