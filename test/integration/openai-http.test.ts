/**
 * The agent's OpenAI-compatible endpoint (issue 20): chat completions plain and streamed (SSE) give
 * the engine's answer, with the reasoning apart; models lists the served model; a bearer token is
 * enforced; every bad request gets its status and reasond's error code; a caller that goes away
 * cancels its task; the agent keeps serving.
 */
import test from 'ava';
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import OpenAI from 'openai';
import type { Agent } from '../../src/agent/index.js';
import { OpenAiServer } from '../../src/agent/openai-http.js';
import { Engine } from '../../src/engine/index.js';
import { MqttConnection } from '../../src/mqtt/client.js';
import { SharedEngine, startAgent } from '../helpers/agents.js';
import { freePort, startBroker, type TestBroker } from '../helpers/brokers.js';
import { thinkingCopy, tinyRandom } from '../helpers/models.js';
import { Inbox } from '../helpers/mqtt-inbox.js';
import { until } from '../helpers/waiting.js';

const engine = new Engine({ model: tinyRandom, threads: 1 });
const shared = new SharedEngine(engine);
let broker: TestBroker;
let agent: Agent;
let base = '';
const TOKEN = 'sekret-token';
const auth = { Authorization: `Bearer ${TOKEN}` };

test.before(async () => {
  await engine.start();
  broker = await startBroker('embedded');
  const port = await freePort();
  agent = await startAgent(shared, { device: `http-${randomUUID().slice(0, 6)}`, broker: broker.url, extra: { 'http-port': port, 'http-token': TOKEN, 'max-payload-bytes': 4096 } });
  base = `http://127.0.0.1:${port}/v1`;
});
test.after.always(async () => {
  await agent?.stop();
  await broker?.stop();
  await engine.stop();
});

const post = (body: unknown, headers: Record<string, string> = auth) =>
  fetch(`${base}/chat/completions`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

const messages = [{ role: 'user' as const, content: 'What is 2 + 2?' }];
const want = () => engine.generate({ messages, max_new_tokens: 8, temperature: 0 });

test.serial('chat completions: the engine\'s answer in the OpenAI shape, usage and finish reason', async (t) => {
  const expected = await want();
  const res = await post({ model: 'anything', messages, max_tokens: 8, temperature: 0 });
  t.is(res.status, 200);
  const body = await res.json();
  t.is(body.object, 'chat.completion');
  t.is(body.model, 'tiny-random');
  t.deepEqual(body.choices, [{ index: 0, message: { role: 'assistant', content: expected.answer }, finish_reason: 'length' }]);
  t.deepEqual(body.usage, { prompt_tokens: expected.usage.prompt_tokens, completion_tokens: 8, total_tokens: expected.usage.prompt_tokens + 8 });
});

test.serial('streamed: server-sent chunks whose content adds up to the answer, then usage and [DONE]', async (t) => {
  const expected = await want();
  const res = await post({ messages, max_tokens: 8, temperature: 0, stream: true });
  t.is(res.status, 200);
  t.is(res.headers.get('content-type'), 'text/event-stream');
  const events = (await res.text()).split('\n\n').filter(Boolean).map((e) => e.replace(/^data: /, ''));
  t.is(events.at(-1), '[DONE]');
  const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
  t.deepEqual(chunks[0].choices[0].delta, { role: 'assistant' });
  t.is(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join(''), expected.answer);
  t.is(chunks.at(-2).choices[0].finish_reason, 'length');
  t.deepEqual(chunks.at(-1).usage, { prompt_tokens: expected.usage.prompt_tokens, completion_tokens: 8, total_tokens: expected.usage.prompt_tokens + 8 });
});

test.serial('the official openai npm client: a completion and a stream give the engine\'s answer; a wrong key is its AuthenticationError', async (t) => {
  const expected = await want();
  const client = new OpenAI({ baseURL: base, apiKey: TOKEN, maxRetries: 0 });
  const done = await client.chat.completions.create({ model: 'reasond', messages, max_tokens: 8, temperature: 0 });
  t.is(done.choices[0].message.content, expected.answer);
  t.is(done.choices[0].finish_reason, 'length');
  t.is(done.model, 'tiny-random');
  t.deepEqual(done.usage, { prompt_tokens: expected.usage.prompt_tokens, completion_tokens: 8, total_tokens: expected.usage.prompt_tokens + 8 });
  const stream = await client.chat.completions.create({ model: 'reasond', messages, max_tokens: 8, temperature: 0, stream: true });
  let text = '';
  let finish: string | null = null;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta?.content ?? '';
    finish = chunk.choices[0]?.finish_reason ?? finish;
  }
  t.is(text, expected.answer);
  t.is(finish, 'length');
  const models = await client.models.list();
  t.deepEqual(models.data.map((m) => m.id), ['tiny-random']);
  const wrong = new OpenAI({ baseURL: base, apiKey: 'not-the-token', maxRetries: 0 });
  const e = await t.throwsAsync(wrong.chat.completions.create({ model: 'reasond', messages }));
  t.true(e instanceof OpenAI.AuthenticationError);
  t.is((e as InstanceType<typeof OpenAI.AuthenticationError>).status, 401);
});

