/**
 * The agent answering tasks over a real broker (issue 4): MQTT 5 and 3.1.1
 * clients, streaming, every bad input, busy and deadlines, repeated ids,
 * admin requests. Each test runs against the embedded broker (the agent's
 * own, as `npm start` runs it) and against Mosquitto.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import type { Agent } from '../../src/agent/index.js';
import { Engine } from '../../src/engine/index.js';
import { SharedEngine, startAgent } from '../helpers/agents.js';
import { brokerKinds, freePort, startBroker, type BrokerKind, type TestBroker } from '../helpers/brokers.js';
import { tinyRandom } from '../helpers/models.js';
import { Inbox } from '../helpers/mqtt-inbox.js';
import { until } from '../helpers/waiting.js';

const engine = new Engine({ model: tinyRandom, threads: 1 });
const cleanups: (() => Promise<void>)[] = [];
test.before(async () => {
  await engine.start();
});
test.after.always(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
  await engine.stop();
});

interface Setup {
  url: string;
  mqtt5: boolean;
  shared: SharedEngine;
  agent: Agent;
  device: string;
  inbox: Inbox;
  replies: string;
}

const setups = new Map<BrokerKind, Promise<Setup>>();
function setup(kind: BrokerKind): Promise<Setup> {
  if (!setups.has(kind)) setups.set(kind, makeSetup(kind));
  return setups.get(kind)!;
}

async function makeSetup(kind: BrokerKind): Promise<Setup> {
  const shared = new SharedEngine(engine);
  const device = `dev-${kind}-${randomUUID().slice(0, 6)}`;
  let broker: TestBroker | undefined;
  let url: string;
  let agent: Agent;
  if (kind === 'embedded') {
    // The agent's own aedes broker, as `npm start` runs it where Mosquitto is not installed (MQTT 3.1.1
    // only); the Mosquitto it runs otherwise is tested in embedded-mosquitto.test.ts and cli-agent.test.ts.
    const port = await freePort();
    agent = await startAgent(shared, { device, embeddedPort: port, extra: { 'max-payload-bytes': 4096, 'max-batch': 1, 'embedded-broker': 'aedes' } });
    url = `mqtt://127.0.0.1:${port}`;
  } else {
    broker = await startBroker(kind);
    url = broker.url;
    agent = await startAgent(shared, { device, broker: url, extra: { 'max-payload-bytes': 4096, 'max-batch': 1 } });
  }
  const replies = `test/replies/${device}`;
  const inbox = await new Inbox(url).start([`${replies}/#`, `reasond/${device}/events`, `reasond/${device}/response/#`, `reasond/${device}/status`]);
  cleanups.push(async () => {
    await inbox.stop();
    await agent.stop();
    await broker?.stop();
  });
  return { url, mqtt5: kind === 'mosquitto', shared, agent, device, inbox, replies };
}

const direct = (prompt: string, max = 16) => engine.generate({ prompt, max_new_tokens: max, temperature: 0 });

for (const kind of brokerKinds()) {
  test.serial(`[${kind}] an MQTT 3.1.1 client gets the engine's answer through reply_to, with numbered deltas that add up`, async (t) => {
    const s = await setup(kind);
    const id = `v4-${randomUUID()}`;
    await s.inbox.publish(`reasond/${s.device}/task`, { id, prompt: 'A train leaves at 9:40 and arrives at 11:15. How long?', max_new_tokens: 16, temperature: 0, stream: true, reply_to: `${s.replies}/v4` });
    const r = (await s.inbox.final(id)).json;
    const want = await direct('A train leaves at 9:40 and arrives at 11:15. How long?');
    t.is(r.status, 'ok');
    t.is(r.answer, want.answer);
    t.is(r.reasoning, want.reasoning);
    t.is(r.finish_reason, want.finish_reason);
    t.deepEqual(r.usage, want.usage);
    t.is(r.device, s.device);
    t.is(r.model.name, 'tiny-random');
    t.true(r.timing.queue_ms >= 0 && r.timing.total_ms >= 0);
    const deltas = s.inbox.deltas(id).map((m) => m.json);
    t.deepEqual(deltas.map((d) => d.seq), deltas.map((_, i) => i));
    t.is(deltas.filter((d) => d.channel === 'answer').map((d) => d.text).join(''), r.answer);
    t.is(deltas.filter((d) => d.channel === 'reasoning').map((d) => d.text).join(''), r.reasoning);
  });

  test.serial(`[${kind}] an MQTT 5 client is answered on its Response Topic with its Correlation Data (3.1.1 brokers: through reply_to)`, async (t) => {
    const s = await setup(kind);
    const client = await new Inbox(s.url, 5).start([`${s.replies}/v5`]);
    try {
      const id = `v5-${randomUUID()}`;
      if (s.mqtt5) {
        t.is(client.connection.protocolVersion, 5);
        await client.publish(`reasond/${s.device}/task`, { id, messages: [{ role: 'user', content: '2+2?' }], max_new_tokens: 12, temperature: 0 }, { responseTopic: `${s.replies}/v5`, correlationData: Buffer.from('corr-42') });
        const m = await client.final(id);
        t.is(m.topic, `${s.replies}/v5`);
        t.is(m.correlationData?.toString(), 'corr-42');
        t.is(m.json.answer, (await engine.generate({ messages: [{ role: 'user', content: '2+2?' }], max_new_tokens: 12, temperature: 0 })).answer);
      } else {
        // aedes refuses MQTT 5; the client falls back to 3.1.1 and uses reply_to (docs/API.md).
        t.is(client.connection.protocolVersion, 4);
        await client.publish(`reasond/${s.device}/task`, { id, prompt: '2+2?', max_new_tokens: 12, temperature: 0, reply_to: `${s.replies}/v5` });
        t.is((await client.final(id)).json.answer, (await direct('2+2?', 12)).answer);
      }
    } finally {
      await client.stop();
    }
  });

  test.serial(`[${kind}] the retained status says online with versions and capabilities`, async (t) => {
    const s = await setup(kind);
    const m = await s.inbox.next((x) => x.topic === `reasond/${s.device}/status`, 'the status message');
    t.is(m.json.state, 'online');
    t.is(m.json.device, s.device);
    t.is(m.json.model.name, 'tiny-random');
    t.regex(m.json.model.sha256, /^[0-9a-f]{64}$/);
    t.is(m.json.capabilities.context_length, 512);
    t.is(m.json.capabilities.mqtt_version, s.mqtt5 ? 5 : 4);
    t.truthy(m.json.agent_version);
  });

  test.serial(`[${kind}] every bad input gets its error code and a message naming field and value; a good task is answered after`, async (t) => {
    const s = await setup(kind);
    const topic = `reasond/${s.device}/task`;
    const reply_to = `${s.replies}/bad`;
    const ask = async (payload: object) => {
      const id = `bad-${randomUUID()}`;
      await s.inbox.publish(topic, { id, reply_to, ...payload });
      return (await s.inbox.final(id)).json;
    };
    const expect = async (payload: object, code: string, ...words: string[]) => {
      const r = await ask(payload);
      t.is(r.status, 'error', JSON.stringify(payload).slice(0, 80));
      t.is(r.error.code, code, r.error.message);
      for (const w of words) t.true(r.error.message.includes(w), `${r.error.message} should name ${w}`);
    };
    await expect({ prompt: 'x', colour: 'blue' }, 'invalid_request', 'colour', '"blue"');
    await expect({ prompt: 'x', max_new_tokens: 'ten' }, 'invalid_request', 'max_new_tokens', '"ten"');
    await expect({ prompt: 'x', max_new_tokens: 100000 }, 'invalid_request', 'max_new_tokens', '100000');
    await expect({ prompt: 'x', max_new_tokens: 0 }, 'invalid_request', 'max_new_tokens', '0');
    await expect({ prompt: 'x', reasoning: { budget_tokens: -1 } }, 'invalid_request', 'reasoning.budget_tokens', '-1');
    await expect({ prompt: 'x', temperature: 'hot' }, 'invalid_request', 'temperature', '"hot"');
    await expect({ prompt: 'x', priority: 99 }, 'invalid_request', 'priority', '99');
    await expect({}, 'invalid_request', 'prompt or messages');
    await expect({ prompt: 'x', messages: [{ role: 'user', content: 'y' }] }, 'invalid_request', 'prompt or messages');
    await expect({ messages: [{ role: 'robot', content: 'y' }] }, 'invalid_request', 'messages.0.role', '"robot"');
    await expect({ prompt: 'x'.repeat(600) }, 'context_overflow', '512');
    await expect({ prompt: 'x'.repeat(5000) }, 'payload_too_large', '4096');

    // No way to reply: not JSON, not an object, or no reply route. The events topic says so.
    const events = `reasond/${s.device}/events`;
    const rejected = async (payload: string | Buffer, ...words: string[]) => {
      const before = s.inbox.messages.filter((m) => m.topic === events).length;
      await s.inbox.publish(topic, payload);
      const m = await s.inbox.next((x) => x.topic === events && s.inbox.messages.filter((y) => y.topic === events).indexOf(x) >= before, `an event for ${payload.toString().slice(0, 30)}`);
      t.is(m.json.type, 'task_rejected');
      t.is(m.json.error.code, 'invalid_request');
      for (const w of words) t.true(m.json.error.message.includes(w), `${m.json.error.message} should name ${w}`);
    };
    await rejected('this is not json', 'not JSON', 'this is not json');
    await rejected('[1,2]', 'JSON object', '[1,2]');
    await rejected(JSON.stringify({ id: 'no-route', prompt: 'x' }), 'reply_to');
    await rejected(JSON.stringify({ id: 'wild', prompt: 'x', reply_to: 'a/#' }), 'reply_to', 'a/#');
    // invalid UTF-8 (a 0xff in reply_to): refused as a whole, never decoded into a topic with U+FFFD in it
    const bad = Buffer.concat([Buffer.from(`{"id":"utf8","prompt":"x","reply_to":"${s.replies}/u`), Buffer.from([0xff]), Buffer.from('"}')]);
    await rejected(bad, `the payload is not valid UTF-8 (byte ${bad.indexOf(0xff)} is 0xff)`);

    if (s.mqtt5) {
      // With a Response Topic even a payload that is not JSON gets a direct answer.
      const client = await new Inbox(s.url, 5).start([`${s.replies}/v5bad`]);
      await client.publish(topic, 'still not json', { responseTopic: `${s.replies}/v5bad`, correlationData: Buffer.from('c1') });
      const m = await client.next((x) => x.json?.type === 'error', 'an error on the response topic');
      t.is(m.json.error.code, 'invalid_request');
      t.is(m.correlationData?.toString(), 'c1');
      await client.stop();
    }

    const ok = await ask({ prompt: 'good', max_new_tokens: 8, temperature: 0 });
    t.is(ok.status, 'ok');
    t.is(ok.answer, (await direct('good', 8)).answer);
  });

  test.serial(`[${kind}] garbage on the task and admin topics does not crash the agent`, async (t) => {
    const s = await setup(kind);
    const garbage: (string | Buffer)[] = [
      Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x80]), '', 'null', '"text"', '{"id":', '['.repeat(5000), '{"id":123,"prompt":"x"}',
      `{"__proto__":{"polluted":true},"id":"proto","prompt":"x","reply_to":"${s.replies}/garbage"}`,
      JSON.stringify({ constructor: { prototype: {} }, id: 'ctor', prompt: 'x', reply_to: `${s.replies}/garbage` }),
      JSON.stringify({ id: 'sys', prompt: 'x', reply_to: '$SYS/broker' }),
      JSON.stringify({ id: 'deep', messages: [{ role: 'user', content: { nested: [1, 2, 3] } }], reply_to: `${s.replies}/garbage` }),
    ];
    for (const g of garbage) {
      await s.inbox.publish(`reasond/${s.device}/task`, g);
      await s.inbox.publish(`reasond/${s.device}/request/ping`, g);
      await s.inbox.publish(`reasond/${s.device}/request/task/cancel`, g);
    }
    const id = `after-garbage-${randomUUID()}`;
    await s.inbox.publish(`reasond/${s.device}/task`, { id, prompt: 'still here?', max_new_tokens: 4, reply_to: `${s.replies}/garbage` });
    t.is((await s.inbox.final(id)).json.status, 'ok');
    t.is(({} as Record<string, unknown>).polluted, undefined);
  });

  test.serial(`[${kind}] a full queue answers busy with retry_after_ms; a task that expired while waiting is answered deadline_exceeded and never run`, async (t) => {
    const s = await setup(kind);
    const shared = new SharedEngine(engine);
    const device = `${s.device}-q`;
    const agent = await startAgent(shared, { device, broker: s.url, extra: { 'queue-max': 2, 'max-batch': 1 } });
    try {
      const reply_to = `${s.replies}/queue`;
      const send = (id: string, extra: object = {}) => s.inbox.publish(`reasond/${device}/task`, { id, prompt: id, max_new_tokens: 8, temperature: 0, reply_to, ...extra });
      const ids = ['runs', 'expires', 'waits', 'refused'].map((x) => `${x}-${randomUUID().slice(0, 6)}`);
      shared.hold();
      await send(ids[0]);
      await send(ids[1], { deadline_ms: 1 });
      await send(ids[2]);
      await send(ids[3]);
      const busy = (await s.inbox.final(ids[3])).json;
      t.is(busy.error.code, 'busy');
      t.true(busy.retry_after_ms > 0);
      shared.release();
      t.is((await s.inbox.final(ids[0])).json.status, 'ok');
      const expired = (await s.inbox.final(ids[1])).json;
      t.is(expired.error.code, 'deadline_exceeded');
      t.is((await s.inbox.final(ids[2])).json.status, 'ok');
      t.deepEqual(shared.calls, [JSON.stringify(ids[0]), JSON.stringify(ids[2])]);
    } finally {
      shared.release();
      await agent.stop();
    }
  });

  test.serial(`[${kind}] with max_batch 3, three tasks run at once and a fourth waits; each answer is the one it gets alone`, async (t) => {
    const s = await setup(kind);
    const prompts = ['Hello', 'What is the capital of a country far away from here?', 'Hi', 'Tell me a story'];
    // alone: the file's max_batch 1 agent, one after another
    const alone: unknown[] = [];
    for (const [i, prompt] of prompts.entries()) {
      const id = `alone-${i}-${randomUUID().slice(0, 6)}`;
      await s.inbox.publish(`reasond/${s.device}/task`, { id, prompt, max_new_tokens: 12 + 4 * i, temperature: 0, reply_to: `${s.replies}/alone` });
      alone.push((await s.inbox.final(id)).json.answer);
    }
    const shared = new SharedEngine(engine);
    const device = `${s.device}-b`;
    const agent = await startAgent(shared, { device, broker: s.url, extra: { 'max-batch': 3 } });
    try {
      shared.hold();
      const ids = prompts.map((_, i) => `batch-${i}-${randomUUID().slice(0, 6)}`);
      for (const [i, prompt] of prompts.entries()) {
        await s.inbox.publish(`reasond/${device}/task`, { id: ids[i], prompt, max_new_tokens: 12 + 4 * i, temperature: 0, reply_to: `${s.replies}/batch` });
      }
      await until(() => agent.runningTasks.length === 3 && agent.queue.size === 1, 'three tasks running and one waiting');
      t.deepEqual(agent.runningTasks, ids.slice(0, 3));
      t.is(agent.maxBatch, 3);
      shared.release();
      const answers = [];
      for (const id of ids) {
        const r = (await s.inbox.final(id)).json;
        t.is(r.status, 'ok');
        answers.push(r.answer);
      }
      t.deepEqual(answers, alone);
    } finally {
      shared.release();
      await agent.stop();
    }
  });

  test.serial(`[${kind}] a repeated task id is answered from the journal without running the engine again`, async (t) => {
    const s = await setup(kind);
    const id = `dup-${randomUUID()}`;
    const task = { id, prompt: 'once', max_new_tokens: 8, temperature: 0 };
    await s.inbox.publish(`reasond/${s.device}/task`, { ...task, reply_to: `${s.replies}/dup1` });
    const first = (await s.inbox.final(id)).json;
    const calls = s.shared.calls.length;
    await s.inbox.publish(`reasond/${s.device}/task`, { ...task, reply_to: `${s.replies}/dup2` });
    const again = await s.inbox.next((m) => m.topic === `${s.replies}/dup2` && m.json?.id === id, 'the replayed answer');
    t.is(again.json.replayed, true);
    t.is(again.json.answer, first.answer);
    t.deepEqual(again.json.usage, first.usage);
    t.is(s.shared.calls.length, calls);
  });

  test.serial(`[${kind}] admin requests: ping and status echo the id, task/cancel cancels a running task, unknown ones say error`, async (t) => {
    const s = await setup(kind);
    const req = async (action: string, body: object) => {
      const id = `req-${randomUUID().slice(0, 8)}`;
      await s.inbox.publish(`reasond/${s.device}/request/${action}`, { id, ...body });
      return (await s.inbox.next((m) => m.topic === `reasond/${s.device}/response/${action}` && m.json?.id === id, `the ${action} response`)).json;
    };
    const ping = await req('ping', {});
    t.is(ping.status, 'ok');
    t.is(ping.data.pong, true);
    const status = await req('status', {});
    t.is(status.status, 'ok');
    t.is(status.data.state, 'online');
    t.is(typeof status.data.queue.waiting, 'number');

    s.shared.hold();
    const taskId = `cancel-${randomUUID()}`;
    await s.inbox.publish(`reasond/${s.device}/task`, { id: taskId, prompt: 'long', max_new_tokens: 400, reply_to: `${s.replies}/cancel` });
    const cancelled = await req('task/cancel', { task_id: taskId });
    s.shared.release();
    t.is(cancelled.status, 'ok');
    t.is(cancelled.data.was, 'running');
    const r = (await s.inbox.final(taskId)).json;
    t.is(r.error.code, 'cancelled');

    const missing = await req('task/cancel', { task_id: 'nope' });
    t.is(missing.status, 'error');
    t.is(missing.error.code, 'invalid_request');
    t.true(missing.error.message.includes('"nope"'));
    const unknown = await req('reboot', {});
    t.is(unknown.status, 'error');
    t.true(unknown.error.message.includes('reboot'));
  });

  if (kind === 'mosquitto') {
    test.serial('[mosquitto] a task whose MQTT 5 Message Expiry passed while it waited is answered deadline_exceeded and not run', async (t) => {
      const s = await setup(kind);
      const client = await new Inbox(s.url, 5).start([`${s.replies}/expiry`]);
      const calls = s.shared.calls.length;
      try {
        s.shared.hold();
        const blocker = `blocker-${randomUUID().slice(0, 6)}`;
        const expiring = `expiring-${randomUUID().slice(0, 6)}`;
        await client.publish(`reasond/${s.device}/task`, { id: blocker, prompt: blocker, max_new_tokens: 4 }, { responseTopic: `${s.replies}/expiry` });
        const sentAt = Date.now();
        await client.publish(`reasond/${s.device}/task`, { id: expiring, prompt: expiring, max_new_tokens: 4 }, { responseTopic: `${s.replies}/expiry`, messageExpiryInterval: 1 });
        await until(() => s.agent.queue.size === 1, 'the expiring task to wait in the queue');
        await until(() => Date.now() > sentAt + 1500, 'the expiry to pass');
        s.shared.release();
        t.is((await client.final(blocker)).json.status, 'ok');
        t.is((await client.final(expiring)).json.error.code, 'deadline_exceeded');
        t.deepEqual(s.shared.calls.slice(calls), [JSON.stringify(blocker)]);
      } finally {
        s.shared.release();
        await client.stop();
      }
    });

    test.serial('[mosquitto] the mosquitto_rr example from docs/API.md is answered from the pool', async (t) => {
      const s = await setup(kind);
      const port = new URL(s.url).port;
      // Asynchronously: the agent answers from this very process.
      const out = await promisify(execFile)('mosquitto_rr', ['-p', port, '-V', 'mqttv5', '-t', 'reasond/pool/default/task', '-e', 'replies/me', '-W', '60', '-m', '{"id":"t1","prompt":"2+2?"}'], { encoding: 'utf8' });
      const r = JSON.parse(out.stdout);
      t.is(r.id, 't1');
      t.is(r.status, 'ok');
      t.is(r.device, s.device);
    });
  }
}
