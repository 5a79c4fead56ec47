/**
 * Admin requests beside the MQTT reading (issue 16): handle() returns before a slow handler ends (so
 * the PUBACK goes out and the next message is read); a repeated request id runs once, answered
 * from its record; without `background` the handler ends first, as the controller wants.
 */
import test from 'ava';
import type { Incoming } from '../../../src/mqtt/client.js';
import { RequestTable } from '../../../src/mqtt/request-table.js';

function table(background: boolean) {
  const published: { topic: string; reply: any }[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const runs: string[] = [];
  const t = new RequestTable({
    requestPrefix: 'reasond/pi/request/',
    responseTopic: (a) => `reasond/pi/response/${a}`,
    publish: async (topic, payload) => void published.push({ topic, reply: JSON.parse(payload) }),
    handlers: {
      ping: async () => ({ pong: true }),
      'model/rollback': async (body) => {
        runs.push(String(body.id));
        await gate;
        return { rolled_back: true };
      },
      broken: async () => {
        throw new Error('disk on fire');
      },
    },
    log: () => {},
    background,
  });
  const msg = (action: string, body: unknown): Incoming => ({ topic: `reasond/pi/request/${action}`, payload: Buffer.from(JSON.stringify(body)) }) as Incoming;
  return { t, msg, published, runs, release };
}

const tick = () => new Promise((r) => setImmediate(r));

test('in the background, a slow action does not hold up the next message; a repeat of its id runs once and gets the recorded reply', async (t) => {
  const { t: tb, msg, published, runs, release } = table(true);
  await tb.handle(msg('model/rollback', { id: 'r1' })); // returns at once: the rollback waits for its gate
  await tb.handle(msg('ping', { id: 'p1' }));
  await tick();
  t.deepEqual(published.map((p) => p.reply), [{ id: 'p1', status: 'ok', data: { pong: true } }]);
  await tb.handle(msg('model/rollback', { id: 'r1' })); // a broker redelivery while it runs
  release();
  await tick();
  await tick();
  t.deepEqual(runs, ['r1']);
  t.deepEqual(published.map((p) => p.reply.id), ['p1', 'r1']);
  await tb.handle(msg('model/rollback', { id: 'r1' })); // a repeat after it ended: the record, not a second run
  await tick();
  t.deepEqual(runs, ['r1']);
  t.deepEqual(published.at(-1), { topic: 'reasond/pi/response/model/rollback', reply: { id: 'r1', status: 'ok', data: { rolled_back: true } } });
  // a new id runs (the gate is open now)
  await tb.handle(msg('model/rollback', { id: 'r2' }));
  await tick();
  t.deepEqual(runs, ['r1', 'r2']);
});

test('errors keep their codes in the background: bad JSON, an unknown action, a failing handler', async (t) => {
  const { t: tb, published } = table(true);
  await tb.handle({ topic: 'reasond/pi/request/ping', payload: Buffer.from('{nope') } as Incoming);
  await tb.handle({ topic: 'reasond/pi/request/nosuch', payload: Buffer.from('{"id":"x"}') } as Incoming);
  await tb.handle({ topic: 'reasond/pi/request/broken', payload: Buffer.from('{"id":"b"}') } as Incoming);
  await tick();
  t.deepEqual(published.map((p) => [p.reply.id, p.reply.error.code]), [[null, 'invalid_request'], ['x', 'invalid_request'], ['b', 'internal']]);
  t.is(published[2].reply.error.message, 'disk on fire');
});

test('without background, handle() ends with the handler (the controller keeps its order)', async (t) => {
  const { t: tb, msg, published, release } = table(false);
  let ended = false;
  const done = tb.handle(msg('model/rollback', { id: 'r1' })).then(() => (ended = true));
  await tick();
  t.false(ended);
  release();
  await done;
  t.is(published[0].reply.id, 'r1');
});
