/**
 * The broker stops while tasks run: their results wait in the outbox and
 * arrive, in order and with their original timestamps, once the broker is
 * back; none is lost (issue 4). The agent reaches the broker through a TCP
 * proxy that stays cut until the test's new subscriber is in place on the
 * restarted broker, so the test sees everything the agent delivers.
 */
import test from 'ava';
import { randomUUID } from 'node:crypto';
import { Engine } from '../../src/engine/index.js';
import { SharedEngine, startAgent } from '../helpers/agents.js';
import { brokerKinds, startBroker } from '../helpers/brokers.js';
import { tinyRandom } from '../helpers/models.js';
import { Inbox } from '../helpers/mqtt-inbox.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { until } from '../helpers/waiting.js';

const engine = new Engine({ model: tinyRandom, threads: 1 });
test.before(async () => {
  await engine.start();
});
test.after.always(async () => {
  await engine.stop();
});

for (const kind of brokerKinds()) {
  test.serial(`[${kind}] the broker stops while tasks run: results wait in the outbox and all arrive, in order, after it restarts`, async (t) => {
    let broker = await startBroker(kind);
    const proxy = await new TcpProxy(broker.port).start();
    const shared = new SharedEngine(engine);
    const device = `outbox-${kind}-${randomUUID().slice(0, 6)}`;
    // one task at a time: results are made in the order the tasks came, so arrival order is checkable by id
    // (batched, they finish in any order; the outbox still sends them in the order they were made)
    const agent = await startAgent(shared, { device, broker: proxy.url, extra: { 'max-batch': 1 } });
    let inbox = await new Inbox(broker.url).start(['test/outbox/#']);
    try {
      const ids = Array.from({ length: 4 }, (_, i) => `out-${i}-${randomUUID().slice(0, 6)}`);
      shared.hold();
      for (const id of ids) await inbox.publish(`reasond/${device}/task`, { id, prompt: id, max_new_tokens: 8, temperature: 0, reply_to: 'test/outbox/replies' });
      await until(async () => ((await agent.journal.countByState()).received ?? 0) + ((await agent.journal.countByState()).running ?? 0) === ids.length, 'all tasks journaled');

      await proxy.cut();
      await inbox.stop();
      await broker.stop();
      await until(() => !agent.connected, 'the agent to notice the broker is gone');
      shared.release();
      await until(async () => (await agent.outbox.size()) === ids.length, 'every result in the outbox');
      t.is(inbox.finals(ids[0]).length, 0);
      const cutOffAt = Date.now();

      broker = await startBroker(kind, broker.port);
      inbox = await new Inbox(broker.url).start(['test/outbox/#', `reasond/${device}/status`]);
      await proxy.resume();
      // The restarted broker lost every session: the agent subscribes and announces itself again.
      await inbox.next((m) => m.topic === `reasond/${device}/status` && m.json.state === 'online', 'a new birth message');
      const finals = await Promise.all(ids.map((id) => inbox.final(id)));
      t.true(finals.every((m) => m.json.status === 'ok'));
      // Delivered in the order they were made, each stamped when it was made (before the broker came back).
      const arrival = inbox.messages.filter((m) => ids.includes(m.json?.id)).map((m) => m.json.id);
      t.deepEqual(arrival, ids);
      t.true(finals.every((m) => m.json.created_at <= cutOffAt));
      const stamps = finals.map((m) => m.json.created_at);
      t.deepEqual(stamps, [...stamps].sort((a, b) => a - b));
      await until(async () => (await agent.outbox.size()) === 0, 'an empty outbox');
      const after = `after-${randomUUID().slice(0, 6)}`;
      await inbox.publish(`reasond/${device}/task`, { id: after, prompt: 'x', max_new_tokens: 2, reply_to: 'test/outbox/replies' });
      t.is((await inbox.final(after)).json.status, 'ok', 'subscribed again on the restarted broker');
    } finally {
      shared.release();
      await inbox.stop();
      await agent.stop();
      await proxy.cut();
      await broker.stop();
    }
  });
}
