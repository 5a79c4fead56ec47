/** The journal and outbox on real SQLite in a temp dir. */
import test from 'ava';
import { join } from 'node:path';
import { Database, Outbox } from '../../../src/store/index.js';
import { Journal } from '../../../src/task/index.js';
import { migrations } from '../../../src/agent/migrations.js';
import { tempDir } from '../../helpers/models.js';

async function open(dir = tempDir()) {
  const db = new Database(join(dir, 'reasond.db'), migrations);
  await db.start();
  return { db, dir, journal: new Journal(db), outbox: new Outbox(db) };
}

const reply = (topic: string, at: number) => ({ topic, payload: `{"at":${at}}`, created_at: at });

test('a task id is journaled once; finishing it queues its reply in the outbox in the same step', async (t) => {
  const { db, journal, outbox } = await open();
  const entry = { id: 't1', request: '{}', route: '{"topic":"r"}', priority: 0, received_at: 1, deadline_at: null };
  t.true(await journal.receive(entry));
  t.false(await journal.receive(entry));
  await journal.running('t1', 2);
  t.deepEqual(await journal.unfinished().then((r) => r.map((x) => [x.id, x.state, x.attempts])), [['t1', 'running', 1]]);
  await journal.finish('t1', { state: 'done', at: 3, result: '{"ok":1}', reply: reply('r', 3) });
  t.is((await journal.get('t1'))?.result, '{"ok":1}');
  t.deepEqual(await journal.unfinished(), []);
  const [row] = await outbox.oldestRows(10);
  t.is(row?.topic, 'r');
  t.is(row?.created_at, 3);
  await outbox.removeThrough(row!.seq);
  t.is(await outbox.size(), 0);
  await db.stop();
});

test('the outbox hands messages out in insertion order, correlation data intact', async (t) => {
  const { db, outbox } = await open();
  await outbox.add(reply('a', 5));
  await outbox.add({ ...reply('b', 4), properties: { correlation_data: Buffer.from('x').toString('base64') } });
  const [first, next] = await outbox.oldestRows(10);
  t.is(first.topic, 'a');
  t.is(next.topic, 'b');
  await outbox.removeThrough(first.seq);
  const rest = await outbox.oldestRows(10);
  t.deepEqual(rest.map((r) => r.topic), ['b']);
  const second = rest[0];
  t.is(Buffer.from(second.properties!.correlation_data!, 'base64').toString(), 'x');
  await db.stop();
});

test('prune forgets finished tasks older than the cut-off, never unfinished ones', async (t) => {
  const { db, journal } = await open();
  for (const [id, at] of [['old', 100], ['new', 900]] as const) {
    await journal.receive({ id, request: '{}', route: '{}', priority: 0, received_at: at, deadline_at: null });
    await journal.finish(id, { state: 'done', at, result: '{}', reply: reply('r', at) });
  }
  await journal.receive({ id: 'waiting', request: '{}', route: '{}', priority: 0, received_at: 0, deadline_at: null });
  t.is(await journal.prune(500), 1);
  t.deepEqual(await journal.countByState(), { done: 1, received: 1 });
  await db.stop();
});

test('migrations run once: reopening keeps the data and the schema version', async (t) => {
  const first = await open();
  await first.journal.receive({ id: 'kept', request: '{}', route: '{}', priority: 0, received_at: 0, deadline_at: null });
  await first.db.stop();
  const again = await open(first.dir);
  t.truthy(await again.journal.get('kept'));
  const v = await again.db.get<{ v: number }>('SELECT MAX(version) AS v FROM schema_migrations');
  t.is(v?.v, migrations.length);
  t.is((await again.db.get<{ journal_mode: string }>('PRAGMA journal_mode'))?.journal_mode, 'wal');
  await again.db.stop();
});

test('the journal commits durably by default (synchronous FULL: an acknowledged task survives a power cut); normal is the opt-out', async (t) => {
  const full = await open();
  t.deepEqual(await full.db.all('PRAGMA synchronous'), [{ synchronous: 2 }]);
  t.deepEqual(await full.db.all('PRAGMA journal_mode'), [{ journal_mode: 'wal' }]);
  await full.db.stop();
  const normal = new Database(join(tempDir(), 'reasond.db'), migrations, 'NORMAL');
  await normal.start();
  t.deepEqual(await normal.all('PRAGMA synchronous'), [{ synchronous: 1 }]);
  await normal.stop();
});

/**
 * A transaction that inserts a reply, stays open until release(), then fails and rolls back; `inserted`
 * resolves after the INSERT. What a statement from outside sees or keeps tells whether it ran inside.
 */
function failingTransaction(db: Database, outbox: Outbox) {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let insertedNow!: () => void;
  const inserted = new Promise<void>((r) => (insertedNow = r));
  const tx = db.transaction(async () => {
    await outbox.add(reply('rolled-back', 1));
    insertedNow();
    await held;
    throw new Error('the step failed');
  });
  return { tx, inserted, release };
}

test('a statement issued while a transaction is open never reads its uncommitted rows', async (t) => {
  // the outbox sender read a reply the journal had inserted but not yet committed, and published it; a
  // crash before the COMMIT then ran the task again and answered it twice (crash-points test)
  const { db, outbox } = await open();
  const { tx, inserted, release } = failingTransaction(db, outbox);
  await inserted;
  const read = outbox.oldestRows(10);
  release();
  await t.throwsAsync(tx, { message: 'the step failed' });
  t.deepEqual((await read).map((r) => r.topic), [], 'the read ran after the rollback, not inside the transaction');
  await db.stop();
});

test('a statement issued while a transaction is open is not rolled back with it', async (t) => {
  const { db, outbox } = await open();
  const { tx, inserted, release } = failingTransaction(db, outbox);
  await inserted;
  const outside = outbox.add(reply('kept', 2));
  release();
  await t.throwsAsync(tx, { message: 'the step failed' });
  await outside;
  t.deepEqual((await outbox.oldestRows(10)).map((r) => r.topic), ['kept']);
  await db.stop();
});
