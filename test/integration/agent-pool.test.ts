/**
 * Two agents on one pool share its tasks through the broker (MQTT 5 shared
 * subscription on Mosquitto, the embedded broker's emulation of it), and
 * every task is answered exactly once (issue 4).
 */
import test from 'ava';
import { randomUUID } from 'node:crypto';
import type { Agent } from '../../src/agent/index.js';
import { Engine } from '../../src/engine/index.js';
import { SharedEngine, startAgent } from '../helpers/agents.js';
import { brokerKinds, startBroker } from '../helpers/brokers.js';
import { tinyRandom } from '../helpers/models.js';
import { Inbox } from '../helpers/mqtt-inbox.js';

const engine = new Engine({ model: tinyRandom, threads: 1 });
test.before(async () => {
  await engine.start();
});
test.after.always(async () => {
  await engine.stop();
});

for (const kind of brokerKinds()) {
  test.serial(`[${kind}] two agents on one pool split a batch; every task is answered exactly once`, async (t) => {
    const broker = await startBroker(kind);
    const pool = `pool-${randomUUID().slice(0, 6)}`;
    const agents: Agent[] = [];
    const inbox = await new Inbox(broker.url).start(['test/pool/#']);
    try {
      const devices = ['a', 'b'].map((x) => `${pool}-${x}`);
      for (const device of devices) agents.push(await startAgent(new SharedEngine(engine), { device, broker: broker.url, pool }));
      const ids = Array.from({ length: 10 }, (_, i) => `batch-${i}-${randomUUID().slice(0, 6)}`);
      for (const id of ids) await inbox.publish(`reasond/pool/${pool}/task`, { id, prompt: id, max_new_tokens: 8, temperature: 0, reply_to: 'test/pool/replies' });
      const finals = await Promise.all(ids.map((id) => inbox.final(id)));
      // A duplicate from either agent would be published before that agent's answer to a later task.
      const barrier = devices.map((d) => `barrier-${d}`);
      for (const [i, d] of devices.entries()) await inbox.publish(`reasond/${d}/task`, { id: barrier[i], prompt: 'x', max_new_tokens: 2, reply_to: 'test/pool/replies' });
      await Promise.all(barrier.map((id) => inbox.final(id)));

      for (const id of ids) t.is(inbox.finals(id).length, 1, `${id} answered ${inbox.finals(id).length} times`);
      t.true(finals.every((m) => m.json.status === 'ok'));
      const served = new Set(finals.map((m) => m.json.device));
      t.deepEqual([...served].sort(), devices.sort(), 'both agents served tasks of the pool');
    } finally {
      await inbox.stop();
      for (const a of agents) await a.stop();
      await broker.stop();
    }
  });
}
