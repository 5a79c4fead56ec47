/**
 * Asking the board from Home Assistant (issue 20): with ha_discovery the agent announces a text entity
 * (Ask) and an Answer sensor; a question typed into Ask arrives as plain text on its command topic and
 * is answered as an ordinary task on the answer topic the sensor reads. A bad question gets an error
 * there, and the agent goes on serving. On the embedded broker and Mosquitto.
 */
import test from 'ava';
import { randomUUID } from 'node:crypto';
import { Engine } from '../../src/engine/index.js';
import { SharedEngine, startAgent } from '../helpers/agents.js';
import { brokerKinds, freePort, startBroker } from '../helpers/brokers.js';
import { shippedModel } from '../helpers/models.js';
import { Inbox } from '../helpers/mqtt-inbox.js';

const engine = new Engine({ model: shippedModel, threads: 1 });
test.before(async () => {
  await engine.start();
});
test.after.always(async () => {
  await engine.stop();
});

for (const kind of brokerKinds()) {
  test.serial(`[${kind}] a question from Home Assistant's Ask entity is answered on its Answer sensor's topic`, async (t) => {
    const broker = kind === 'mosquitto' ? await startBroker('mosquitto') : undefined;
    const port = broker ? undefined : await freePort();
    const device = `ha-${kind}-${randomUUID().slice(0, 4)}`;
    const agent = await startAgent(new SharedEngine(engine), {
      device, broker: broker?.url, embeddedPort: port, extra: { 'ha-discovery': true, 'embedded-broker': 'aedes', 'default-max-new-tokens': 200 },
    });
    const url = broker?.url ?? `mqtt://127.0.0.1:${port}`;
    const ha = await new Inbox(url).start([`homeassistant/text/reasond_${device}/ask/config`, `homeassistant/sensor/reasond_${device}/answer/config`, `reasond/${device}/ha/answer`]);
    try {
      // Home Assistant reads the entities from the retained discovery configs
      const ask = (await ha.next((m) => m.topic.endsWith('/ask/config'), 'the Ask entity')).json;
      const answer = (await ha.next((m) => m.topic.endsWith('/answer/config'), 'the Answer sensor')).json;
      t.is(ask.command_topic, `reasond/${device}/ha/ask`);
      t.is(answer.state_topic, `reasond/${device}/ha/answer`);
      // what Home Assistant publishes when a user sets the text: the text itself
      await ha.publish(ask.command_topic, 'What is 17 + 25?');
      const r1 = (await ha.next((m) => m.topic === answer.state_topic && m.json?.status === 'ok', 'the answer')).json;
      t.like(r1, { type: 'result', status: 'ok', answer: '42', device });
      t.regex(r1.id, /^ha-\d+-[0-9a-f]{8}$/);
      // an empty question is an error the sensor shows; the agent goes on
      await ha.publish(ask.command_topic, '   ');
      const bad = (await ha.next((m) => m.topic === answer.state_topic && m.json?.status === 'error', 'the error')).json;
      t.deepEqual(bad.error, { code: 'invalid_request', message: 'prompt must NOT have fewer than 1 characters; got ""' });
      await ha.publish(ask.command_topic, 'What is 17 + 25?');
      await ha.next((m) => m.topic === answer.state_topic && m.json?.status === 'ok' && m.json.id !== r1.id, 'a second answer');
      // the two questions were journaled tasks; the empty one was refused before the journal, as any invalid task
      t.deepEqual(await agent.journal.countByState(), { done: 2 });
    } finally {
      await ha.stop();
      await agent.stop();
      await broker?.stop();
    }
  });
}