test.serial('models lists the served model; without the bearer token everything is 401', async (t) => {
  const models = await fetch(`${base}/models`, { headers: auth });
  t.deepEqual(await models.json(), { object: 'list', data: [{ id: 'tiny-random', object: 'model', created: 0, owned_by: 'reasond' }] });
  for (const headers of [{}, { Authorization: 'Bearer wrong' }] as Record<string, string>[]) {
    const res = await post({ messages }, headers);
    t.is(res.status, 401);
    t.is(res.headers.get('www-authenticate'), 'Bearer');
    t.deepEqual(await res.json(), { error: { message: 'a bearer token is required: Authorization: Bearer <http_token>', type: 'invalid_request', code: 'invalid_request' } });
  }
});

test.serial('bad requests: each its status and code, and the agent keeps serving', async (t) => {
  const cases: [unknown, number, string, string | RegExp][] = [
    ['{not json', 400, 'invalid_request', /^the body is not JSON: /],
    [{ model: 'x' }, 400, 'invalid_request', 'messages must be a non-empty array; got undefined'],
    [{ messages: [{ role: 'user', content: { image: 1 } }] }, 400, 'invalid_request', 'messages[0].content must be a string or text parts; got {"image":1}'],
    [{ messages, n: 2 }, 400, 'invalid_request', 'n is not supported by reasond; got 2'],
    [{ messages, max_tokens: 'ten' }, 400, 'invalid_request', 'max_new_tokens must be integer; got "ten"'],
    [{ messages: [{ role: 'user', content: 'x'.repeat(5000) }] }, 413, 'payload_too_large', 'the body is over 4096 bytes (max_payload_bytes)'],
  ];
  for (const [body, status, code, message] of cases) {
    const res = await post(body);
    t.is(res.status, status, JSON.stringify(body).slice(0, 60));
    const e = (await res.json()).error;
    t.is(e.code, code);
    if (typeof message === 'string') t.is(e.message, message);
    else t.regex(e.message, message);
  }
  t.is((await fetch(`${base}/nope`, { headers: auth })).status, 404);
  t.is((await fetch(`${base}/chat/completions`, { headers: auth })).status, 405);
  t.is((await post({ messages, max_tokens: 8, temperature: 0 })).status, 200);
});

test.serial('a caller that goes away before the answer cancels its task', async (t) => {
  shared.hold(); // the task waits in the engine until released
  const before = shared.calls.length;
  const req = request(`${base}/chat/completions`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...auth } });
  req.on('error', () => {});
  req.end(JSON.stringify({ messages: [{ role: 'user', content: 'a long one' }], max_tokens: 8 }));
  await until(() => shared.calls.length === before + 1 && agent.runningTasks.length === 1, 'the task to start');
  const [id] = agent.runningTasks;
  req.destroy();
  await until(async () => (await agent.journal.get(id))?.error_code === 'cancelled', 'the task to be cancelled');
  shared.release();
  t.pass();
});

