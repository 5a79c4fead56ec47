/**
 * A QoS 1 message is acknowledged only once its handler finished (the agent's
 * handler returns after the task is journaled, issue 4): a connection that
 * dies mid-handler gets the message again from the broker when its persistent
 * session reconnects; a handled one is not sent again.
 */
import test from 'ava';
import { randomUUID } from 'node:crypto';
import { MqttConnection, type Incoming } from '../../src/mqtt/index.js';
import { brokerKinds, startBroker } from '../helpers/brokers.js';
import { Inbox } from '../helpers/mqtt-inbox.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { until } from '../helpers/waiting.js';

for (const kind of brokerKinds()) {
  test.serial(`[${kind}] an unfinished handler means no PUBACK: the broker redelivers after a reconnect; a finished one is not redelivered`, async (t) => {
    const broker = await startBroker(kind);
    const proxy = await new TcpProxy(broker.port).start();
    const clientId = `ack-${randomUUID().slice(0, 8)}`;
    const topic = `test/ack/${clientId}`;
    const sender = await new Inbox(broker.url).start([]);
    const got: string[] = [];
    let first = true;
    const handler = (resolveLater: boolean) => async (m: Incoming) => {
      got.push(m.payload.toString());
      // The first message's handler never finishes, as if the agent died before journaling it.
      if (resolveLater && first) {
        first = false;
        await new Promise(() => {});
      }
    };
    const a = new MqttConnection({ url: proxy.url, clientId, mqttVersion: 5, persistent: true, reconnectMs: 60_000 });
    a.onMessage(handler(true));
    await a.start();
    await a.subscribe([topic]);
    let b: MqttConnection | undefined;
    try {
      await sender.publish(topic, 'journaled-never', { qos: 1 });
      await until(() => got.length === 1, 'the first delivery');
      await proxy.cut();
      await until(() => !a.connected, 'the connection to drop');
      await a.stop();

      const again: string[] = [];
      let barrierSeen: () => void;
      const barrier = new Promise<void>((r) => (barrierSeen = r));
      b = new MqttConnection({ url: broker.url, clientId, mqttVersion: 5, persistent: true });
      b.onMessage(async (m) => {
        again.push(m.payload.toString());
        if (m.payload.toString() === 'barrier') barrierSeen();
      });
      await b.start();
      await sender.publish(topic, 'barrier', { qos: 1 });
      await barrier;
      t.deepEqual(again, ['journaled-never', 'barrier']);

      // Handled this time: after another reconnect only new messages arrive.
      await b.stop();
      const third: string[] = [];
      let doneSeen: () => void;
      const done = new Promise<void>((r) => (doneSeen = r));
      b = new MqttConnection({ url: broker.url, clientId, mqttVersion: 5, persistent: true });
      b.onMessage(async (m) => {
        third.push(m.payload.toString());
        if (m.payload.toString() === 'done') doneSeen();
      });
      await b.start();
      await sender.publish(topic, 'done', { qos: 1 });
      await done;
      t.deepEqual(third, ['done']);
    } finally {
      await b?.stop();
      await sender.stop();
      await proxy.cut();
      await broker.stop();
    }
  });
}
