/** The outbox sender on real SQLite with a connection that acknowledges or refuses each publish. */
import test from 'ava';
import { join } from 'node:path';
import { OutboxSender } from '../../../src/task/outbox-sender.js';
import { Database, Outbox } from '../../../src/store/index.js';
import { migrations } from '../../../src/agent/migrations.js';
import { tempDir } from '../../helpers/models.js';

class FakeConnection {
  connected = true;
  readonly published: string[] = [];
  inFlight = 0;
  maxInFlight = 0;
  refuse = new Set<string>();
  onConnect(): void {}
  async publish(topic: string): Promise<void> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise((r) => setImmediate(r));
    this.inFlight--;
    if (this.refuse.has(topic)) throw new Error(`no PUBACK for ${topic}`);
    this.published.push(topic);
  }
}

async function setup(window: number) {
  const db = new Database(join(tempDir(), 'reasond.db'), migrations);
  await db.start();
  const outbox = new Outbox(db);
  const connection = new FakeConnection();
  const lines: string[] = [];
  const sender = new OutboxSender(outbox, connection, (l) => lines.push(l), window);
  return { db, outbox, connection, sender, lines };
}

const topics = (n: number) => Array.from({ length: n }, (_, i) => `r/${i}`);

test('the outbox goes out in order, up to a window of publishes in flight, and empties', async (t) => {
  const { db, outbox, connection, sender } = await setup(4);
  for (const topic of topics(10)) await outbox.add({ topic, payload: '{}', created_at: 1 });
  sender.kick();
  await sender.idle();
  t.deepEqual(connection.published, topics(10));
  t.is(connection.maxInFlight, 4);
  t.is(await outbox.size(), 0);
  await db.stop();
});

test('a refused publish keeps it and everything after it in the outbox, and the next flush sends them in order', async (t) => {
  const { db, outbox, connection, sender, lines } = await setup(8);
  for (const topic of topics(6)) await outbox.add({ topic, payload: '{}', created_at: 1 });
  connection.refuse.add('r/2');
  sender.kick();
  await sender.idle();
  // r/3..r/5 reached the broker, but only the acknowledged prefix r/0, r/1 is deleted: nothing is lost
  t.deepEqual(connection.published, topics(6).filter((x) => x !== 'r/2'));
  t.deepEqual((await outbox.oldestRows(10)).map((r) => r.topic), ['r/2', 'r/3', 'r/4', 'r/5']);
  t.deepEqual(lines, ['outbox: r/2 not delivered yet (no PUBACK for r/2); 4 message(s) wait for the broker']);
  connection.refuse.clear();
  connection.published.length = 0;
  sender.kick();
  await sender.idle();
  t.deepEqual(connection.published, ['r/2', 'r/3', 'r/4', 'r/5']);
  t.is(await outbox.size(), 0);
  await db.stop();
});

test('nothing is sent while the connection is down', async (t) => {
  const { db, outbox, connection, sender } = await setup(8);
  connection.connected = false;
  await sender.send({ topic: 'r/0', payload: '{}', created_at: 1 });
  await sender.idle();
  t.deepEqual(connection.published, []);
  t.is(await outbox.size(), 1);
  await db.stop();
});