/** The endpoint alone on a broker, its task topic watched by the test instead of an agent. */
function endpointOn(url: string, base: string): OpenAiServer {
  return new OpenAiServer({
    host: '127.0.0.1', port: 0, token: '', maxBodyBytes: 4096, timeoutMs: 30_000,
    connection: new MqttConnection({ url, clientId: `http-${randomUUID().slice(0, 6)}`, mqttVersion: 4, reconnectMs: 200 }),
    taskTopic: `${base}/task`, replyTopic: `${base}/http-replies`, cancelTopic: `${base}/request/task/cancel`,
    modelName: () => 'stub', log: () => {},
  });
}

test.serial('a request sent as soon as the endpoint has started is taken and answered; with its broker away it is refused with 503 and a retry', async (t) => {
  const base = `reasond/test-${randomUUID().slice(0, 6)}`;
  const watcher = await new Inbox(broker.url).start([`${base}/task`]);
  const server = endpointOn(broker.url, base);
  // an agent found the broker, so the endpoint waits for its own connection and reply subscription
  await server.start(15_000);
  try {
    t.true(server.accepting);
    const response = fetch(`${server.url}chat/completions`, { method: 'POST', body: JSON.stringify({ messages, max_tokens: 8 }) });
    const task = (await watcher.next((m) => m.topic === `${base}/task`, 'the task')).json as { id: string; reply_to: string };
    t.is(task.reply_to, `${base}/http-replies`);
    // answered at once: the reply topic was subscribed before the task went out
    await watcher.publish(task.reply_to, { id: task.id, type: 'result', answer: 'four', finish_reason: 'stop', usage: { prompt_tokens: 5, completion_tokens: 2 } }, { qos: 1 });
    const res = await response;
    t.is(res.status, 200);
    const body = await res.json();
    t.deepEqual(body.choices[0].message, { role: 'assistant', content: 'four' });
    t.deepEqual(body.usage, { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 });
  } finally {
    await server.stop();
    await watcher.stop();
  }

  const away = endpointOn(`mqtt://127.0.0.1:${await freePort()}`, base);
  await away.start(0);
  try {
    t.false(away.accepting);
    const res = await fetch(`${away.url}chat/completions`, { method: 'POST', body: JSON.stringify({ messages, max_tokens: 8 }) });
    t.is(res.status, 503);
    t.is(res.headers.get('retry-after'), '5');
    t.deepEqual((await res.json()).error, { message: 'the agent has no broker connection just now; retry shortly', type: 'model_unavailable', code: 'model_unavailable' });
  } finally {
    await away.stop();
  }
});

test.serial('a reasoning model: the thinking comes as reasoning_content, plain and streamed', async (t) => {
  const thinker = new Engine({ model: thinkingCopy(), threads: 1 });
  await thinker.start();
  const port = await freePort();
  const a = await startAgent(new SharedEngine(thinker), { device: `think-${randomUUID().slice(0, 6)}`, broker: broker.url, extra: { 'http-port': port } });
  try {
    const expected = await thinker.generate({ messages, max_new_tokens: 8, temperature: 0 });
    t.true(expected.reasoning.length > 0, 'the fixture reasons');
    const url = `http://127.0.0.1:${port}/v1/chat/completions`;
    const plain = await (await fetch(url, { method: 'POST', body: JSON.stringify({ messages, max_tokens: 8, temperature: 0 }) })).json();
    t.deepEqual(plain.choices[0].message, { role: 'assistant', content: expected.answer, reasoning_content: expected.reasoning });
    const text = await (await fetch(url, { method: 'POST', body: JSON.stringify({ messages, max_tokens: 8, temperature: 0, stream: true }) })).text();
    const chunks = text.split('\n\n').filter((e) => e && e !== 'data: [DONE]').map((e) => JSON.parse(e.replace(/^data: /, '')));
    t.is(chunks.map((c) => c.choices[0]?.delta?.reasoning_content ?? '').join(''), expected.reasoning);
    t.is(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join(''), expected.answer);
  } finally {
    await a.stop();
    await thinker.stop();
  }
});
